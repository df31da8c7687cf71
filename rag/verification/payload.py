"""``rag check``: verify the citations of any answer, given as JSON, and return plain JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.verification.checker import Verifier


def check_payload(payload: dict[str, Any], verifier: Verifier) -> dict[str, Any]:
    """``rag check``: ``{"answer": str, "sources": [{"n", "text", "date"?, "title"?}], "strict"?: bool}``.

    Returns the result as a plain dict; a source's ``date`` ("2026-02") lets a figure worded as current be found
    outdated by a later one.
    """
    if not isinstance(payload, dict):
        raise ValueError("payload must be a JSON object with 'answer' and 'sources'")
    answer = payload.get("answer")
    if not isinstance(answer, str):
        raise ValueError("'answer' must be a string")
    sources = payload.get("sources")
    if not isinstance(sources, list):
        raise ValueError('\'sources\' must be a list of {"n": int, "text": str} objects')
    passages: dict[int, str] = {}
    dates: dict[int, str] = {}
    titles: dict[int, str] = {}
    for i, source in enumerate(sources):
        if not isinstance(source, dict):
            raise ValueError(f"sources[{i}] must be an object with 'n' and 'text'")
        n, text = source.get("n"), source.get("text")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"sources[{i}].n must be a positive integer (the [n] marker), got {n!r}")
        if not isinstance(text, str):
            raise ValueError(f"sources[{i}].text must be a string")
        if n in passages:
            raise ValueError(f"sources[{i}].n: citation number {n} appears twice")
        passages[n] = text
        date = source.get("date", "")
        if not isinstance(date, str):
            raise ValueError(f'sources[{i}].date must be a string such as "2026-02" when given')
        dates[n] = date
        title = source.get("title", "")
        if not isinstance(title, str):
            raise ValueError(f"sources[{i}].title must be a string when given")
        titles[n] = title
    strict = payload.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise ValueError("'strict' must be true or false when given")
    result = verifier.check(answer, passages, strict=strict, dates=dates, titles=titles)
    return {
        "claims": [asdict(c) for c in result.claims],
        "grounding": result.grounding,
        "answer": result.answer,
        "notes": list(result.notes),
    }
