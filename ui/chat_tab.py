"""The Chat tab: ask, watch an LLM's draft as it is written, then read the checked answer and its sources.

An LLM generator's tokens are shown as they arrive, marked as an unchecked
draft; verification needs the whole text, so when it is done the draft is
replaced by the answer with its citation chips and verdict badges. The
extractive answerer writes no draft: its answer appears at once. The
conversation lives in a per-session ``gr.State`` of :class:`~ui.render.Turn`,
so users never see each other's turns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.config import Settings
from rag.types import Answer
from ui.evaluation_tab import describe
from ui.generators import auto_means, generator_choices, unavailable_html
from ui.render import CHAT_JS, SOURCES_JS, Turn, render_conversation
from ui.sources import render_sources

# A draft is redrawn at most this often: the page is re-rendered whole, and tokens come faster than that.
DRAFT_REFRESH_S = 0.15

# question, earlier standalone questions, then the Settings controls' values:
# strict, generator, top-k, hybrid, rerank (the order of ``Assistant.stream``): draft pieces, then the Answer.
AnswerFn = Callable[[str, list[str], bool, str, float, bool, bool], Iterable[str | Answer]]
# What one event updates: the conversation, the source panel, the turns state and the question box.
Frame = tuple[Any, Any, Any, Any]


@dataclass(frozen=True)
class ChatTab:
    """The components of the Chat tab that its events read and write."""

    conversation: gr.HTML
    sources: gr.HTML
    turns: gr.State
    question: gr.Textbox
    ask: gr.Button
    clear: gr.Button
    strict: gr.Checkbox
    generator: gr.Dropdown
    top_k: gr.Slider
    hybrid: gr.Checkbox
    rerank: gr.Checkbox

    @property
    def controls(self) -> list[Any]:
        """The per-request settings controls, in :data:`AnswerFn` order; the Evaluation tab reuses them."""
        return [self.strict, self.generator, self.top_k, self.hybrid, self.rerank]


def chat_tab(answer: AnswerFn, settings: Settings, examples: Sequence[str]) -> list[Any]:
    """Lay out and wire the Chat tab inside the current ``gr.Tab``; returns its settings controls.

    ``examples`` are offered under the question box and the first is hinted on
    the empty page; pass none when the bundled corpus is not indexed.
    """
    hint = "Try: " + examples[0] if examples else ""
    tab = _layout(settings, examples, hint)
    _wire(tab, answer, hint)
    return tab.controls


def _layout(settings: Settings, examples: Sequence[str], hint: str) -> ChatTab:
    """Conversation and question box on the left, the source panel on the right."""
    turns = gr.State([])
    with gr.Row(equal_height=False):
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
            if examples:
                gr.Examples(list(examples), inputs=[question], label="Examples")
            with gr.Accordion("Settings", open=False, elem_id="settings"):
                gr.Markdown(
                    "Used for every question you ask on this page until you change them; they are not saved, "
                    "and other users keep their own.",
                    elem_classes="muted",
                    elem_id="settings-hint",
                )
                offered, selected, off = generator_choices(settings.generator)
                with gr.Row():
                    with gr.Column(min_width=260):
                        generator = gr.Dropdown(
                            offered,
                            value=selected,
                            label="Generator",
                            info=f"auto: here, {auto_means(settings.generator)}",
                            elem_id="generator",
                        )
                        gr.HTML(unavailable_html(off), elem_id="generators-off")
                    top_k = gr.Slider(1, 20, value=settings.retrieval.top_k, step=1, label="Passages (top-k)")
                with gr.Row():
                    hybrid = gr.Checkbox(value=settings.retrieval.hybrid, label="Hybrid search (BM25 + dense)")
                    rerank = gr.Checkbox(value=settings.retrieval.rerank, label="Cross-encoder rerank")
        with gr.Column(scale=2, min_width=340):
            sources = gr.HTML(render_sources([]), elem_id="source-panel", js_on_load=SOURCES_JS)
    return ChatTab(conversation, sources, turns, question, ask, clear, strict, generator, top_k, hybrid, rerank)


def _wire(tab: ChatTab, answer: AnswerFn, hint: str) -> None:
    """Ask (Enter or the button) streams an answer; Clear empties the conversation and the source panel."""

    def chat(text: str, history: list[Turn], *controls: Any) -> Iterator[Frame]:
        yield from chat_events(answer, text, history, *controls)

    inputs = [tab.question, tab.turns, *tab.controls]
    outputs = [tab.conversation, tab.sources, tab.turns, tab.question]
    for trigger in (tab.question.submit, tab.ask.click):
        trigger(chat, inputs, outputs, api_visibility="private", show_progress="hidden")
    tab.clear.click(
        lambda: (render_conversation([], hint), render_sources([]), [], ""),
        None,
        outputs,
        api_visibility="private",
        show_progress="hidden",
    )


def failed_turn(question: str, exc: Exception) -> Turn:
    """A turn without an answer: a question the pipeline refused (too long, too vague, a bad setting) asks
    the user to rephrase; anything else is a failure of the server, reported as one."""
    if isinstance(exc, ValueError):
        message = describe(exc)
        return Turn(question, error=message[:1].upper() + message[1:].rstrip(".") + ".", error_kind="notice")
    return Turn(question, error=f"Could not answer: {describe(exc)}")


def chat_events(
    answer: AnswerFn, text: str, history: list[Turn], *controls: Any
) -> Iterator[tuple[Any, Any, Any, Any]]:
    """What the page shows for one question, frame by frame: (conversation, sources, turns state, question box).

    The question and a pending bubble, the draft as it grows (LLM generators),
    then the checked answer; ``controls`` are the Settings values, passed on to ``answer``.
    """
    text = (text or "").strip()
    if not text:
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    earlier = [t.answer.standalone_question or t.question for t in history if t.answer is not None]
    yield render_conversation([*history, Turn(text)]), gr.skip(), gr.skip(), ""
    draft, drawn = "", 0.0  # the first piece is shown at once
    try:
        for item in answer(text, earlier, *controls):
            if isinstance(item, Answer):
                done = [*history, Turn(text, item)]
                yield render_conversation(done), render_sources(done), done, gr.skip()
                return
            draft += item
            if time.monotonic() - drawn >= DRAFT_REFRESH_S:
                drawn = time.monotonic()
                yield render_conversation([*history, Turn(text, draft=draft)]), gr.skip(), gr.skip(), gr.skip()
    except Exception as exc:  # kept in the conversation (and its state); the page must stay usable
        failed = [*history, failed_turn(text, exc)]
        yield render_conversation(failed), gr.skip(), failed, gr.skip()
