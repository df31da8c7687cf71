"""Source passages as the checker reads them: sentence units with their facts and stems, cached by text."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rag.text.sentences import sentence_spans
from rag.text.words import stems
from rag.verification.facts import TextIndex, index_text


@dataclass(frozen=True)
class PassageIndex:
    """A passage cut into sentence units, with per-unit fact indexes (cached by text)."""

    text: str
    units: tuple[tuple[int, int], ...]
    unit_texts: tuple[str, ...]
    unit_index: tuple[TextIndex, ...]
    unit_stems: tuple[frozenset[str], ...]
    index: TextIndex


@lru_cache(maxsize=1024)
def passage_index(text: str) -> PassageIndex:
    """``text`` cut by :func:`rag.text.sentences.sentence_spans`; the whole text is one unit if it has none."""
    units = tuple(sentence_spans(text)) or ((0, len(text)),)
    unit_texts = tuple(" ".join(text[s:e].split()) for s, e in units)
    return PassageIndex(
        text,
        units,
        unit_texts,
        tuple(index_text(t) for t in unit_texts),
        tuple(frozenset(stems(t)) for t in unit_texts),
        index_text(text),
    )


def clear_caches() -> None:
    """Forget parsed passages and fact indexes (benchmarks measure a cold start with it)."""
    passage_index.cache_clear()
    index_text.cache_clear()
