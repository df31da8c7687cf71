"""The Evaluation tab: run a question set the way ``rag eval`` does, or open a saved run."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.pipeline import Pipeline
from ui.render import render_charts, render_metrics, render_status, report_images

if TYPE_CHECKING:
    from rag.config import RetrievalSettings
    from rag.generation.base import Generator

REPO = Path(__file__).resolve().parents[1]


# -- pipelines for evaluation runs ---------------------------------------------------------------
class DerivedPipeline(Pipeline):
    """A pipeline sharing ``base``'s store, models and generators, with other settings.

    The Evaluation tab runs a whole question set with the settings chosen on the
    page; a derived pipeline (own retriever when retrieval settings differ) gives
    the run those settings without touching the pipeline that serves the chat.
    Generators are delegated to ``base`` so a loaded LLM is never loaded twice.
    """

    def __init__(
        self,
        base: Pipeline,
        retrieval: RetrievalSettings | None = None,
        generator: str | None = None,
        strict: bool | None = None,
    ) -> None:
        settings = base.settings
        if retrieval is not None:
            settings = replace(settings, retrieval=retrieval)
        if strict is not None:
            settings = replace(settings, verify=replace(settings.verify, strict=strict))
        retriever = base.retriever
        if retrieval is not None and retrieval != base.settings.retrieval:
            from rag.retrieval.hybrid import HybridRetriever

            # No BM25 disk cache: the base retriever owns that file; this one rebuilds in memory.
            retriever = HybridRetriever(base.store, base.embedder, retrieval, reranker=base.cross_encoder)
        super().__init__(settings, base.store, base.embedder, retriever, base.verifier, base.cross_encoder)
        self._base = base
        self._generator_name = generator

    def generator(self, name: str | None = None) -> Generator:
        return self._base.generator(name or self._generator_name)


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
    """Metrics table, charts and the report path of a finished run."""
    from rag.evaluation import evaluate as ev

    metrics, _results = ev.load_run(run_dir)
    caption = (
        f"{metrics.get('n.questions', 0)} questions: {metrics.get('n.answerable', 0)} answerable, "
        f"{metrics.get('n.unanswerable', 0)} unanswerable, {metrics.get('n.errors', 0)} errors"
    )
    rows = [(label, ev.format_value(metrics.get(key))) for key, label in ev.SUMMARY_KEYS if key in metrics]
    report = run_dir / "report.html"
    images = report_images(report.read_text(encoding="utf-8", errors="replace")) if report.is_file() else []
    return render_metrics(rows, caption), render_charts(images), str(report) if report.is_file() else None


def evaluation_tab(pipeline: Pipeline, controls: list[Any]) -> None:
    sets = question_sets(pipeline)
    runs = saved_runs(pipeline)
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
        report_file = gr.File(label="Full report", scale=2, interactive=False, elem_id="eval-report")
    status = gr.HTML(elem_id="eval-status")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            metrics = gr.HTML(elem_id="eval-metrics")
        with gr.Column(scale=3):
            charts = gr.HTML(elem_id="eval-charts")

    def show(path: str | None) -> tuple[Any, ...]:
        if not path:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            table, images, report = view_run(Path(path))
        except Exception as exc:  # a damaged run directory is reported, not raised
            return render_status("error", f"Cannot open {path}: {describe(exc)}"), "", "", None
        return render_status("ok", f"Run {path}"), table, images, report

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
        done = render_status("ok", f"Finished. Saved in {run_dir}")
        return done, table, images, report, gr.update(choices=choices, value=str(run_dir.resolve()))

    saved.select(show, [saved], [status, metrics, charts, report_file], api_visibility="private")
    run.click(
        evaluate,
        [chosen, limit, *controls],
        [status, metrics, charts, report_file, saved],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="evaluate",
        show_progress_on=[status],
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
    """Run ``path`` the way ``rag eval`` does and write a run directory; returns it and the metrics.

    The evaluator wraps the retriever and verifier of the pipeline it is given
    while it runs, so it gets a private derived pipeline: chat users answering
    at the same time are not affected, and the page's settings apply to it.
    """
    from rag.evaluation import evaluate as ev

    questions = ev.load_questions(path)
    if limit:
        questions = questions[:limit]
    base = pipeline.settings.retrieval
    retrieval = replace(
        base,
        top_k=int(top_k) if top_k else base.top_k,
        hybrid=base.hybrid if hybrid is None else hybrid,
        rerank=base.rerank if rerank is None else rerank,
    )
    chosen = None if not generator or generator == pipeline.settings.generator.name else generator
    private = DerivedPipeline(pipeline, retrieval, chosen, strict)
    done = [0]

    def tick(_result: Any) -> None:
        done[0] += 1
        if progress is not None:
            progress((done[0], len(questions)), desc="Answering questions", unit="questions")

    if progress is not None:
        progress(0, desc="Loading models")  # run_questions answers a warm-up question first
    corpus = pipeline.settings.ingest.corpus_dir
    info = ev.run_info(
        private.settings.to_dict(),
        path,
        questions,
        corpus,
        limit,
        private.generator().name,
        argv=["rag", "ui", f"evaluation tab: {path.name}"],
    )
    started = time.perf_counter()
    results = ev.run_questions(private, questions, corpus, progress=tick)
    wall = time.perf_counter() - started
    metrics = ev.summarise(results, wall_s=round(wall, 2))
    info["seconds"] = round(wall, 2)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = pipeline.settings.store.data_dir / "eval-runs" / f"{stamp}-{path.stem}"
    ev.write_run(out, results, metrics, info, private)
    return out, metrics


def describe(exc: BaseException) -> str:
    """An exception in one line for the page."""
    return str(exc) or exc.__class__.__name__
