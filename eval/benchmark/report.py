"""The results as a report: the targets table, ``bench.json`` and ``bench.md``.

:func:`render_markdown` is one function per report section, each reading only its own part of
the results and writing nothing when that section did not run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmark.workers.pdf import PDF_PASSES
from benchmark.workers.quality import QUALITY_KEYS

Results = dict[str, Any]

THROUGHPUT_ROWS = (
    ("raw_torch", "raw limit: SentenceTransformer.encode, batch 32 (fp32 PyTorch)"),
    ("raw_onnx", "raw: the project's ONNX INT8 encoder alone, batch 32"),
    ("raw_torch_bf16", "raw: SentenceTransformer.encode under bfloat16 autocast (not used; see notes)"),
    ("ingest_torch", "project ingest, `embedding.backend=torch`"),
    ("ingest_onnx", "project ingest, `embedding.backend=onnx`"),
    ("llama", "llama-index from_documents → Chroma (chunks 200/30, as the project)"),
    ("llama_defaults", "llama-index from_documents → Chroma, all defaults (1024-token chunks)"),
)


def targets(results: Results) -> list[dict[str, Any]]:
    """Each goal the benchmark was built to check, with what this run measured and whether it was met."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: Any, goal: str, met: bool | None) -> None:
        rows.append({"target": name, "value": value, "goal": goal, "met": met})

    tp = results.get("throughput")
    if tp:
        r = tp["ratios"]
        same = r["ingest_vs_raw_same_backend"]
        add("ingest vs raw encoder (same backend)", same, ">= 0.8", same >= 0.8)
        add("ingest vs raw sentence-transformers encode", r["ingest_vs_raw_torch"], ">= 0.8",
            r["ingest_vs_raw_torch"] >= 0.8)  # fmt: skip
        add("ingest vs llama-index baseline", r["ingest_vs_llama"], ">= 1.5", r["ingest_vs_llama"] >= 1.5)
    scale = results.get("scale", {})
    if scale:
        largest = list(scale)[-1]
        hybrid = scale[largest]["query"]["retrieval"].get("hybrid", {}).get("p50_ms")
        add(f"hybrid retrieval p50 at {largest}", f"{hybrid} ms", "<= 50 ms", hybrid is not None and hybrid <= 50)
        label = "10k" if "10k" in scale else list(scale)[min(1, len(scale) - 1)]
        ten = scale[label]
        answer = ten["query"]["answer"]["p50_ms"]
        add(f"extractive verified answer p50 at {label}", f"{answer} ms", "<= 300 ms", answer <= 300)
        rss = max(entry["ingest"]["peak_rss_mb"] for entry in scale.values())
        add(f"ingest peak RSS (up to {largest})", f"{rss:.0f} MB", "<= 3000 MB", rss <= 3000)
        ratio = ten["ingest"].get("reingest_ratio")
        if ratio is not None:
            add(f"re-ingest unchanged {label} / first ingest", f"{ratio:.1%}", "<= 10%", ratio <= 0.10)
    quality = results.get("quality", {})
    if "torch" in quality and "onnx" in quality:
        a, b = quality["torch"].get("retrieval.hit@5"), quality["onnx"].get("retrieval.hit@5")
        if a is not None and b is not None:
            add("hit@5, ONNX INT8 minus fp32 (eval/questions.jsonl)", f"{(b - a) * 100:+.1f} points",
                ">= -1 point", b - a >= -0.01)  # fmt: skip
    pdf = results.get("pdf")
    if pdf:
        add("PDF pages/s vs llama-index PDFReader", f"{pdf['speedup']}x", ">= 5x", pdf["speedup"] >= 5)
    st = results.get("startup")
    if st:
        add("rag --help", f"{st['help']['p50_ms']:.0f} ms", "<= 1000 ms", st["help"]["p50_ms"] <= 1000)
    return rows


def write_reports(out: Path, results: Results) -> str:
    """``bench.json`` and ``bench.md`` in ``out``; returns the markdown."""
    markdown = render_markdown(results)
    (out / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "bench.md").write_text(markdown + "\n")
    return markdown


def render_markdown(results: Results) -> str:
    sections: list[Callable[[Results], list[str]]] = [
        _header, _targets, _throughput, _scale, _pdf, _startup, _server, _quality, _profiles, _errors,
    ]  # fmt: skip
    return "\n".join(line for section in sections for line in section(results))


def p50_p95(summary: dict[str, Any] | None) -> str:
    """A latency summary as the tables show it, or a dash when nothing was measured."""
    return f"{summary['p50_ms']:.0f} / {summary['p95_ms']:.0f} ms" if summary and summary.get("n") else "—"


def _header(results: Results) -> list[str]:
    meta = results["meta"]
    return [
        "# Performance benchmark",
        "",
        f"`{meta['command']}` on {meta['machine']} ({meta['cpus']} CPUs), {meta['date']}; "
        f"embedding backend `{meta['backend']}`; {meta['seconds']:.0f} s in all. "
        f"Load average before the run: {meta['load_before']}.",
        "",
    ]


def _targets(results: Results) -> list[str]:
    rows = targets(results)
    if not rows:
        return []
    lines = ["## Targets", "", "| target | measured | goal | met |", "|---|---|---|---|"]
    for row in rows:
        met = "yes" if row["met"] else ("no" if row["met"] is not None else "—")
        lines.append(f"| {row['target']} | {row['value']} | {row['goal']} | {met} |")
    return [*lines, ""]


def _throughput(results: Results) -> list[str]:
    tp = results.get("throughput")
    if not tp:
        return []
    lines = [
        f"## Ingest throughput (~{tp['corpus_chunks_target']} chunks, {tp['files']} files)",
        "",
        "| what | chunks | seconds | chunks/s | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for key, label in THROUGHPUT_ROWS:
        if key in tp:
            r = tp[key]
            rss = f"{r['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in r else "—"
            lines.append(f"| {label} | {r['chunks']} | {r['seconds']} | {r['chunks_per_s']} | {rss} |")
    return [*lines, "", "Ratios: " + ", ".join(f"{k} **{v}**" for k, v in tp["ratios"].items()), ""]


def _scale(results: Results) -> list[str]:
    scale = results.get("scale")
    if not scale:
        return []
    lines = [
        "## Scale: ingest, queries (warm) and memory",
        "",
        "| index | vectors | ingest chunks/s | re-ingest | ingest RSS | dense p50/p95 | BM25 p50/p95 "
        "| hybrid p50/p95 | +rerank p50/p95 | answer p50/p95 | llama-index retriever p50/p95 | first query "
        "| query RSS |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in scale.values():
        ing, q = e["ingest"], e["query"]
        retrieval = q["retrieval"]
        llama = p50_p95(e["llama_retriever"]["retrieve"]) if "llama_retriever" in e else "—"
        reingest = f"{ing['reingest_s']} s ({ing['reingest_ratio']:.1%})" if "reingest_s" in ing else "—"
        lines.append(
            f"| {q['count']} chunks | {ing['vectors']} | {ing['chunks_per_s']} | {reingest} "
            f"| {ing['peak_rss_mb']:.0f} MB "
            f"| {p50_p95(retrieval.get('dense'))} "
            f"| {p50_p95(retrieval.get('bm25'))} | {p50_p95(retrieval.get('hybrid'))} "
            f"| {p50_p95(retrieval.get('hybrid+rerank'))} | {p50_p95(q['answer'])} | {llama} "
            f"| {e['query_first']['warm_up_s']} s | {q['peak_rss_mb']:.0f} MB |"
        )
    return [
        *lines,
        "",
        "Answer stages (p50, ms): "
        + "; ".join(f"{label}: {e['query']['answer_stages_p50_ms']}" for label, e in scale.items()),
        "",
        '"first query" is the first question of a fresh process after the ingest: model loads plus the BM25 '
        "index built from the store and cached on disk; later processes load the cache "
        "(warm-up then: " + ", ".join(f"{label} {e['query']['warm_up_s']} s" for label, e in scale.items()) + ").",
        "",
    ]


def _pdf(results: Results) -> list[str]:
    pdf = results.get("pdf")
    if not pdf:
        return []
    lines = [
        f"## PDF parsing ({pdf['documents']} SEC-filing-like PDFs, {pdf['pages']} pages)",
        "",
        "| reader | pages/s | page count right | pages with their paragraphs in order |",
        "|---|---|---|---|",
    ]
    for name, r in pdf.items():
        if isinstance(r, dict):
            order = f"{r['pages_in_order']}/{r['pages_checked']}"
            lines.append(f"| {name} | {r['pages_per_s']} | {r['page_count_ok']} | {order} |")
    return [*lines, "", f"Speed-up: **{pdf['speedup']}×** (best of {PDF_PASSES} passes each).", ""]


def _startup(results: Results) -> list[str]:
    st = results.get("startup")
    if not st:
        return []
    lines = [
        "## Start-up",
        "",
        f"* `rag --help`: p50 {st['help']['p50_ms']:.0f} ms (bare `python -c pass`: {st['python_bare_ms']:.0f} ms)",
        f"* cold `rag ask` over {st['ask_index_chunks']} chunks (extractive): p50 {st['ask']['p50_ms']:.0f} ms",
        "",
        "Breakdown of a cold `rag ask` (one fresh process):",
        "",
        "| step | ms |",
        "|---|---|",
    ]
    lines += [f"| {s['step']} | {s['ms']:.0f} |" for s in st["breakdown"]["steps"]]
    lines += ["", "Largest imports (`python -X importtime`, cumulative):", ""]
    return [*lines, ", ".join(f"{r['module']} {r['cumulative_ms']:.0f} ms" for r in st["importtime_top"]), ""]


def _server(results: Results) -> list[str]:
    sv = results.get("server")
    if not sv or "ingest" not in sv:
        return []
    q = sv["query"]
    eq = sv.get("embedded_query")
    lines = [
        f"## Chroma server (`chroma run`, loopback) vs embedded, ~{sv['size']} chunks",
        "",
        "| store | ingest end to end (throughput corpus) | ingest, vectors reused | re-ingest unchanged "
        "| dense p50/p95 | hybrid p50/p95 | answer p50/p95 | query RSS |",
        "|---|---|---|---|---|---|---|---|",
        f"| server | {sv['ingest_e2e']['chunks_per_s']} chunks/s | {sv['ingest']['chunks_per_s']} chunks/s "
        f"| {sv['ingest'].get('reingest_s')} s | {p50_p95(q['retrieval'].get('dense'))} "
        f"| {p50_p95(q['retrieval'].get('hybrid'))} "
        f"| {p50_p95(q['answer'])} | {q['peak_rss_mb']:.0f} MB |",
    ]
    if eq:
        lines.append(
            f"| embedded | {sv.get('embedded_e2e_chunks_per_s', '—')} chunks/s | (see Scale) | (see Scale) "
            f"| {p50_p95(eq['retrieval'].get('dense'))} | {p50_p95(eq['retrieval'].get('hybrid'))} "
            f"| {p50_p95(eq['answer'])} | {eq['peak_rss_mb']:.0f} MB |"
        )
    multi = sv.get("ingest_e2e_workers")
    if multi:
        lines += [
            "",
            f"`rag ingest --workers {multi['workers']}` against the server, same corpus: "
            f"{multi['chunks_per_s']} chunks/s (one process: {sv['ingest_e2e']['chunks_per_s']} chunks/s; "
            f"on {results['meta']['cpus']} CPUs the model already uses every core in one process).",
        ]
    return [*lines, ""]


def _quality(results: Results) -> list[str]:
    quality = results.get("quality", {})
    if "torch" not in quality or "onnx" not in quality:
        return []
    t, o = quality["torch"], quality["onnx"]
    lines = [
        f"## Quality by embedding backend (corpus/, {t['n_questions']} questions of eval/questions.jsonl)",
        "",
        f"Measured {quality.get('measured', '?')} by `python eval/bench.py --sections quality` "
        "(the whole pipeline, extractive answers; the same metrics as `rag eval`).",
        "",
        "| metric | torch fp32 | onnx int8 |",
        "|---|---|---|",
    ]

    def number(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    lines += [f"| {key} | {number(t.get(key))} | {number(o.get(key))} |" for key in QUALITY_KEYS]
    if "cosine_vs_fp32" in o:
        c = o["cosine_vs_fp32"]
        lines += ["", f"Cosine of ONNX INT8 vs fp32 vectors over {c['n']} chunks and questions: "
                  f"min {c['min']}, mean {c['mean']}."]  # fmt: skip
    return [*lines, ""]


def _profiles(results: Results) -> list[str]:
    prof = results.get("profile")
    if not prof:
        return []
    lines = ["## Profiles (pyinstrument, top frames by own time)", ""]
    for key, title in (("ingest", "ingest"), ("retrieval_hybrid", "hybrid retrieval"), ("answer", "answers")):
        p = prof.get(key)
        if not p:
            continue
        at = f", at {prof['at']}" if key != "ingest" and "at" in prof else ""
        lines += [f"**{title}** ({p['duration_s']} s profiled{at})", "", "| own % | frame |", "|---|---|"]
        lines += [f"| {r['percent']} | `{r['frame']}` |" for r in p["own"][:10]]
        lines.append("")
    return lines


def _errors(results: Results) -> list[str]:
    if not results.get("errors"):
        return []
    return ["## Sections that failed", "", *(f"* {k}: {v}" for k, v in results["errors"].items()), ""]
