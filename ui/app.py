"""The Gradio app: Chat, Documents and Evaluation tabs over one :class:`~rag.pipeline.Pipeline`.

Answers are computed whole by the pipeline (verification needs the full text),
then streamed to the page sentence by sentence, each with its citation chips
and verdict badge. The same answering path backs the ``/ask`` API endpoint
(``gradio_client``: ``client.predict("question", api_name="/ask")``), which
returns exactly the JSON of ``rag ask --json``.

Settings chosen on the page apply to one request only; the shared pipeline is
never mutated, because several users may be asking at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.loaders import SUPPORTED_SUFFIXES
from rag.pipeline import Pipeline
from ui.render import (
    CHAT_JS,
    CSS,
    SOURCES_JS,
    Turn,
    answer_segments,
    render_charts,
    render_conversation,
    render_metrics,
    render_sources,
    render_status,
    report_images,
)
from ui.uploads import UploadError, inside, remove_upload, store_upload, uploads_dir

if TYPE_CHECKING:
    from rag.config import RetrievalSettings
    from rag.generate import Generator
    from rag.types import Answer

GENERATORS = ("auto", "extractive", "local", "openai")
CONCURRENCY = 4
STREAM_DELAY_S = 0.05
EXAMPLES = (
    "Which companies participated in OpenAI's latest financing round?",
    "How much did SoftBank commit to OpenAI in 2025?",
    "What is the Stargate joint venture?",
)
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
            from rag.retrieve import HybridRetriever

            # No BM25 disk cache: the base retriever owns that file; this one rebuilds in memory.
            retriever = HybridRetriever(base.store, base.embedder, retrieval, reranker=base.cross_encoder)
        super().__init__(settings, base.store, base.embedder, retriever, base.verifier, base.cross_encoder)
        self._base = base
        self._generator_name = generator

    def generator(self, name: str | None = None) -> Generator:
        return self._base.generator(name or self._generator_name)


class Assistant:
    """Answers for the page and the API, with the request's own settings.

    Every choice (strict, generator, top-k, hybrid, rerank) is passed to
    ``Pipeline.answer`` for this call only, so users with different settings
    share one pipeline, its loaded models and its BM25 index.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def answer(
        self,
        question: str,
        history: list[str] | None = None,
        strict: bool | None = None,
        generator: str | None = None,
        top_k: int | float | None = None,
        hybrid: bool | None = None,
        rerank: bool | None = None,
    ) -> Answer:
        settings = self.pipeline.settings
        if generator and generator not in GENERATORS:
            raise ValueError(f"unknown generator {generator!r}; choose one of {', '.join(GENERATORS)}")
        chosen = None if not generator or generator == settings.generator.name else generator
        k = None if not top_k or int(top_k) == settings.retrieval.top_k else max(1, int(top_k))
        mode = None if hybrid is None else ("hybrid" if hybrid else "dense")
        return self.pipeline.answer(
            question, history=list(history or []), strict=strict, generator=chosen, top_k=k, mode=mode, rerank=rerank
        )


# -- the app ---------------------------------------------------------------------------
class RagBlocks(gr.Blocks):
    """``gr.Blocks`` whose ``launch()`` defaults suit this app.

    Gradio 6 takes the theme and CSS at launch, so the defaults live here and
    every caller (``rag ui``, tests, benchmarks) gets the same page: bound to
    127.0.0.1, login from ``RAG_UI_AUTH`` when set, uploads capped at the
    ingest size limit, no share link, no server-side rendering process.
    """

    max_file_mb: float = 50.0

    def launch(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("server_name", "127.0.0.1")
        kwargs.setdefault("share", False)
        kwargs.setdefault("css", CSS)
        kwargs.setdefault("theme", theme())
        kwargs.setdefault("ssr_mode", False)
        kwargs.setdefault("max_file_size", int(self.max_file_mb * 1024 * 1024))
        kwargs.setdefault("footer_links", ["api"])
        if "auth" not in kwargs:
            kwargs["auth"] = auth_from_env()
        if kwargs["auth"] is not None:
            kwargs.setdefault("auth_message", "Sign in to ask questions about the documents.")
        return super().launch(*args, **kwargs)


def theme() -> gr.themes.Base:
    """Indigo on slate. Source Sans Pro is declared at 400 and 700 only: the SemiBold file bundled
    with Gradio holds a handful of glyphs, so semibold text fell back letter by letter to
    another font; without a 600 face the browser draws 600 with the complete Bold file."""
    font = (gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif")
    return gr.themes.Default(primary_hue="indigo", neutral_hue="slate", radius_size="md", font=font)


def auth_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``RAG_UI_AUTH=user:password`` -> ("user", "password"); unset or empty -> no login.

    A value without a colon, or with an empty user or password, is an error
    rather than silently leaving the page open.
    """
    value = (os.environ if environ is None else environ).get("RAG_UI_AUTH", "")
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ValueError("RAG_UI_AUTH must be user:password (both non-empty)")
    return user.strip(), password


def build_ui(pipeline: Pipeline) -> RagBlocks:
    """The whole app over ``pipeline``; call ``.launch()`` on the result."""
    assistant = Assistant(pipeline)
    settings = pipeline.settings
    corpus_examples = _has_bundled_corpus(pipeline)
    hint = "Try: " + EXAMPLES[0] if corpus_examples else ""

    demo = RagBlocks(title="Cited: answers checked against your documents", analytics_enabled=False)
    demo.max_file_mb = settings.ingest.max_file_mb
    with demo:
        gr.HTML(
            '<div id="app-header"><h1>Cited</h1>'
            "<p>Answers from your documents, every sentence checked against the passage it cites.</p></div>",
            js_on_load=None,
        )
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=420):
                    conversation = gr.HTML(
                        render_conversation([], hint), elem_id="conversation", js_on_load=CHAT_JS, autoscroll=True
                    )
                    with gr.Row(equal_height=True):
                        question = gr.Textbox(
                            placeholder="Ask a question about the documents…  (follow-ups use the conversation)",
                            show_label=False,
                            lines=1,
                            max_lines=4,
                            scale=6,
                            autofocus=True,
                            elem_id="question",
                        )
                        ask = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="ask")
                    with gr.Row():
                        strict = gr.Checkbox(
                            value=settings.verify.strict,
                            label="Strict mode: drop sentences the sources do not support",
                            elem_id="strict",
                            scale=4,
                        )
                        clear = gr.Button("Clear conversation", size="sm", scale=1, min_width=150, elem_id="clear")
                    if corpus_examples:
                        gr.Examples(list(EXAMPLES), inputs=[question], label="Examples")
                    with gr.Accordion("Settings", open=False, elem_id="settings"):
                        gr.Markdown("Applied to your next question only; nothing is saved.", elem_classes="muted")
                        with gr.Row():
                            generator = gr.Dropdown(
                                list(GENERATORS),
                                value=settings.generator.name if settings.generator.name in GENERATORS else "auto",
                                label="Generator",
                                info="auto: the OpenAI-compatible endpoint when configured, else extractive",
                            )
                            top_k = gr.Slider(1, 20, value=settings.retrieval.top_k, step=1, label="Passages (top-k)")
                        with gr.Row():
                            hybrid = gr.Checkbox(value=settings.retrieval.hybrid, label="Hybrid search (BM25 + dense)")
                            rerank = gr.Checkbox(value=settings.retrieval.rerank, label="Cross-encoder rerank")
                with gr.Column(scale=2, min_width=340):
                    sources = gr.HTML(render_sources([]), elem_id="source-panel", js_on_load=SOURCES_JS)

            with gr.Tab("Documents", id="documents"):
                _documents_tab(pipeline, demo)

            with gr.Tab("Evaluation", id="evaluation"):
                _evaluation_tab(pipeline, [strict, generator, top_k, hybrid, rerank])

        def chat(
            text: str,
            history: list[Turn],
            strict_mode: bool,
            generator_name: str,
            k: float,
            use_hybrid: bool,
            use_rerank: bool,
        ) -> Iterator[tuple[Any, Any, Any, Any]]:
            """Stream one answer: the question and a pending bubble, then sentence after sentence."""
            text = (text or "").strip()
            if not text:
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            earlier = [t.answer.standalone_question or t.question for t in history if t.answer is not None]
            yield render_conversation([*history, Turn(text)]), gr.skip(), gr.skip(), ""
            try:
                answer = assistant.answer(
                    text,
                    history=earlier,
                    strict=strict_mode,
                    generator=generator_name,
                    top_k=k,
                    hybrid=use_hybrid,
                    rerank=use_rerank,
                )
            except Exception as exc:  # shown in the conversation; the page must stay usable
                failed = [*history, Turn(text, error=f"Could not answer: {_describe(exc)}")]
                yield render_conversation(failed), gr.skip(), history, gr.skip()
                return
            index = len(history) + 1
            pieces = answer_segments(answer, index)
            for shown in range(1, len(pieces)):
                yield render_conversation([*history, Turn(text, answer, shown=shown)]), gr.skip(), gr.skip(), gr.skip()
                time.sleep(STREAM_DELAY_S)
            done = [*history, Turn(text, answer)]
            yield render_conversation(done), render_sources(done), done, gr.skip()

        chat_inputs = [question, turns, strict, generator, top_k, hybrid, rerank]
        chat_outputs = [conversation, sources, turns, question]
        for trigger in (question.submit, ask.click):
            trigger(chat, chat_inputs, chat_outputs, api_visibility="private", show_progress="hidden")
        clear.click(
            lambda: (render_conversation([], hint), render_sources([]), [], ""),
            None,
            [conversation, sources, turns, question],
            api_visibility="private",
            show_progress="hidden",
        )

        def ask_api(
            question: str,
            history: list[str] | None = None,
            strict: bool | None = None,
            generator: str | None = None,
            top_k: int | None = None,
            hybrid: bool | None = None,
            rerank: bool | None = None,
        ) -> dict[str, Any]:
            """Answer a question with verified citations; returns the answer JSON (as ``rag ask --json``).

            ``history`` holds the previous standalone questions of a conversation,
            so follow-ups are understood in context.
            """
            try:
                return assistant.answer(question, history, strict, generator, top_k, hybrid, rerank).to_dict()
            except ValueError as exc:
                raise gr.Error(str(exc)) from exc

        gr.api(ask_api, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _describe(exc: BaseException) -> str:
    return str(exc) or exc.__class__.__name__


def _has_bundled_corpus(pipeline: Pipeline) -> bool:
    try:
        corpus = pipeline.settings.ingest.corpus_dir.resolve()
        return any(inside(Path(record.path), corpus) for record in pipeline.documents())
    except Exception:  # examples are a nicety; never fail the page over them
        return False


# -- documents tab -----------------------------------------------------------------------
def _documents_tab(pipeline: Pipeline, demo: gr.Blocks) -> None:
    settings = pipeline.settings
    folder = uploads_dir(settings.store.data_dir)
    gr.Markdown(
        f"Upload {', '.join(s.lstrip('.') for s in SUPPORTED_SUFFIXES)} files up to "
        f"{settings.ingest.max_file_mb:g} MB each. They are stored in `{folder}` and indexed at once; "
        "uploading a file of the same name again replaces it."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            files = gr.File(
                label="Upload documents",
                file_count="multiple",
                file_types=list(SUPPORTED_SUFFIXES),
                elem_id="upload",
                height=150,
            )
            status = gr.HTML(elem_id="ingest-status")
        with gr.Column(scale=3):
            summary = gr.Markdown(elem_id="doc-summary")
            table = gr.Dataframe(
                headers=["Document", "File", "Chunks"],
                datatype=["str", "str", "number"],
                interactive=False,
                wrap=True,
                elem_id="doc-table",
                max_height=420,
                column_widths=["55%", "33%", "12%"],
            )
            with gr.Row(equal_height=True):
                chosen = gr.Dropdown(label="Remove a document", choices=[], scale=4, elem_id="doc-choice")
                delete = gr.Button("Delete from index", variant="stop", scale=1, min_width=150, elem_id="delete")

    def listing() -> tuple[Any, Any, Any]:
        records = pipeline.documents()
        rows = [[r.title or r.source, r.source, r.n_chunks] for r in records]
        choices = [(f"{r.title or r.source} ({r.source})", r.path) for r in records]
        total = sum(r.n_chunks for r in records)
        text = f"**{len(records)} documents, {total} chunks** in the index."
        return text, rows, gr.update(choices=choices, value=None)

    def add(paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Store the uploads safely, then ingest them with a progress bar."""
        from rag.ingest import IngestLocked

        if not paths:
            return (gr.skip(), *listing(), gr.skip())
        refused: list[str] = []
        stored: list[Path] = []
        progress(0, desc="Saving uploads")
        for path in paths:
            try:
                stored.append(store_upload(Path(path), folder, settings.ingest.max_file_mb))
            except UploadError as exc:
                refused.append(str(exc))
        report = None
        if stored:

            def tick(done: int, total: int, source: str) -> None:
                progress((done, total), desc=f"Embedding {source}", unit="chunks")

            try:
                report = pipeline.ingest(stored, progress=tick)
            except IngestLocked as exc:
                refused.append(str(exc))
        details = refused + ([f"{f.path}: {f.error}" for f in report.failed] if report else [])
        if report and not report.failed and report.files:
            message = (
                f"Indexed {_count(report.files, 'file')}: {_count(report.added, 'chunk')} added, "
                f"{report.skipped} unchanged ({report.seconds:.1f} s)."
            )
            html = render_status("warn" if refused else "ok", message, refused or None)
        elif report and report.files:
            html = render_status("warn", f"Indexed {_count(report.added, 'chunk')}; some files were skipped:", details)
        else:
            html = render_status("error", "Nothing was added:", details)
        return (html, *listing(), None)

    def remove(path: str | None) -> tuple[Any, ...]:
        if not path:
            return (render_status("warn", "Choose a document to delete first."), *listing())
        removed = pipeline.delete_document(path)
        deleted_file = remove_upload(path, folder)
        name = Path(path).name
        extra = " and its uploaded file" if deleted_file else ""
        return (render_status("ok", f"Deleted {name}: {_count(removed, 'chunk')} left the index{extra}."), *listing())

    files.upload(
        add,
        [files],
        [status, summary, table, chosen, files],
        api_visibility="private",
        show_progress="full",
        show_progress_on=[status],
        concurrency_limit=1,
        concurrency_id="ingest",
    )
    delete.click(
        remove,
        [chosen],
        [status, summary, table, chosen],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="ingest",
    )
    demo.load(listing, None, [summary, table, chosen], api_visibility="private", show_progress="hidden")


# -- evaluation tab ----------------------------------------------------------------------
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
    from rag import evaluate as ev

    metrics, _results = ev.load_run(run_dir)
    caption = (
        f"{metrics.get('n.questions', 0)} questions: {metrics.get('n.answerable', 0)} answerable, "
        f"{metrics.get('n.unanswerable', 0)} unanswerable, {metrics.get('n.errors', 0)} errors"
    )
    rows = [(label, ev.format_value(metrics.get(key))) for key, label in ev.SUMMARY_KEYS if key in metrics]
    report = run_dir / "report.html"
    images = report_images(report.read_text(encoding="utf-8", errors="replace")) if report.is_file() else []
    return render_metrics(rows, caption), render_charts(images), str(report) if report.is_file() else None


def _evaluation_tab(pipeline: Pipeline, controls: list[Any]) -> None:
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
            return render_status("error", f"Cannot open {path}: {_describe(exc)}"), "", "", None
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
            return render_status("error", f"The evaluation failed: {_describe(exc)}"), "", "", None, gr.skip()
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
    from rag import evaluate as ev

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
