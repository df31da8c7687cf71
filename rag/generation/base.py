"""What every generator promises: one method, :meth:`Generator.generate`, returning a :class:`Draft`.

A draft's sentences end in ``[n]`` markers, where ``n`` is the 1-based position
of the passage in the list the generator was given. The pipeline turns markers
into citations and the verifier checks them; generators never build citations
themselves. The contracts live apart from :mod:`rag.generation.registry`, which
picks an implementation, so implementations import this file and never the
registry (no cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rag.types import Hit

if TYPE_CHECKING:
    from rag.generation.evidence import Evidence

NOT_IN_DOCUMENTS = "The documents do not contain the answer to this question."


@dataclass(frozen=True)
class Draft:
    """A generator's output before citation checking."""

    text: str
    abstained: bool


class Generator(Protocol):
    """One method per backend; everything else is built around it.

    ``evidence`` (the question plan and the financing facts it needs, for
    ``hits`` = ``evidence.hits``) is for generators that compose from it, the
    LLM ones; the extractive answerer ignores it.
    """

    name: str

    def generate(self, question: str, hits: list[Hit], evidence: Evidence | None = None) -> Draft: ...


class GeneratorUnavailable(RuntimeError):
    """The chosen generator cannot run here; the message says what to install or set."""
