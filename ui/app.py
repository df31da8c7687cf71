"""The Gradio app: Chat, Documents and Evaluation tabs over one :class:`~rag.pipeline.Pipeline`.

Each tab is built by its own module (``chat_tab``, ``documents_tab``,
``evaluation_tab``); this one assembles them, sets the page's theme, styles and
login, and serves the ``/ask`` API endpoint. The chat and the endpoint answer
through the same :class:`Assistant`; the endpoint (``gradio_client``:
``client.predict("question", api_name="/ask")``) returns exactly the JSON of
``rag ask --json``, with its schema and typed errors declared in :mod:`ui.api`.

Settings chosen on the page apply to one request only; the shared pipeline is
never mutated, because several users may be asking at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from starlette.middleware import Middleware

from rag.config import UISettings
from rag.generation.registry import resolve_name
from rag.pipeline import Pipeline
from ui.api import ServerBusy, ask_endpoint
from ui.chat_tab import chat_tab
from ui.documents_tab import documents_tab
from ui.evaluation_tab import evaluation_tab, page_options
from ui.login import LoginThrottle
from ui.render import CSS
from ui.uploads import inside

if TYPE_CHECKING:
    from rag.types import Answer, AskOptions

EXAMPLES = (
    "Which companies participated in OpenAI's latest financing round?",
    "How much did SoftBank commit to OpenAI in 2025?",
    "What is the Stargate joint venture?",
)


class Assistant:
    """Answers for the page and the API, with the request's own settings.

    Every choice (strict, generator, top-k, hybrid, rerank) becomes the
    :class:`~rag.types.AskOptions` of this call only (the same conversion the
    Evaluation tab's runs use), so users with different settings share one
    pipeline, its loaded models and its BM25 index. An unknown generator is a
    ``ValueError``.

    At most ``ui.llm_concurrency`` answers are written by an LLM at once; one
    more is refused at once with :class:`~ui.api.ServerBusy` instead of waiting
    in a worker slot, so a slow LLM can hold only that many of the
    ``ui.concurrency`` slots and extractive answers are never queued behind it.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.llm_slots = pipeline.settings.ui.llm_concurrency
        self._llm_gate = threading.BoundedSemaphore(self.llm_slots)

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
        options = page_options(self.pipeline, strict, generator, top_k, hybrid, rerank)
        with self._slot(options):
            return self.pipeline.answer(question, history=list(history or []), options=options)

    def stream(
        self,
        question: str,
        history: list[str] | None = None,
        strict: bool | None = None,
        generator: str | None = None,
        top_k: int | float | None = None,
        hybrid: bool | None = None,
        rerank: bool | None = None,
    ) -> Iterator[str | Answer]:
        """:meth:`answer` as :meth:`Pipeline.stream` gives it: an LLM's draft pieces, then the checked Answer."""
        options = page_options(self.pipeline, strict, generator, top_k, hybrid, rerank)
        with self._slot(options):
            yield from self.pipeline.stream(question, history=list(history or []), options=options)

    def uses_llm(self, options: AskOptions) -> bool:
        """Whether the request's generator (``auto`` resolved) is an LLM rather than the extractive answerer."""
        settings = self.pipeline.settings.generator
        chosen = replace(settings, name=options.generator) if options.generator else settings
        return resolve_name(chosen) != "extractive"

    @contextmanager
    def _slot(self, options: AskOptions) -> Iterator[None]:
        """An LLM slot for the request's lifetime when it needs one; :class:`ServerBusy` when none is free."""
        if not self.uses_llm(options):
            yield
            return
        if not self._llm_gate.acquire(blocking=False):
            raise ServerBusy(
                f"all {self.llm_slots} LLM slots are writing answers; retry in a moment "
                "(the extractive generator answers meanwhile)"
            )
        try:
            yield
        finally:
            self._llm_gate.release()


# -- the app ---------------------------------------------------------------------------
class RagBlocks(gr.Blocks):
    """``gr.Blocks`` whose ``launch()`` defaults suit this app.

    Gradio 6 takes the theme and CSS at launch, so the defaults live here and
    every caller (``rag ui``, tests, benchmarks) gets the same page: bound to
    127.0.0.1, login from ``RAG_UI_AUTH`` when set (wrong passwords throttled
    per client by :class:`~ui.login.LoginThrottle`), uploads capped at the
    ingest size limit, no share link, no server-side rendering process.
    """

    max_file_mb: float = 50.0
    ui_settings: UISettings = UISettings()

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
            throttle = Middleware(
                LoginThrottle,
                max_failures=self.ui_settings.login_max_failures,
                lockout_s=self.ui_settings.login_lockout_s,
            )
            app_kwargs = dict(kwargs.get("app_kwargs") or {})
            app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), throttle]
            kwargs["app_kwargs"] = app_kwargs
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
    examples = EXAMPLES if _has_bundled_corpus(pipeline) else ()

    demo = RagBlocks(title="Cited: answers checked against your documents", analytics_enabled=False)
    demo.max_file_mb = pipeline.settings.ingest.max_file_mb
    demo.ui_settings = limits = pipeline.settings.ui
    with demo:
        gr.HTML(
            '<div id="app-header"><h1>Cited</h1>'
            "<p>Answers from your documents, every sentence checked against the passage it cites.</p></div>",
            js_on_load=None,
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                controls = chat_tab(assistant.stream, pipeline.settings, examples)
            with gr.Tab("Documents", id="documents"):
                documents_tab(pipeline, demo)
            with gr.Tab("Evaluation", id="evaluation"):
                evaluation_tab(pipeline, controls)

        gr.api(ask_endpoint(assistant.answer), api_name="ask")
    # Bounded: past queue_size waiting requests a caller is told the queue is full and to retry,
    # instead of the queue (and the server's memory) growing without limit.
    demo.queue(max_size=limits.queue_size, default_concurrency_limit=limits.concurrency)
    return demo


def _has_bundled_corpus(pipeline: Pipeline) -> bool:
    try:
        corpus = pipeline.settings.ingest.corpus_dir.resolve()
        return any(inside(Path(record.path), corpus) for record in pipeline.documents())
    except Exception:  # examples are a nicety; never fail the page over them
        return False
