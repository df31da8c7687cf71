"""Which generator answers: a name -> builder table, so adding a backend is one entry.

``extractive`` needs no model. ``local`` and ``openai`` are LLM generators that
share one prompt (:mod:`rag.generation.prompts`) and differ only in their chat
backend (:mod:`rag.generation.llm`). ``auto`` picks one of them (see
:func:`choose_generator`). Builders import their implementation lazily, so
choosing the extractive answerer never imports an LLM runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rag.config import GeneratorSettings
from rag.generation.base import Generator, GeneratorUnavailable
from rag.types import GENERATOR_CHOICES

if TYPE_CHECKING:
    from rag.generation.extractive import PairScorer

Builder = Callable[[GeneratorSettings, "PairScorer | None"], Generator]


def _extractive(settings: GeneratorSettings, scorer: PairScorer | None) -> Generator:
    from rag.generation.extractive import ExtractiveGenerator

    if scorer is None:
        raise GeneratorUnavailable("the extractive generator needs the cross-encoder")
    return ExtractiveGenerator(scorer)


def _llm(name: str) -> Builder:
    def build(settings: GeneratorSettings, scorer: PairScorer | None) -> Generator:
        from rag.generation.llm import LLMGenerator, make_chat_backend

        return LLMGenerator(make_chat_backend(name, settings), settings, name=name)

    return build


GENERATORS: dict[str, Builder] = {"extractive": _extractive, "local": _llm("local"), "openai": _llm("openai")}
# What users may choose: the concrete generators plus "auto". The names are declared once, in
# rag.types, which settings and AskOptions validate against; this table must build each one.
GENERATOR_NAMES = GENERATOR_CHOICES
assert set(GENERATOR_NAMES) == {"auto", *GENERATORS}, "rag.types.GENERATOR_CHOICES and GENERATORS disagree"


def resolve_name(settings: GeneratorSettings) -> str:
    """The concrete generator ``settings.name`` stands for.

    ``auto`` takes the hosted/OpenAI-compatible endpoint when one is configured,
    because a capable hosted model writes the most fluent answers; otherwise the
    extractive answerer, because the small local models that install here write
    fluent but wrong sentences more often than they help (measured with
    ``rag eval``; see README). ``local`` must be asked for by name.
    """
    name = settings.name.lower()
    if name == "auto":
        return "openai" if settings.openai_base_url else "extractive"
    return name


def choose_generator(settings: GeneratorSettings, scorer: PairScorer | None = None) -> Generator:
    """Build the configured generator."""
    build = GENERATORS.get(resolve_name(settings))
    if build is None:
        raise GeneratorUnavailable(f"unknown generator {settings.name!r}: use {', '.join(GENERATOR_NAMES)}")
    return build(settings, scorer)
