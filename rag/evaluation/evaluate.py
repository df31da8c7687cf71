"""``rag eval``: score the whole pipeline on a question set, reproducibly.

The module has three layers, kept apart the way Ragas keeps metrics apart from
the harness that calls models:

1. **Question sets** (:func:`load_questions`): our JSONL schema, or Ragas-style
   field names, validated with "line N: reason" errors.
2. **Pure metric functions** (hit@k, MRR, nDCG, token F1, key-fact recall,
   abstention precision/recall, percentiles, :func:`summarise`). They take
   plain values, never models, so they are unit-tested with hand-computed
   numbers and can be reused on another system's outputs.
3. **The model-driven loop** (:func:`run_questions`) and the run directory
   (:func:`write_run`, :func:`compare_runs`). Only this layer touches the
   pipeline; everything it measures is stored per question in
   ``results.jsonl``, so :func:`summarise` can be re-run without the models.

Gold evidence is a verbatim quote from a corpus file. A retrieved chunk counts
as relevant when its character span overlaps the quote's span in the loaded
document text (``rag.ingest.loaders.load_file(path).text``, the text chunk offsets
refer to), so the metrics do not depend on chunk ids, chunk size or overlap.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import re
import string
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.pipeline import Pipeline
    from rag.types import Chunk

METRICS_K = 10
"""Retrieval depth for the ranking metrics; the answer still uses ``retrieval.top_k``."""
HIT_KS = (1, 3, 5, 10)
CORRECT_FACT_RECALL = 0.5
"""An answer is correct when it states at least this share of the reference's key facts."""
PACKAGES = ("rag-cited", "chromadb", "llama-index-core", "sentence-transformers", "torch", "onnxruntime")
STAGES = ("retrieve", "generate", "verify", "total")
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


class QuestionSetError(ValueError):
    """The question file is missing or a line is invalid; the message names the line and the reason."""


class EvalError(RuntimeError):
    """A run directory cannot be read or written; the message says which file and why."""


# --- question sets ----------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceSpan:
    """A gold quote. ``source`` is a file name in the corpus; ``None`` means "any file" (Ragas contexts)."""

    source: str | None
    quote: str


@dataclass(frozen=True)
class EvalQuestion:
    """One question of a set, in our schema whatever the field names were in the file."""

    id: str
    question: str
    answer: str | None
    unanswerable: bool = False
    evidence: tuple[EvidenceSpan, ...] = ()
    tags: tuple[str, ...] = ()


def load_questions(path: Path) -> list[EvalQuestion]:
    """Parse a JSONL question set; raises :class:`QuestionSetError` naming the file and line.

    Blank lines and lines starting with ``#`` are skipped so a set can carry
    comments. Ids must be unique because runs are compared by id.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise QuestionSetError(f"{path}: no such file") from exc
    except OSError as exc:
        raise QuestionSetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise QuestionSetError(f"{path}: not UTF-8 text") from exc
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path} line {number}: not valid JSON: {exc.msg} (column {exc.colno})") from exc
        try:
            question = parse_question(data, default_id=f"q{number}")
        except ValueError as exc:
            raise QuestionSetError(f"{path} line {number}: {exc}") from exc
        if question.id in seen:
            raise QuestionSetError(f"{path} line {number}: id {question.id!r} already used on line {seen[question.id]}")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionSetError(f"{path}: no questions in the file")
    return questions


def parse_question(data: Any, default_id: str = "q") -> EvalQuestion:
    """One JSON object -> :class:`EvalQuestion`; raises ValueError with the reason.

    Ragas field names are accepted so existing sets load unchanged:
    ``user_input`` for ``question``, ``reference`` for ``answer`` and
    ``reference_contexts`` (plain strings, any file) for ``evidence``.
    """
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    text = data.get("question", data.get("user_input"))
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'question' (or 'user_input') must be a non-empty string")
    qid = data.get("id", default_id)
    if isinstance(qid, bool) or not isinstance(qid, str | int) or not str(qid).strip():
        raise ValueError("'id' must be a non-empty string")
    answer = data.get("answer", data.get("reference"))
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        raise ValueError("'answer' (or 'reference') must be a non-empty string or null")
    unanswerable = data.get("unanswerable", False)
    if not isinstance(unanswerable, bool):
        raise ValueError("'unanswerable' must be true or false")
    evidence = _parse_evidence(data)
    if unanswerable and answer is not None:
        raise ValueError('an unanswerable question must have "answer": null')
    if unanswerable and evidence:
        raise ValueError("an unanswerable question cannot have evidence")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise ValueError("'tags' must be a list of non-empty strings")
    return EvalQuestion(
        id=str(qid).strip(),
        question=text.strip(),
        answer=answer.strip() if isinstance(answer, str) else None,
        unanswerable=unanswerable,
        evidence=tuple(evidence),
        tags=tuple(dict.fromkeys(t.strip() for t in tags)),
    )


def _parse_evidence(data: dict[str, Any]) -> list[EvidenceSpan]:
    spans: list[EvidenceSpan] = []
    items = data.get("evidence", [])
    if not isinstance(items, list):
        raise ValueError('\'evidence\' must be a list of {"source", "quote"} objects')
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"evidence[{i}] must be an object with 'source' and 'quote'")
        source, quote = item.get("source"), item.get("quote")
        if source is not None and (not isinstance(source, str) or not source.strip() or "/" in source):
            raise ValueError(f"evidence[{i}].source must be a file name in the corpus (no folders)")
        if not isinstance(quote, str) or not quote.strip():
            raise ValueError(f"evidence[{i}].quote must be a non-empty string")
        spans.append(EvidenceSpan(source.strip() if source else None, quote))
    contexts = data.get("reference_contexts", [])
    if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
        raise ValueError("'reference_contexts' must be a list of strings")
    spans.extend(EvidenceSpan(None, c) for c in contexts if c.strip())
    return spans


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- locating gold evidence -------------------------------------------------------


@dataclass(frozen=True)
class GoldSpan:
    """Where an evidence quote sits: file name and character offsets in its loaded text."""

    source: str
    start: int
    end: int


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Offsets of ``quote`` in ``text``: exact first, then ignoring whitespace differences (PDF line breaks)."""
    found = text.find(quote)
    if found >= 0:
        return found, found + len(quote)
    words = quote.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (match.start(), match.end()) if match else None


class CorpusTexts:
    """Loaded corpus texts by file name, read once; the text the chunk offsets refer to."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self._texts: dict[str, str | None] = {}

    def text(self, source: str) -> str | None:
        """The loaded text of ``corpus_dir/source``, or None when missing or unreadable."""
        if source not in self._texts:
            from rag.ingest.loaders import LoadError, load_file

            path = self.corpus_dir / source
            try:
                self._texts[source] = load_file(path).text if path.is_file() else None
            except LoadError:
                self._texts[source] = None
        return self._texts[source]

    def sources(self) -> list[str]:
        if not self.corpus_dir.is_dir():
            return []
        return sorted(p.name for p in self.corpus_dir.iterdir() if p.is_file() and not p.name.startswith("."))

    def locate(self, evidence: EvidenceSpan) -> GoldSpan | None:
        """The span of one quote; a quote without a source is searched in every file."""
        candidates = [evidence.source] if evidence.source else self.sources()
        for source in candidates:
            text = self.text(source)
            span = find_quote(text, evidence.quote) if text else None
            if span:
                return GoldSpan(source, *span)
        return None


def overlaps(chunk_source: str, start: int, end: int, gold: GoldSpan) -> bool:
    """A chunk is relevant to a gold span when it is from the same file and their character ranges intersect."""
    return chunk_source == gold.source and start < gold.end and end > gold.start


# --- pure metrics -----------------------------------------------------------------


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


def strip_markers(text: str) -> str:
    """Answer text without ``[n]`` citation markers, for comparison with a reference."""
    return _MARKER.sub("", text)


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCT = str.maketrans(dict.fromkeys(string.punctuation + "‘’“”–—", " "))


def normalize_answer(text: str) -> str:
    """SQuAD normalisation (lower case, no punctuation, articles or extra spaces), markers removed.

    Decimal points and thousands separators inside numbers are kept, so
    "$1.25 billion" does not become "1 25 billion".
    """
    text = strip_markers(text).lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,250 -> 1250
    text = re.sub(r"(?<=\d)\.(?=\d)", "\u2024", text)  # protect decimal points from punctuation removal
    text = text.translate(_PUNCT).replace("\u2024", ".")
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the normalised texts are identical."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def contains_reference(prediction: str, reference: str) -> float:
    """1.0 when the normalised reference occurs in the normalised prediction.

    Extractive answers quote whole source sentences, so a short reference is
    "matched" when it appears inside them; exact match would be almost always 0.
    """
    ref = normalize_answer(reference)
    return float(bool(ref) and f" {ref} " in f" {normalize_answer(prediction)} ")


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1: harmonic mean of token precision and recall (bag of words)."""
    pred, ref = _tokens(prediction), _tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_recall(prediction: str, reference: str) -> float:
    """Share of the reference's tokens that the prediction contains (bag of words)."""
    pred, ref = _tokens(prediction), _tokens(reference)
    if not ref:
        return 0.0
    return sum((Counter(pred) & Counter(ref)).values()) / len(ref)


def key_facts(reference: str, question: str = "") -> list[Any]:
    """The checkable facts of a reference (amounts, numbers, dates, round labels, names), deduplicated.

    Uses the verifier's extractor, so "$40B" and "$40 billion" are one fact
    here exactly as they are when citations are checked. Facts the question
    already states ("Amazon" in "How much did Amazon commit?") are left out,
    because any on-topic answer repeats them; if that leaves nothing, all of
    the reference's facts count.
    """
    from rag.verification.facts import extract_facts, fact_in, index_text

    unique: dict[tuple[str, tuple[object, ...]], Any] = {}
    for fact in extract_facts(reference):
        unique.setdefault((fact.kind, fact.key), fact)
    facts = list(unique.values())
    if question:
        asked = index_text(question)
        new = [f for f in facts if not fact_in(f, asked)]
        facts = new or facts
    return facts


def key_fact_recall(prediction: str, reference: str, question: str = "") -> tuple[float | None, list[str]]:
    """Share of the reference's key facts stated in the prediction, and the missing ones (as written).

    None when the reference has no checkable fact (the metric does not apply).
    """
    from rag.verification.facts import fact_in, index_text

    facts = key_facts(reference, question)
    if not facts:
        return None, []
    index = index_text(strip_markers(prediction))
    missing = [f.text.strip() for f in facts if not fact_in(f, index)]
    return (len(facts) - len(missing)) / len(facts), list(dict.fromkeys(missing))


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
    unanswerable: bool, abstained: bool, fact_recall: float | None, reference_token_recall: float | None
) -> bool:
    """The per-question pass/fail that ``--compare`` reports flips of.

    Unanswerable: correct iff abstained. Answerable: correct iff not abstained
    and at least half the reference's key facts are stated (or, for a
    reference without facts, half of its words).
    """
    if unanswerable:
        return abstained
    if abstained:
        return False
    score = fact_recall if fact_recall is not None else reference_token_recall
    return score is not None and score >= CORRECT_FACT_RECALL


def citation_scores_from_claims(claims: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """ALCE-style citation counts from final claim verdicts, when the verifier's audits are unavailable.

    Matches :func:`rag.verification.checker.citation_recall_precision` as closely as the
    verdicts allow: recall counts factual claims whose own citations support
    them ("supported"); a citation is precise when it is among the claim's
    supporting evidence. Repaired ("miscited") claims count against recall,
    like their original citations would.
    """
    claims_n = citations = recalled = precise = 0
    for claim in claims:
        if claim.get("verdict") == "not_factual":
            continue
        claims_n += 1
        cited = list(claim.get("repaired_from") or claim.get("citations") or [])
        supported = claim.get("verdict") == "supported"
        recalled += supported
        citations += len(cited)
        if supported:
            backing = {e.get("n") for e in claim.get("evidence", [])}
            precise += sum(n in backing for n in cited)
    return {
        "claims": float(claims_n),
        "citations": float(citations),
        "recalled": float(recalled),
        "precise": float(precise),
    }


def fully_cited(claims: Sequence[Mapping[str, Any]]) -> bool:
    """Every factual sentence carries at least one citation (after the checker's repairs)."""
    factual = [c for c in claims if c.get("verdict") != "not_factual"]
    return bool(factual) and all(c.get("citations") for c in factual)


# --- per-question results ---------------------------------------------------------


@dataclass
class QuestionResult:
    """Everything measured for one question; one line of ``results.jsonl``."""

    id: str
    question: str
    tags: list[str]
    unanswerable: bool
    reference: str | None
    evidence: list[dict[str, Any]]
    answer: dict[str, Any] | None
    retrieved: list[dict[str, Any]]
    gold: list[dict[str, Any]]
    metrics: dict[str, Any]
    correct: bool
    error: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    for key in ("exact_match", "contains_reference", "token_f1", "key_fact_recall", "semantic_similarity"):
        m[f"answer.{key}"] = mean(_answer_value(r, key) for r in answerable)
    m["answer.correct"] = mean(float(r.correct) for r in answerable)
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


# --- the model-driven loop --------------------------------------------------------


def relevant_counts(pipeline: Pipeline, gold_by_question: Mapping[str, Sequence[GoldSpan]]) -> dict[str, int]:
    """Per question, how many chunks in the whole index overlap its gold spans (nDCG's ideal)."""
    spans_by_source: dict[str, list[tuple[str, GoldSpan]]] = {}
    for qid, spans in gold_by_question.items():
        for span in spans:
            spans_by_source.setdefault(span.source, []).append((qid, span))
    counts = dict.fromkeys(gold_by_question, 0)
    seen: set[tuple[str, str]] = set()
    for chunk in pipeline.store.iter_chunks():
        for qid, span in spans_by_source.get(chunk.source, []):
            if overlaps(chunk.source, chunk.start, chunk.end, span) and (qid, chunk.id) not in seen:
                seen.add((qid, chunk.id))
                counts[qid] += 1
    return counts


WARM_UP_QUESTION = "Which companies invested in the largest funding round described in the documents?"


def warm_up(pipeline: Pipeline) -> None:
    """Answer one throw-away question so model loading and index building are not timed as question one."""
    try:
        pipeline.answer(WARM_UP_QUESTION)
    except Exception:  # the real questions will report whatever is wrong
        return


def run_questions(
    pipeline: Pipeline,
    questions: Sequence[EvalQuestion],
    corpus_dir: Path,
    progress: Callable[[QuestionResult], None] | None = None,
    warm: bool = True,
) -> list[QuestionResult]:
    """Answer every question and measure it; a question that raises is recorded with its error, not fatal.

    ``warm=False`` skips :func:`warm_up` when the caller has already done it.
    """
    texts = CorpusTexts(corpus_dir)
    gold_by_question: dict[str, list[GoldSpan]] = {}
    warnings_by_question: dict[str, list[str]] = {}
    for q in questions:
        spans: list[GoldSpan] = []
        for ev in q.evidence:
            span = texts.locate(ev)
            if span is None:
                where = ev.source or "any corpus file"
                warnings_by_question.setdefault(q.id, []).append(
                    f"evidence quote not found in {where}: {ev.quote[:60]!r}"
                )
            else:
                spans.append(span)
        gold_by_question[q.id] = spans
    n_relevant = relevant_counts(pipeline, gold_by_question)

    if warm:
        warm_up(pipeline)
    results: list[QuestionResult] = []
    for q in questions:
        result = _run_one(pipeline, q, gold_by_question[q.id], n_relevant[q.id])
        result.warnings = warnings_by_question.get(q.id, [])
        results.append(result)
        if progress:
            progress(result)
    _add_semantic_similarity(pipeline, results)
    return results


def _run_one(pipeline: Pipeline, q: EvalQuestion, gold: list[GoldSpan], n_relevant: int) -> QuestionResult:
    """One question through :meth:`Pipeline.trace`: the answer, its k=10 ranking and its verification.

    ``trace`` retrieves once at depth 10 and gives the generator the first
    ``top_k`` of that ranking, so the ranking metrics describe exactly the
    retrieval the answer used, without retrieving twice or touching the shared
    pipeline's parts (the UI runs evaluations beside live chat).
    """
    from rag.verification.checker import citation_recall_precision

    result = QuestionResult(
        id=q.id,
        question=q.question,
        tags=list(q.tags),
        unanswerable=q.unanswerable,
        reference=q.answer,
        evidence=[asdict(e) for e in q.evidence],
        answer=None,
        retrieved=[],
        gold=[asdict(g) for g in gold],
        metrics={},
        correct=False,
    )
    started = time.perf_counter()
    try:
        trace = pipeline.trace(q.question, retrieve_k=METRICS_K)
    except Exception as exc:  # one bad question must not lose the whole run
        result.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        result.metrics["answer_wall_ms"] = (time.perf_counter() - started) * 1000.0
        return result
    result.metrics["answer_wall_ms"] = (time.perf_counter() - started) * 1000.0
    answer, hits = trace.answer, trace.ranked[:METRICS_K]
    result.answer = answer.to_dict()
    result.retrieved = [
        {"id": h.chunk.id, "source": h.chunk.source, "start": h.chunk.start, "end": h.chunk.end, "score": h.score}
        for h in hits
    ]
    if gold:
        result.metrics.update(retrieval_metrics([h.chunk for h in hits], gold, n_relevant))
    if q.answer is not None and not q.unanswerable:
        prediction = "" if answer.abstained else answer.answer
        result.metrics.update(answer_metrics(prediction, q.answer, q.question))
    if not answer.abstained:
        claims = result.answer["claims"]
        if trace.verification is not None:
            alce = citation_recall_precision([trace.verification])
            counts = {
                "claims": alce["claims"],
                "citations": alce["citations"],
                "recalled": alce["citation_recall"] * alce["claims"],
                "precise": alce["citation_precision"] * alce["citations"],
            }
        else:
            counts = citation_scores_from_claims(claims)
        result.metrics.update({f"citation.{k}": round(v, 6) for k, v in counts.items()})
        result.metrics["fully_cited"] = fully_cited(claims)
    result.metrics["abstained"] = answer.abstained
    result.correct = is_correct(
        q.unanswerable,
        answer.abstained,
        result.metrics.get("key_fact_recall"),
        result.metrics.get("reference_token_recall"),
    )
    return result


def _add_semantic_similarity(pipeline: Pipeline, results: list[QuestionResult]) -> None:
    """Cosine similarity of answer and reference embeddings, in one batch (an abstention scores 0)."""
    pairs = [
        (r, strip_markers(r.answer["answer"]), r.reference)
        for r in results
        if r.answer and r.reference and not r.unanswerable and not r.answer["abstained"]
    ]
    for r in results:
        if r.answer and r.reference and not r.unanswerable and r.answer["abstained"]:
            r.metrics["semantic_similarity"] = 0.0
    if not pairs:
        return
    vectors = pipeline.embedder.embed([text for _, a, ref in pairs for text in (a, ref or "")])
    for i, (r, _, _) in enumerate(pairs):
        r.metrics["semantic_similarity"] = round(float(vectors[2 * i] @ vectors[2 * i + 1]), 6)


# --- reproducibility --------------------------------------------------------------


def corpus_fingerprint(corpus_dir: Path) -> dict[str, Any]:
    """sha256 over the sorted relative file names and contents of the corpus folder."""
    digest = hashlib.sha256()
    files = sorted(p for p in corpus_dir.rglob("*") if p.is_file()) if corpus_dir.is_dir() else []
    for path in files:
        digest.update(path.relative_to(corpus_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return {"dir": str(corpus_dir), "files": len(files), "sha256": digest.hexdigest()}


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    """Commit and whether the working tree has changes; empty when git or a repository is missing."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def run_info(
    settings_dict: dict[str, Any],
    questions_path: Path,
    questions: Sequence[EvalQuestion],
    corpus_dir: Path,
    limit: int | None,
    generator: str,
    argv: Sequence[str] | None = None,
) -> dict[str, Any]:
    """What ``run.json`` records so a run can be reproduced and two runs compared fairly."""
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(argv if argv is not None else sys.argv),
        "generator": generator,
        "settings": settings_dict,
        "questions": {
            "path": str(questions_path),
            "sha256": file_sha256(questions_path),
            "n": len(questions),
            "limit": limit,
        },
        "corpus": corpus_fingerprint(corpus_dir),
        "packages": package_versions(),
        "git": git_state(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# --- run directories --------------------------------------------------------------


def ragas_rows(results: Iterable[QuestionResult], pipeline: Pipeline | None = None) -> Iterator[dict[str, Any]]:
    """Rows Ragas' ``EvaluationDataset.from_jsonl`` reads: user_input, response, retrieved_contexts, reference."""
    for r in results:
        contexts: list[str] = []
        if r.answer and pipeline is not None:
            ids = r.answer.get("retrieved_ids", [])
            contexts = [c.text for c in pipeline.store.get_chunks(ids)] if ids else []
        yield {
            "user_input": r.question,
            "response": strip_markers(r.answer["answer"]) if r.answer else "",
            "retrieved_contexts": contexts,
            "reference": r.reference,
            "reference_contexts": [e["quote"] for e in r.evidence],
        }


def write_run(
    out_dir: Path,
    results: Sequence[QuestionResult],
    metrics: dict[str, Any],
    info: dict[str, Any],
    pipeline: Pipeline | None = None,
) -> None:
    """results.jsonl, metrics.json, run.json, ragas.jsonl, report.md and report.html in ``out_dir``."""
    from rag.evaluation.report import write_reports

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_jsonl(out_dir / "results.jsonl", (r.to_dict() for r in results))
        _write_jsonl(out_dir / "ragas.jsonl", ragas_rows(results, pipeline))
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (out_dir / "run.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_reports(out_dir, results, metrics, info)
    except OSError as exc:
        raise EvalError(f"cannot write the run to {out_dir}: {exc.strerror or exc}") from exc


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def load_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """metrics.json and results.jsonl of a finished run; :class:`EvalError` says what is missing."""
    metrics_path, results_path = run_dir / "metrics.json", run_dir / "results.jsonl"
    if not run_dir.is_dir():
        raise EvalError(f"{run_dir}: no such run directory")
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvalError(f"{run_dir}: no metrics.json (is it a 'rag eval --out' directory?)") from exc
    except json.JSONDecodeError as exc:
        raise EvalError(f"{metrics_path}: not valid JSON: {exc.msg}") from exc
    results: list[dict[str, Any]] = []
    if results_path.is_file():
        for number, line in enumerate(results_path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    results.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise EvalError(f"{results_path} line {number}: not valid JSON: {exc.msg}") from exc
    return metrics, results


def compare_runs(a_dir: Path, b_dir: Path) -> dict[str, Any]:
    """Per-metric deltas (B - A) and the questions whose correctness flipped between two runs."""
    metrics_a, results_a = load_run(a_dir)
    metrics_b, results_b = load_run(b_dir)
    deltas: dict[str, dict[str, float | None]] = {}
    for key in sorted(set(metrics_a) | set(metrics_b)):
        a, b = metrics_a.get(key), metrics_b.get(key)
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        deltas[key] = {"a": a, "b": b, "delta": round(b - a, 6) if numeric else None}  # type: ignore[operator]
    by_id_a = {r["id"]: r for r in results_a}
    flips: list[dict[str, Any]] = []
    for r in results_b:
        old = by_id_a.get(r["id"])
        if old is not None and bool(old.get("correct")) != bool(r.get("correct")):
            flips.append(
                {
                    "id": r["id"],
                    "question": r["question"],
                    "tags": r.get("tags", []),
                    "a_correct": bool(old.get("correct")),
                    "b_correct": bool(r.get("correct")),
                    "a_answer": (old.get("answer") or {}).get("answer", ""),
                    "b_answer": (r.get("answer") or {}).get("answer", ""),
                }
            )
    common = len(set(by_id_a) & {r["id"] for r in results_b})
    return {"a": str(a_dir), "b": str(b_dir), "common_questions": common, "metrics": deltas, "flips": flips}


SUMMARY_KEYS: tuple[tuple[str, str], ...] = (
    ("overall.correct", "correct (all questions)"),
    ("retrieval.hit@1", "retrieval hit@1"),
    ("retrieval.hit@5", "retrieval hit@5"),
    ("retrieval.doc_hit@5", "retrieval hit@5, right file"),
    ("retrieval.recall@5", "retrieval recall@5"),
    ("retrieval.mrr", "retrieval MRR"),
    ("retrieval.ndcg@10", "retrieval nDCG@10"),
    ("answer.key_fact_recall", "answer key-fact recall"),
    ("answer.token_f1", "answer token F1"),
    ("answer.contains_reference", "answer contains reference"),
    ("answer.semantic_similarity", "answer semantic similarity"),
    ("abstention.precision", "abstention precision"),
    ("abstention.recall", "abstention recall"),
    ("abstention.wrong_rate", "wrong abstentions (answerable)"),
    ("citation.recall", "citation recall (ALCE)"),
    ("citation.precision", "citation precision (ALCE)"),
    ("citation.fully_cited", "answers fully cited"),
    ("citation.grounding.mean", "grounding mean"),
    ("latency.total.p50_ms", "latency total p50 (ms)"),
    ("latency.total.p95_ms", "latency total p95 (ms)"),
    ("cost.questions_per_second", "questions per second"),
)


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3f}"
    return str(value)


def format_summary(metrics: Mapping[str, Any]) -> str:
    """The terminal table printed after a run."""
    width = max(len(label) for _, label in SUMMARY_KEYS)
    lines = [
        f"{metrics.get('n.questions', 0)} questions ({metrics.get('n.answerable', 0)} answerable, "
        f"{metrics.get('n.unanswerable', 0)} unanswerable, {metrics.get('n.errors', 0)} errors)"
    ]
    lines += [f"  {label:<{width}}  {format_value(metrics.get(key))}" for key, label in SUMMARY_KEYS]
    return "\n".join(lines)


def format_comparison(comparison: Mapping[str, Any], all_metrics: bool = False) -> str:
    """Deltas of the summary metrics (or all), then the flipped questions."""
    deltas = comparison["metrics"]
    keys = list(deltas) if all_metrics else [k for k, _ in SUMMARY_KEYS if k in deltas]
    width = max((len(k) for k in keys), default=10)
    lines = [
        f"A = {comparison['a']}",
        f"B = {comparison['b']}",
        "",
        f"  {'metric':<{width}}  {'A':>9}  {'B':>9}  {'B-A':>9}",
    ]
    for key in keys:
        d = deltas[key]
        delta = d["delta"]
        if delta is not None:
            delta = round(delta, 3) + 0.0  # -0.0004 prints as +0.000, not -0.000
        shown = "-" if delta is None else f"{delta:+.3f}" if abs(delta) < 100 else f"{delta:+.0f}"
        lines.append(f"  {key:<{width}}  {format_value(d['a']):>9}  {format_value(d['b']):>9}  {shown:>9}")
    flips = comparison["flips"]
    lines += ["", f"{len(flips)} of {comparison['common_questions']} questions flipped:"]
    for flip in flips:
        arrow = "fixed  " if flip["b_correct"] else "broken "
        lines.append(f"  {arrow} {flip['id']}: {flip['question']}")
    return "\n".join(lines)


def write_comparison(comparison: dict[str, Any], out_dir: Path) -> None:
    """compare.json and compare.md in ``out_dir``."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "compare.json").write_text(json.dumps(comparison, indent=2, ensure_ascii=False) + "\n", "utf-8")
        body = format_comparison(comparison, all_metrics=True)
        (out_dir / "compare.md").write_text(f"# Run comparison\n\n```\n{body}\n```\n", encoding="utf-8")
    except OSError as exc:
        raise EvalError(f"cannot write the comparison to {out_dir}: {exc.strerror or exc}") from exc
