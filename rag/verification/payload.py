"""``rag check``: verify the citations of any answer, given as JSON, and return plain JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.verification.checker import Verifier


def check_payload(payload: dict[str, Any], verifier: Verifier) -> dict[str, Any]:
    """``rag check``: ``{"answer": str, "sources": [{"n": int, "text": str}], "strict"?: bool}`` -> result dict."""
    if not isinstance(payload, dict):
        raise ValueError("payload must be a JSON object with 'answer' and 'sources'")
    answer = payload.get("answer")
    if not isinstance(answer, str):
        raise ValueError("'answer' must be a string")
    sources = payload.get("sources")
    if not isinstance(sources, list):
        raise ValueError('\'sources\' must be a list of {"n": int, "text": str} objects')
    passages: dict[int, str] = {}
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
    strict = payload.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise ValueError("'strict' must be true or false when given")
    result = verifier.check(answer, passages, strict=strict)
    return {
        "claims": [asdict(c) for c in result.claims],
        "grounding": result.grounding,
        "answer": result.answer,
        "notes": list(result.notes),
    }
