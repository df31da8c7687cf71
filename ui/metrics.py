"""An evaluation run's metrics in plain words, without the ones that do not apply to its question set.

``rag eval`` names metrics the way papers do (hit@5, MRR, nDCG@10, ALCE);
the page says what each one measures. A metric that cannot mean anything for
the set is left out rather than shown as a number: abstention precision and
recall need unanswerable questions (with none, they read 1.000 and say
nothing), and answer, retrieval and citation scores need answerable ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# key -> (label, what it measures); in the order of the page's table.
METRICS: tuple[tuple[str, str, str], ...] = (
    (
        "overall.correct",
        "Correct",
        "Share of questions handled right: the answer states every key fact of the "
        "reference, or, for a question the documents cannot answer, the system says so.",
    ),
    ("retrieval.hit@1", "Right passage first", "How often the passage that holds the answer was the first one found."),
    (
        "retrieval.hit@5",
        "Right passage in top 5",
        "How often that passage was among the five passages the answerer reads (hit@5).",
    ),
    (
        "retrieval.doc_hit@5",
        "Right document in top 5",
        "How often a passage of the right document was among those five.",
    ),
    (
        "retrieval.recall@5",
        "Evidence found",
        "Share of all the passages that hold the answer found among those five (recall@5).",
    ),
    (
        "retrieval.mrr",
        "Rank of the first right passage",
        "1 when the right passage comes first, 1/2 when second, 1/3 when third…, averaged (MRR).",
    ),
    (
        "retrieval.ndcg@10",
        "Ranking of the top 10",
        "1 when every passage that holds the answer is ranked above the others in the first ten (nDCG@10).",
    ),
    (
        "answer.key_fact_recall",
        "Key facts stated",
        "Share of the reference answers' key facts (names, figures, dates) that the answers state.",
    ),
    (
        "answer.token_f1",
        "Word overlap",
        "How many words the answer shares with the reference answer, from 0 to 1 (token F1).",
    ),
    (
        "answer.contains_reference",
        "Reference quoted",
        "How often the answer contains the reference answer word for word.",
    ),
    (
        "answer.semantic_similarity",
        "Meaning match",
        "How close in meaning the answer is to the reference answer, from 0 to 1.",
    ),
    (
        "abstention.precision",
        "Right to decline",
        "When the system said the documents do not contain the answer, how often that was true.",
    ),
    (
        "abstention.recall",
        "Declines when it should",
        "Of the questions the documents cannot answer, the share the system declined instead of guessing.",
    ),
    (
        "abstention.wrong_rate",
        "Wrongly declined",
        "Share of answerable questions the system declined; lower is better.",
    ),
    (
        "citation.recall",
        "Sentences backed",
        "Share of answer sentences that the passages they cite fully support (ALCE citation recall).",
    ),
    (
        "citation.precision",
        "Citations that help",
        "Share of citations that actually support their sentence (ALCE citation precision).",
    ),
    ("citation.fully_cited", "Answers fully cited", "Share of answers in which every sentence cites a source."),
    (
        "citation.grounding.mean",
        "Grounding",
        "Average share of an answer's factual sentences that the checker found "
        "stated in, or computed from, their sources.",
    ),
    ("latency.total.p50_ms", "Typical time (ms)", "Half of the questions were answered faster than this."),
    ("latency.total.p95_ms", "Slow time (ms)", "95 of 100 questions were answered faster than this."),
    ("cost.questions_per_second", "Questions per second", "Throughput, answering one question after another."),
)
NEEDS_UNANSWERABLE = ("abstention.precision", "abstention.recall")
NEEDS_ANSWERABLE = ("retrieval.", "answer.", "citation.", "abstention.wrong_rate")


def applies(key: str, metrics: Mapping[str, Any]) -> bool:
    """Whether ``key`` means something for this run's question set (and was measured)."""
    if metrics.get(key) is None:
        return False
    if key in NEEDS_UNANSWERABLE and not metrics.get("n.unanswerable"):
        return False
    return not (key.startswith(NEEDS_ANSWERABLE) and not metrics.get("n.answerable"))


def metric_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(label, value, explanation)`` for each metric that applies, values formatted as ``rag eval`` prints them."""
    from rag.evaluation.formatting import format_value

    return [(label, format_value(metrics[key]), why) for key, label, why in METRICS if applies(key, metrics)]


def left_out(metrics: Mapping[str, Any]) -> str:
    """A sentence on what the table leaves out and why, or ""."""
    if not metrics.get("n.unanswerable") and metrics.get("n.questions"):
        return "No question in this set is unanswerable, so whether the system declines correctly is not measured."
    if not metrics.get("n.answerable") and metrics.get("n.questions"):
        return "Every question in this set is unanswerable, so only declining is measured."
    return ""
