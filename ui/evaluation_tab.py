"""The Evaluation tab: run a question set the way ``rag eval`` does, or open a saved run.

It opens with what an evaluation is and what is available to run or open,
rather than empty result boxes; results come with each metric explained
(:mod:`ui.metrics`), and paths are shown absolute, since the server's working
directory means nothing to someone reading the page.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from rag.pipeline import Pipeline
from rag.types import AskOptions, RetrievalMode
from ui.metrics import left_out, metric_rows
from ui.render import esc, render_charts, render_metrics, render_status

REPO = Path(__file__).resolve().parents[1]


def question_sets(pipeline: Pipeline) -> list[Path]:
    """``eval/*.jsonl`` beside the corpus folder, in the working directory and in the checkout, deduplicated."""
    found: dict[Path, None] = {}
    for folder in _eval_folders(pipeline):
        if folder.is_dir():
            for path in sorted(folder.glob("*.jsonl")):
                found.setdefault(path.resolve(), None)
    return list(found)


def _eval_folders(pipeline: Pipeline) -> list[Path]:
    return [pipeline.settings.ingest.corpus_dir.resolve().parent / "eval", Path.cwd() / "eval", REPO / "eval"]


def saved_runs(pipeline: Pipeline) -> list[Path]:
    """Finished run directories (with metrics.json): ``eval/runs/*`` and the UI's own, newest first."""
    roots = [folder / "runs" for folder in _eval_folders(pipeline)]
    roots.append(pipeline.settings.store.data_dir / "eval-runs")
    found: dict[Path, float] = {}
    for root in roots:
        if root.is_dir():
            for metrics in root.glob("*/metrics.json"):
                found.setdefault(metrics.parent.resolve(), metrics.stat().st_mtime)
    return sorted(found, key=lambda path: -found[path])


def _run_label(path: Path) -> str:
    return f"{path.name}  ({path.parent})"


def view_run(run_dir: Path) -> tuple[str, str, str | None]:
    """Metrics table, charts and the report path of a finished run, from its metrics.json and charts/*.png."""
    from rag.evaluation.rundir import load_run, run_charts

    metrics, _results = load_run(run_dir)
    caption = (
        f"{metrics.get('n.questions', 0)} questions: {metrics.get('n.answerable', 0)} answerable, "
        f"{metrics.get('n.unanswerable', 0)} unanswerable, {metrics.get('n.errors', 0)} errors"
    )
    images = [(title, _png_uri(path)) for title, path in run_charts(run_dir)]
    report = run_dir / "report.html"
    table = render_metrics(metric_rows(metrics), caption, left_out(metrics))
    return table, render_charts(images), str(report.resolve()) if report.is_file() else None


def empty_state(sets: list[Path], runs: list[Path]) -> str:
    """What the tab shows before any run is open: what an evaluation measures, and what there is to run or open."""
    intro = (
        "<p><b>No evaluation open yet.</b> An evaluation asks every question of a set whose answers are known and "
        "measures how often the right passages are found, the answers state the right facts, the system declines "
        "questions the documents cannot answer, and the citations support their sentences.</p>"
    )
    if sets:
        listed = ", ".join(f"{esc(p.name)} ({_count_questions(p)} questions)" for p in sets)
        run = f"<li>Run one: choose a question set ({listed}) and press <b>Run evaluation</b>. Set "
        run += "<b>First N questions</b> to 10 for a result in about a minute.</li>"
    else:
        run = (
            "<li>No question set was found: add a <code>.jsonl</code> file to <code>eval/</code>, one "
            '<code>{"question": …, "answer": …}</code> per line (see eval/README.md).</li>'
        )
    opened = f"<li>Or open one of the {len(runs)} saved runs; the latest is {esc(runs[0])}.</li>" if runs else ""
    return f'<div class="eval-empty">{intro}<ul>{run}{opened}</ul></div>'


def _count_questions(path: Path) -> int:
    with path.open(encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip())


def _png_uri(path: Path) -> str:
    """A chart file as a data URI: the page's HTML component cannot load files from the run directory."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@dataclass(frozen=True)
class EvaluationTab:
    """The components of the Evaluation tab that its events read and write."""

    chosen: gr.Dropdown
    limit: gr.Number
    run: gr.Button
    saved: gr.Dropdown
    report_file: gr.File
    status: gr.HTML
    metrics: gr.HTML
    charts: gr.HTML


def _layout(sets: list[Path], runs: list[Path]) -> EvaluationTab:
    """Choose a set and run it, or open a saved run; below, the status (at first, what to do), metrics and charts."""
    gr.Markdown(
        "Run a question set through the pipeline with the chat's current settings (generator, top-k, hybrid, "
        "rerank, strict) and score retrieval, answers, abstentions and citations, or open a saved run."
    )
    with gr.Row(equal_height=True):
        chosen = gr.Dropdown(
            [(p.name, str(p)) for p in sets],
            value=str(sets[0]) if sets else None,
            label="Question set",
            scale=3,
            elem_id="eval-set",
        )
        limit = gr.Number(
            value=0, precision=0, minimum=0, label="First N questions (0 = all)", scale=1, elem_id="eval-limit"
        )
        run = gr.Button("Run evaluation", variant="primary", scale=1, elem_id="eval-run")
    with gr.Row(equal_height=True):
        saved = gr.Dropdown(
            [(_run_label(p), str(p)) for p in runs],
            value=None,
            label="Or open a saved run",
            scale=4,
            elem_id="eval-saved",
        )
        report_file = gr.File(label="Full report", scale=2, interactive=False, elem_id="eval-report", visible=False)
    status = gr.HTML(empty_state(sets, runs), elem_id="eval-status")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            metrics = gr.HTML(elem_id="eval-metrics", visible=False)
        with gr.Column(scale=3):
            charts = gr.HTML(elem_id="eval-charts", visible=False)

    return EvaluationTab(chosen, limit, run, saved, report_file, status, metrics, charts)


def evaluation_tab(pipeline: Pipeline, controls: list[Any]) -> None:
    """Lay out and wire the Evaluation tab inside the current ``gr.Tab``; ``controls`` are the chat's settings."""
    tab = _layout(question_sets(pipeline), saved_runs(pipeline))

    def shown(table: str, images: str, report: str | None) -> tuple[Any, ...]:
        return (
            gr.update(value=table, visible=True),
            gr.update(value=images, visible=True),
            gr.update(value=report, visible=report is not None),
        )

    def show(path: str | None) -> tuple[Any, ...]:
        if not path:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            table, images, report = view_run(Path(path))
        except Exception as exc:  # a damaged run directory is reported, not raised
            return render_status("error", f"Cannot open {path}: {describe(exc)}"), "", "", None
        return (render_status("ok", f"Run saved in {Path(path).resolve()}"), *shown(table, images, report))

    def evaluate(
        path: str | None,
        first: float | None,
        strict_mode: bool,
        generator_name: str,
        k: float,
        use_hybrid: bool,
        use_rerank: bool,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not path:
            return render_status("warn", "No question set found: add eval/*.jsonl files."), "", "", None, gr.skip()
        try:
            run_dir, _metrics = run_evaluation(
                pipeline,
                Path(path),
                int(first or 0) or None,
                progress,
                strict=strict_mode,
                generator=generator_name,
                top_k=k,
                hybrid=use_hybrid,
                rerank=use_rerank,
            )
            table, images, report = view_run(run_dir)
        except Exception as exc:  # a broken set or run is reported on the page
            return render_status("error", f"The evaluation failed: {describe(exc)}"), "", "", None, gr.skip()
        choices = [(_run_label(p), str(p)) for p in saved_runs(pipeline)]
        done = render_status("ok", f"Finished. Saved in {run_dir.resolve()}")
        return (done, *shown(table, images, report), gr.update(choices=choices, value=str(run_dir.resolve())))

    results = [tab.status, tab.metrics, tab.charts, tab.report_file]
    tab.saved.select(show, [tab.saved], results, api_visibility="private")
    tab.run.click(
        evaluate,
        [tab.chosen, tab.limit, *controls],
        [*results, tab.saved],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="evaluate",
        show_progress_on=[tab.status],
    )


def run_evaluation(
    pipeline: Pipeline,
    path: Path,
    limit: int | None = None,
    progress: Any = None,
    strict: bool | None = None,
    generator: str | None = None,
    top_k: float | None = None,
    hybrid: bool | None = None,
    rerank: bool | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Run ``path`` with the page's settings through the runner ``rag eval`` uses; returns the run dir and metrics.

    The settings go to the runner as per-request :class:`AskOptions`, so chat
    users answering at the same time on the shared pipeline are not affected.
    ``progress`` is Gradio's progress tracker.
    """
    from rag.evaluation.runner import run_evaluation as run

    def tick(done: int, total: int, _result: Any) -> None:
        if progress is not None:
            progress((done, total), desc="Answering questions", unit="questions")

    if progress is not None:
        progress(0, desc="Loading models")  # the runner loads them with a warm-up question first
    options = page_options(pipeline, strict, generator, top_k, hybrid, rerank)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = pipeline.settings.store.data_dir / "eval-runs" / f"{stamp}-{path.stem}"
    argv = ["rag", "ui", f"evaluation tab: {path.name}"]
    return run(pipeline, path, options, out, limit, tick, argv)


def page_options(
    pipeline: Pipeline,
    strict: bool | None = None,
    generator: str | None = None,
    top_k: float | None = None,
    hybrid: bool | None = None,
    rerank: bool | None = None,
) -> AskOptions:
    """The page's controls as per-request options; a value equal to the setting stays "as configured"."""
    settings = pipeline.settings
    chosen = None if not generator or generator == settings.generator.name else generator
    k = None if top_k is None or int(top_k) == settings.retrieval.top_k else int(top_k)  # AskOptions checks it
    mode: RetrievalMode | None = None if hybrid is None else ("hybrid" if hybrid else "dense")
    return AskOptions(strict=strict, generator=chosen, top_k=k, mode=mode, rerank=rerank)


def describe(exc: BaseException) -> str:
    """An exception in one line for the page."""
    return str(exc) or exc.__class__.__name__
