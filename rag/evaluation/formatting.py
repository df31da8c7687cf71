"""Terminal text of a run: the summary table and a two-run comparison, and how a metric value prints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
