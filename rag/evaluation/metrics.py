"""Pure metric functions: plain values in, numbers out, no models.

Per question (:func:`retrieval_metrics`, :func:`answer_metrics`,
:func:`citation_counts`, gathered by :func:`score_question`) and over a run
(:func:`summarise`, pure over stored :class:`~rag.evaluation.results.QuestionResult`
records, so an old run can be re-summarised). They are unit-tested with
hand-computed numbers and can be reused on another system's outputs, the way
Ragas keeps metrics apart from the harness that calls models. A new metric is
one function here, called from :func:`score_question` and averaged in
:func:`summarise`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from rag.evaluation.answer_metrics import (
    contains_reference,
    exact_match,
    key_fact_recall,
    required_fact_recall,
    token_f1,
    token_recall,
)
from rag.evaluation.gold import GoldSpan, overlaps

if TYPE_CHECKING:
    from rag.evaluation.questions import EvalQuestion
    from rag.evaluation.results import QuestionResult
    from rag.types import Chunk

METRICS_K = 10
"""Retrieval depth for the ranking metrics; the answer still uses ``retrieval.top_k``."""
HIT_KS = (1, 3, 5, 10)
CORRECT_FACT_RECALL = 0.5
"""An answer is correct when it states at least this share of the reference's key facts."""
STAGES = ("retrieve", "generate", "verify", "total")


# --- retrieval ranking ------------------------------------------------------------


def hit_at_k(relevant: Sequence[bool], k: int) -> float:
    """1.0 if any of the first ``k`` ranked items is relevant."""
    return 1.0 if any(relevant[:k]) else 0.0


def recall_at_k(covers: Sequence[Iterable[int]], n_items: int, k: int) -> float:
    """Share of the ``n_items`` gold evidence items covered by the first ``k`` results.

    ``covers[i]`` are the evidence indexes the i-th result overlaps. Counting
    evidence items rather than chunks is what makes a comparison question
    (two documents) score 0.5 when only one side was retrieved.
    """
    if n_items <= 0:
        return 0.0
    covered = {i for item in covers[:k] for i in item}
    return len(covered) / n_items


def reciprocal_rank(relevant: Sequence[bool]) -> float:
    """1 / rank of the first relevant item (0.0 when none is)."""
    for rank, flag in enumerate(relevant, start=1):
        if flag:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(relevant: Sequence[bool], n_relevant: int, k: int) -> float:
    """Binary-gain nDCG@k; the ideal ranking puts ``min(n_relevant, k)`` relevant items first.

    ``n_relevant`` is the number of relevant items in the whole index, not
    just among those retrieved, so missing ones lower the score.
    """
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    if ideal == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, flag in enumerate(relevant[:k], start=1) if flag)
    return min(1.0, dcg / ideal)


def abstention_scores(abstained: Sequence[bool], unanswerable: Sequence[bool]) -> dict[str, float]:
    """Abstaining treated as a classifier for "this question is unanswerable".

    precision: share of abstentions that were on unanswerable questions;
    recall: share of unanswerable questions that were abstained on;
    wrong_rate: share of answerable questions abstained on (lost answers).
    Precision is 1.0 when nothing was abstained on (no false alarms), recall
    1.0 when there is no unanswerable question, so an empty side is not a failure.
    """
    pairs = list(zip(abstained, unanswerable, strict=True))
    tp = sum(a and u for a, u in pairs)
    fp = sum(a and not u for a, u in pairs)
    fn = sum(u and not a for a, u in pairs)
    answerable = sum(not u for _, u in pairs)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "wrong_rate": fp / answerable if answerable else 0.0,
        "rate": (tp + fp) / len(pairs) if pairs else 0.0,
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default); NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float:
    """Mean of the values that are not None (NaN when there are none)."""
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def is_correct(
    unanswerable: bool,
    abstained: bool,
    fact_recall: float | None,
    reference_token_recall: float | None,
    required_recall: float | None = None,
) -> bool:
    """The per-question pass/fail that ``--compare`` reports flips of.

    Unanswerable: correct iff abstained. Answerable: correct iff not abstained
    and, when the question lists its key facts, all of them are stated;
    otherwise at least half the reference's key facts (or, for a reference
    without facts, half of its words).
    """
    if unanswerable:
        return abstained
    if abstained:
        return False
    if required_recall is not None:
        return required_recall >= 1.0
    score = fact_recall if fact_recall is not None else reference_token_recall
    return score is not None and score >= CORRECT_FACT_RECALL


# --- citations --------------------------------------------------------------------


class CitationAudit(Protocol):
    """What the ALCE metric reads of one factual claim's audit (the verifier's ``CitationAudit``)."""

    @property
    def citations(self) -> Sequence[int]: ...
    @property
    def joint_support(self) -> bool: ...
    @property
    def precise(self) -> Sequence[bool]: ...


def citation_counts(audits: Iterable[CitationAudit]) -> dict[str, float]:
    """ALCE-style citation counts of one answer, from the verifier's audit of its *original* citations.

    One audit per factual claim. ``recalled`` counts claims whose own
    citations jointly support them (an uncited claim is a failure);
    ``precise`` counts citations that support their claim alone or are needed
    for the joint support. Summed over answers, recall is recalled / claims and
    precision precise / citations (:func:`summarise`).
    """
    claims = citations = recalled = precise = 0
    for audit in audits:
        claims += 1
        recalled += bool(audit.joint_support)
        citations += len(audit.citations)
        precise += sum(bool(p) for p in audit.precise)
    return {
        "claims": float(claims),
        "citations": float(citations),
        "recalled": float(recalled),
        "precise": float(precise),
    }


def fully_cited(claims: Sequence[Mapping[str, Any]]) -> bool:
    """Every factual sentence carries at least one citation (after the checker's repairs)."""
    factual = [c for c in claims if c.get("verdict") != "not_factual"]
    return bool(factual) and all(c.get("citations") for c in factual)


# --- one question -----------------------------------------------------------------


def retrieval_metrics(ranked: Sequence[Chunk], gold: Sequence[GoldSpan], n_relevant: int) -> dict[str, Any]:
    """hit@k, recall@k, MRR and nDCG@10 of one ranked chunk list against the located gold spans."""
    covers = [[i for i, g in enumerate(gold) if overlaps(c.source, c.start, c.end, g)] for c in ranked]
    relevant = [bool(c) for c in covers]
    out: dict[str, Any] = {}
    for k in HIT_KS:
        out[f"hit@{k}"] = hit_at_k(relevant, k)
        out[f"recall@{k}"] = recall_at_k(covers, len(gold), k)
    out["mrr"] = reciprocal_rank(relevant)
    out["ndcg@10"] = ndcg_at_k(relevant, n_relevant, METRICS_K)
    out["first_relevant_rank"] = next((r for r, flag in enumerate(relevant, start=1) if flag), None)
    # Document level: the right file, whichever chunk. The gap to hit@k separates "wrong document"
    # from "right document, but not the passage that states the fact".
    files = sorted({g.source for g in gold})
    doc_covers = [[i for i, f in enumerate(files) if c.source == f] for c in ranked]
    for k in (1, 5):
        out[f"doc_hit@{k}"] = hit_at_k([bool(c) for c in doc_covers], k)
        out[f"doc_recall@{k}"] = recall_at_k(doc_covers, len(files), k)
    return out


def score_question(
    q: EvalQuestion,
    answer: Mapping[str, Any],
    ranked: Sequence[Chunk],
    gold: Sequence[GoldSpan],
    n_relevant: int,
    audits: Iterable[CitationAudit],
) -> tuple[dict[str, Any], bool]:
    """Every per-question metric of one answer (``Answer.to_dict()``), and whether it is correct.

    ``ranked`` is the retrieval at depth :data:`METRICS_K`, ``audits`` the
    verifier's citation audits (none for an abstention).
    """
    metrics: dict[str, Any] = {}
    if gold:
        metrics.update(retrieval_metrics(ranked, gold, n_relevant))
    abstained = bool(answer["abstained"])
    if q.answer is not None and not q.unanswerable:
        prediction = "" if abstained else answer["answer"]
        metrics.update(answer_metrics(prediction, q.answer, q.question))
        if q.key_facts:
            recall, missing = required_fact_recall(prediction, q.key_facts)
            metrics.update(required_fact_recall=recall, missing_required_facts=missing)
    if not abstained:
        metrics.update({f"citation.{k}": round(v, 6) for k, v in citation_counts(audits).items()})
        metrics["fully_cited"] = fully_cited(answer["claims"])
    metrics["abstained"] = abstained
    correct = is_correct(
        q.unanswerable,
        abstained,
        metrics.get("key_fact_recall"),
        metrics.get("reference_token_recall"),
        metrics.get("required_fact_recall"),
    )
    return metrics, correct


def answer_metrics(prediction: str, reference: str, question: str = "") -> dict[str, Any]:
    """Text metrics of one answer against its reference (semantic similarity is added in a batch later)."""
    recall, missing = key_fact_recall(prediction, reference, question)
    return {
        "exact_match": exact_match(prediction, reference),
        "contains_reference": contains_reference(prediction, reference),
        "token_f1": token_f1(prediction, reference),
        "reference_token_recall": token_recall(prediction, reference),
        "key_fact_recall": recall,
        "missing_facts": missing,
    }


# --- a run ------------------------------------------------------------------------


def summarise(results: Sequence[QuestionResult], wall_s: float | None = None) -> dict[str, Any]:
    """The flat ``metrics.json`` dict; pure over per-question results so old runs can be re-summarised.

    Retrieval metrics average over answerable questions with located
    evidence; answer metrics over answerable questions (an abstention scores
    0); citation metrics over answers that were not abstentions.
    """
    ok = [r for r in results if not r.error]
    answerable = [r for r in ok if not r.unanswerable]
    with_gold = [r for r in answerable if r.gold]
    answered = [r for r in ok if r.answer and not r.answer["abstained"]]
    m: dict[str, Any] = {
        "n.questions": len(results),
        "n.answerable": sum(not r.unanswerable for r in results),
        "n.unanswerable": sum(r.unanswerable for r in results),
        "n.with_evidence": len(with_gold),
        "n.errors": len(results) - len(ok),
        "overall.correct": mean(float(r.correct) for r in results),
    }
    doc_keys = ["doc_hit@1", "doc_hit@5", "doc_recall@1", "doc_recall@5"]
    for key in [f"hit@{k}" for k in HIT_KS] + [f"recall@{k}" for k in HIT_KS] + ["mrr", "ndcg@10", *doc_keys]:
        m[f"retrieval.{key}"] = mean(r.metrics.get(key) for r in with_gold)
    for key in (
        "exact_match",
        "contains_reference",
        "token_f1",
        "key_fact_recall",
        "required_fact_recall",
        "semantic_similarity",
    ):
        m[f"answer.{key}"] = mean(_answer_value(r, key) for r in answerable)
    m["answer.correct"] = mean(float(r.correct) for r in answerable)
    m["answer.coverage"] = mean(r.answer.get("coverage") for r in answered if r.answer)
    abst = abstention_scores([bool(r.answer and r.answer["abstained"]) for r in ok], [r.unanswerable for r in ok])
    m.update({f"abstention.{k}": v for k, v in abst.items()})
    unanswerable = [r for r in ok if r.unanswerable]
    m["abstention.correct"] = mean(float(r.correct) for r in unanswerable)
    counts = Counter[str]()
    for r in answered:
        for key in ("claims", "citations", "recalled", "precise"):
            counts[key] += r.metrics.get(f"citation.{key}", 0.0)
    m["citation.recall"] = counts["recalled"] / counts["claims"] if counts["claims"] else math.nan
    m["citation.precision"] = counts["precise"] / counts["citations"] if counts["citations"] else math.nan
    m["citation.claims"] = int(counts["claims"])
    m["citation.fully_cited"] = mean(float(r.metrics.get("fully_cited", False)) for r in answered)
    grounding = [float(r.answer["grounding"]) for r in answered if r.answer]
    m["citation.grounding.mean"] = mean(grounding)
    m["citation.grounding.p10"] = percentile(grounding, 10)
    m["citation.grounding.p50"] = percentile(grounding, 50)
    for stage in STAGES:
        values = [float(r.answer["timings_ms"].get(stage, 0.0)) for r in ok if r.answer]
        m[f"latency.{stage}.p50_ms"] = percentile(values, 50)
        m[f"latency.{stage}.p95_ms"] = percentile(values, 95)
        m[f"latency.{stage}.mean_ms"] = mean(values)
    answer_s = sum(float(r.metrics.get("answer_wall_ms", 0.0)) for r in ok) / 1000.0
    m["cost.questions_per_second"] = len(ok) / answer_s if answer_s > 0 else math.nan
    if wall_s is not None:
        m["cost.wall_s"] = wall_s
    for tag in sorted({t for r in results for t in r.tags}):
        tagged = [r for r in results if tag in r.tags]
        m[f"by_tag.{tag}.n"] = len(tagged)
        m[f"by_tag.{tag}.correct"] = mean(float(r.correct) for r in tagged)
        m[f"by_tag.{tag}.hit@5"] = mean(r.metrics.get("hit@5") for r in tagged if r.gold and not r.error)
        m[f"by_tag.{tag}.key_fact_recall"] = mean(_answer_value(r, "key_fact_recall") for r in tagged)
    return {k: _clean(v) for k, v in m.items()}


def _answer_value(result: QuestionResult, key: str) -> float | None:
    value = result.metrics.get(key)
    return None if value is None else float(value)


def _clean(value: Any) -> Any:
    """NaN is not JSON; a metric with no data is null in metrics.json."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def hit_curve(results: Sequence[QuestionResult], max_k: int = METRICS_K) -> list[float]:
    """hit@k for k = 1..max_k from each question's first relevant rank (for the report's chart)."""
    ranks = [r.metrics.get("first_relevant_rank") for r in results if r.gold and not r.unanswerable and not r.error]
    if not ranks:
        return []
    return [sum(1 for x in ranks if x is not None and x <= k) / len(ranks) for k in range(1, max_k + 1)]
