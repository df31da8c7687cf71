"""Human-readable reports of a ``rag eval`` run: charts, ``report.md`` and a self-contained ``report.html``.

:func:`chart_images` draws the charts as PNG bytes; the run directory keeps
them as ``charts/*.png`` (what the UI shows) and the HTML file embeds the same
images as base64, so it has no external references at all (inline CSS too)
and can be mailed, archived next to the run or opened offline. Every piece of
document, question or answer text is HTML-escaped: the corpus is user content
and may contain markup.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.evaluation.formatting import SUMMARY_KEYS, format_value
from rag.evaluation.metrics import hit_curve

if TYPE_CHECKING:
    from rag.evaluation.results import QuestionResult

WORST_N = 12
SECTIONS: tuple[tuple[str, str], ...] = (
    ("retrieval.", "Retrieval (answerable questions with gold evidence, top 10)"),
    ("answer.", "Answers (answerable questions; an abstention scores 0)"),
    ("abstention.", "Abstention (abstaining as a detector of unanswerable questions)"),
    ("citation.", "Citations (answers that were not abstentions)"),
    ("latency.", "Latency per stage"),
    ("cost.", "Cost"),
)


CHART_TITLES = {"hit_curve": "hit@k curve", "latency": "latency histogram", "tags": "per-tag results"}
Images = Mapping[str, tuple[str, bytes]]
"""Chart name -> (title, PNG bytes), as :func:`chart_images` returns them."""


def write_reports(
    out_dir: Path,
    results: Sequence[QuestionResult],
    metrics: Mapping[str, Any],
    info: Mapping[str, Any],
    images: Images | None = None,
) -> None:
    """report.md and report.html; ``images`` are the charts already drawn (drawn here when None)."""
    (out_dir / "report.md").write_text(markdown_report(results, metrics, info), encoding="utf-8")
    (out_dir / "report.html").write_text(html_report(results, metrics, info, images), encoding="utf-8")


# --- shared pieces --------------------------------------------------------------


def worst_questions(results: Sequence[QuestionResult], n: int = WORST_N) -> list[QuestionResult]:
    """Incorrect questions first, the lowest key-fact recall and retrieval rank first among them."""

    def badness(r: QuestionResult) -> tuple[float, float, float]:
        recall = r.metrics.get("key_fact_recall")
        rank = r.metrics.get("first_relevant_rank") or 99
        return (float(r.correct), recall if recall is not None else 0.5, -float(rank))

    return sorted(results, key=badness)[:n]


def tag_rows(metrics: Mapping[str, Any]) -> list[tuple[str, int, Any, Any, Any]]:
    """(tag, n, correct, hit@5, key-fact recall) per tag, from the flat metrics."""
    tags = sorted({k.split(".")[1] for k in metrics if k.startswith("by_tag.")})
    return [
        (
            tag,
            int(metrics.get(f"by_tag.{tag}.n", 0)),
            metrics.get(f"by_tag.{tag}.correct"),
            metrics.get(f"by_tag.{tag}.hit@5"),
            metrics.get(f"by_tag.{tag}.key_fact_recall"),
        )
        for tag in tags
    ]


def _why(r: QuestionResult) -> str:
    """One line on what went wrong, for the worst-questions lists."""
    if r.error:
        return f"error: {r.error}"
    abstained = bool(r.answer and r.answer["abstained"])
    if r.unanswerable:
        return "correctly abstained" if abstained else "answered an unanswerable question"
    parts = []
    if abstained:
        parts.append("abstained on an answerable question")
    rank = r.metrics.get("first_relevant_rank")
    if r.gold:
        parts.append(f"gold evidence at rank {rank}" if rank else "gold evidence not in the top 10")
    missing = r.metrics.get("missing_facts") or []
    if missing and not abstained:
        parts.append("missing " + ", ".join(missing[:6]))
    return "; ".join(parts) or "correct"


def _sources(r: QuestionResult) -> list[str]:
    if not r.answer:
        return []
    return [f"[{c['n']}] {c['source']}" for c in r.answer.get("citations", [])]


# --- markdown -------------------------------------------------------------------


def markdown_report(results: Sequence[QuestionResult], metrics: Mapping[str, Any], info: Mapping[str, Any]) -> str:
    lines = [f"# Evaluation run: {metrics.get('n.questions', 0)} questions", ""]
    lines += _md_info(info)
    lines += ["", "## Summary", "", "| Metric | Value |", "|---|---|"]
    lines += [f"| {label} | {format_value(metrics.get(key))} |" for key, label in SUMMARY_KEYS]
    for prefix, title in SECTIONS:
        keys = [k for k in metrics if k.startswith(prefix)]
        if keys:
            lines += ["", f"## {title}", "", "| Key | Value |", "|---|---|"]
            lines += [f"| `{k}` | {format_value(metrics[k])} |" for k in keys]
    rows = tag_rows(metrics)
    if rows:
        lines += ["", "## By tag", "", "| Tag | n | correct | hit@5 | key-fact recall |", "|---|---|---|---|---|"]
        lines += [
            f"| {tag} | {n} | {format_value(c)} | {format_value(h)} | {format_value(k)} |" for tag, n, c, h, k in rows
        ]
    lines += ["", "## Worst questions", ""]
    for r in worst_questions(results):
        answer = " ".join((r.answer or {}).get("answer", "").split())
        lines += [
            f"### {r.id} {'(correct)' if r.correct else '(wrong)'}: {_md_escape(r.question)}",
            "",
            f"- Tags: {', '.join(r.tags) or '-'}",
            f"- Reference: {_md_escape(r.reference or '(unanswerable)')}",
            f"- Answer: {_md_escape(_clip(answer, 600))}",
            f"- Sources: {', '.join(_sources(r)) or '-'}",
            f"- Why: {_md_escape(_why(r))}",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def _md_info(info: Mapping[str, Any]) -> list[str]:
    settings = info.get("settings", {})
    retrieval = settings.get("retrieval", {})
    git = info.get("git", {})
    questions = info.get("questions", {})
    corpus = info.get("corpus", {})
    return [
        f"- Started: {info.get('started_at', '-')}, generator: {info.get('generator', '-')}",
        f"- Retrieval: top_k={retrieval.get('top_k')}, hybrid={retrieval.get('hybrid')}, "
        f"rerank={retrieval.get('rerank')}, candidates={retrieval.get('candidates')}",
        f"- Questions: {questions.get('path', '-')} (sha256 {str(questions.get('sha256', ''))[:12]}, "
        f"n={questions.get('n')})",
        f"- Corpus: {corpus.get('files')} files (sha256 {str(corpus.get('sha256', ''))[:12]})",
        f"- Commit: {str(git.get('commit') or '-')[:12]}{' (dirty)' if git.get('dirty') else ''}",
    ]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


# --- charts ---------------------------------------------------------------------


def _png(figure: Any) -> bytes:
    """A matplotlib figure as PNG bytes, closed afterwards so long runs do not leak figures."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def chart_images(results: Sequence[QuestionResult], metrics: Mapping[str, Any]) -> dict[str, tuple[str, bytes]]:
    """hit@k curve, latency histogram and per-tag bars: name -> (title, PNG bytes); a chart without data is left out."""
    return {name: (CHART_TITLES[name], png) for name, png in _draw_charts(results, metrics).items()}


def _draw_charts(results: Sequence[QuestionResult], metrics: Mapping[str, Any]) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, bytes] = {}
    curve = hit_curve(results)
    if curve:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ks = list(range(1, len(curve) + 1))
        ax.plot(ks, curve, marker="o", color="#2b6cb0")
        ax.set_xlabel("k (retrieved chunks)")
        ax.set_ylabel("hit@k")
        ax.set_ylim(0, 1.02)
        ax.set_xticks(ks)
        ax.grid(alpha=0.3)
        ax.set_title("Gold evidence within the top k")
        out["hit_curve"] = _png(fig)
    totals = [float(r.answer["timings_ms"].get("total", 0.0)) for r in results if r.answer]
    if totals:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.hist(totals, bins=min(20, max(5, len(totals) // 3)), color="#805ad5", alpha=0.85)
        for key, style in (("latency.total.p50_ms", "--"), ("latency.total.p95_ms", ":")):
            value = metrics.get(key)
            if value is not None:
                ax.axvline(value, color="black", linestyle=style, label=f"{key.split('.')[-1][:3]} {value:.0f} ms")
        ax.set_xlabel("total latency per question (ms)")
        ax.set_ylabel("questions")
        ax.legend()
        ax.set_title("Latency")
        out["latency"] = _png(fig)
    rows = [row for row in tag_rows(metrics) if row[2] is not None]
    if rows:
        fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(rows) + 1.2))
        labels = [f"{tag} ({n})" for tag, n, *_ in rows]
        y = list(range(len(rows)))
        ax.barh([i + 0.2 for i in y], [row[2] or 0 for row in rows], height=0.4, label="correct", color="#38a169")
        ax.barh([i - 0.2 for i in y], [row[3] or 0 for row in rows], height=0.4, label="hit@5", color="#3182ce")
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.legend(loc="lower right")
        ax.set_title("By tag")
        out["tags"] = _png(fig)
    return out


# --- html -----------------------------------------------------------------------

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;color:#1a202c;
padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #e2e8f0;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #e2e8f0;padding:.25rem .6rem;text-align:left;
vertical-align:top}th{background:#f7fafc}td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#4a5568;font-size:.9rem}.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts img{max-width:100%;
border:1px solid #e2e8f0}.q{border:1px solid #e2e8f0;border-radius:6px;padding:.6rem .9rem;margin:.8rem 0}
.q h3{margin:.1rem 0 .4rem;font-size:1rem}.wrong{border-left:5px solid #e53e3e}.right{border-left:5px solid #38a169}
.answer{white-space:pre-wrap;background:#f7fafc;padding:.4rem .6rem;border-radius:4px}.why{color:#9b2c2c}
.src{font-size:.85rem;color:#2d3748}.tag{display:inline-block;background:#edf2f7;border-radius:3px;padding:0 .35rem;
margin-right:.25rem;font-size:.8rem}details{margin:.3rem 0}
"""


def html_report(
    results: Sequence[QuestionResult],
    metrics: Mapping[str, Any],
    info: Mapping[str, Any],
    images: Images | None = None,
) -> str:
    e = html.escape
    if images is None:
        images = chart_images(results, metrics)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>rag eval: {metrics.get('n.questions', 0)} questions</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Evaluation run: {metrics.get('n.questions', 0)} questions</h1>",
        '<ul class="meta">' + "".join(f"<li>{e(line[2:])}</li>" for line in _md_info(info)) + "</ul>",
        "<h2>Summary</h2><table><tr><th>Metric</th><th>Value</th></tr>",
    ]
    parts += [
        f'<tr><td>{e(label)}</td><td class="num">{e(format_value(metrics.get(key)))}</td></tr>'
        for key, label in SUMMARY_KEYS
    ]
    parts.append("</table>")
    if images:
        parts.append('<h2>Charts</h2><div class="charts">')
        parts += [f'<img alt="{e(title)}" src="{data_uri(png)}">' for title, png in images.values()]
        parts.append("</div>")
    rows = tag_rows(metrics)
    if rows:
        parts.append("<h2>By tag</h2><table><tr><th>Tag</th><th>n</th><th>correct</th><th>hit@5</th>")
        parts.append("<th>key-fact recall</th></tr>")
        parts += [
            f'<tr><td>{e(tag)}</td><td class="num">{n}</td><td class="num">{e(format_value(c))}</td>'
            f'<td class="num">{e(format_value(h))}</td><td class="num">{e(format_value(k))}</td></tr>'
            for tag, n, c, h, k in rows
        ]
        parts.append("</table>")
    parts.append(f"<h2>Worst questions ({min(WORST_N, len(results))})</h2>")
    parts += [_html_question(r) for r in worst_questions(results)]
    parts.append("<h2>All metrics</h2><details><summary>metrics.json</summary><table>")
    parts += [f'<tr><td>{e(k)}</td><td class="num">{e(format_value(v))}</td></tr>' for k, v in metrics.items()]
    parts.append("</table></details></body></html>")
    return "\n".join(parts) + "\n"


def _html_question(r: QuestionResult) -> str:
    e = html.escape
    answer = (r.answer or {}).get("answer", "") if not r.error else ""
    tags = "".join(f'<span class="tag">{e(t)}</span>' for t in r.tags)
    sources = []
    for citation in (r.answer or {}).get("citations", []):
        snippet = _clip(" ".join(citation.get("text", "").split()), 400)
        sources.append(
            f"<details><summary>[{int(citation['n'])}] {e(citation.get('title', ''))} "
            f"({e(citation.get('source', ''))})</summary><div>{e(snippet)}</div></details>"
        )
    evidence = "".join(
        f"<li>{e(ev.get('source') or 'any file')}: “{e(_clip(ev.get('quote', ''), 300))}”</li>" for ev in r.evidence
    )
    return (
        f'<div class="q {"right" if r.correct else "wrong"}">'
        f"<h3>{e(r.id)}: {e(r.question)}</h3>{tags}"
        f"<p><b>Reference:</b> {e(r.reference or '(unanswerable: should abstain)')}</p>"
        f'<p><b>Answer:</b></p><div class="answer">{e(answer or r.error)}</div>'
        f'<p class="why"><b>Why:</b> {e(_why(r))}</p>'
        + (f'<div class="src"><b>Cited sources</b>{"".join(sources)}</div>' if sources else "")
        + (f'<div class="src"><b>Gold evidence</b><ul>{evidence}</ul></div>' if evidence else "")
        + "</div>"
    )
