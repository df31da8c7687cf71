"""Generators: turn a question and numbered retrieved passages into a cited answer.

Every generator implements one method, :meth:`Generator.generate`, and returns a
:class:`Draft`: answer text whose sentences end in ``[n]`` markers, where ``n``
is the 1-based position of the passage in the list it was given. The pipeline
turns markers into citations and the verifier checks them; generators never
build citations themselves.

``extractive`` needs no model. ``local`` and ``openai`` are LLM generators that
share one prompt (:mod:`rag.prompts`) and differ only in their chat backend
(:mod:`rag.llm`). ``auto`` picks one of them (see :func:`choose_generator`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rag.config import GeneratorSettings
from rag.types import Hit

if TYPE_CHECKING:
    from rag.extractive import PairScorer

NOT_IN_DOCUMENTS = "The documents do not contain the answer to this question."


@dataclass(frozen=True)
class Draft:
    """A generator's output before citation checking."""

    text: str
    abstained: bool


class Generator(Protocol):
    """One method per backend; everything else is built around it."""

    name: str

    def generate(self, question: str, hits: list[Hit]) -> Draft: ...


class GeneratorUnavailable(RuntimeError):
    """The chosen generator cannot run here; the message says what to install or set."""


def choose_generator(settings: GeneratorSettings, scorer: PairScorer | None = None) -> Generator:
    """Build the configured generator.

    ``auto`` takes the hosted/OpenAI-compatible endpoint when one is configured,
    because a capable hosted model writes the most fluent answers; otherwise the
    extractive answerer, because the small local models that install here write
    fluent but wrong sentences more often than they help (measured with
    ``rag eval``; see README). ``local`` must be asked for by name.
    """
    from rag.extractive import ExtractiveGenerator

    name = settings.name.lower()
    if name == "auto":
        name = "openai" if settings.openai_base_url else "extractive"
    if name == "extractive":
        if scorer is None:
            raise GeneratorUnavailable("the extractive generator needs the cross-encoder")
        return ExtractiveGenerator(scorer)
    if name in ("local", "openai"):
        from rag.llm import LLMGenerator, make_chat_backend

        return LLMGenerator(make_chat_backend(name, settings), settings, name=name)
    raise GeneratorUnavailable(f"unknown generator {settings.name!r}: use auto, extractive, local or openai")
