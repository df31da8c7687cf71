"""One checker for every value rule: settings at load, and per-request options from the CLI, UI and API.

Rules are written once, as annotations on the dataclass fields that hold the
values (``Annotated[int, Ge(1)]``, ``Literal["hybrid", "dense", "bm25"]``, the
aliases in :mod:`rag.types`), and checked here by pydantic. ``rag.toml``, the
``RAG_*`` variables and ``--set`` arrive as text, so settings are validated in
lax mode (``"6"`` becomes 6); :class:`~rag.types.AskOptions` values are
already typed, so they are validated strictly (``True`` is not a ``top_k``).

pydantic is imported on first use, not with this module: ``rag --help`` and
the library's import never pay for it.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Literal, get_type_hints


@dataclass(frozen=True)
class OneOf:
    """Rule for a text field: one of ``choices``. An ``Annotated[str, OneOf(...)]`` field stays a plain ``str``
    to the type checker (callers pass names they read from a form or a flag), unlike a ``Literal``."""

    choices: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return handler(Literal[self.choices])  # Literal[("a", "b")] is Literal["a", "b"]


def check_value(name: str, value: Any, hint: Any, strict: bool = False) -> Any:
    """``value`` validated against ``hint`` (coerced unless ``strict``); a one-line ``ValueError`` naming ``name``."""
    from pydantic import ValidationError

    try:
        return _adapter(hint).validate_python(value, strict=strict)
    except ValidationError as exc:
        raise ValueError(describe(name, value, exc.errors()[0])) from None


def check_fields(instance: Any) -> None:
    """Check every field of a dataclass instance against its annotation, strictly (values already typed)."""
    hints = _hints(type(instance))
    for field in dataclasses.fields(instance):
        check_value(field.name, getattr(instance, field.name), hints[field.name], strict=True)


def field_hints(cls: type) -> dict[str, Any]:
    """A dataclass's field annotations with their rules (``Annotated`` metadata kept)."""
    return dict(_hints(cls))


def describe(name: str, value: Any, error: Any) -> str:
    """pydantic's first error as a sentence a user can act on."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "literal_error":
        choices = str(context.get("expected", "")).replace("'", "")
        return f"unknown {name} {value!r}: use {choices}"
    message = str(error.get("msg", "is not valid"))
    message = message[0].lower() + message[1:] if message else message
    return f"{name}: {message}, got {value!r}"


@functools.cache
def _adapter(hint: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(hint)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls, include_extras=True)
    return _HINTS[cls]
