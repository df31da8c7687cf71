"""Caches as checksummed JSON: data that can be read back but never run.

A data directory may come from someone else (a shared volume, a restored
backup), so a cache in it must not be able to execute code when loaded, as a
pickle can. JSON only ever yields dicts, lists, strings and numbers. The file
names its format and version and carries the SHA-256 of its body, so a cache
that is truncated (a full disk), edited, of another version or not JSON at all
reads as absent, and the caller rebuilds it from the store.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def _digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def write_checked(path: Path, kind: str, version: int, body: dict[str, Any]) -> None:
    """Write ``body`` under a header naming ``kind`` and ``version``; atomic, so a crash leaves the old file or none."""
    document = {"format": kind, "version": version, "sha256": _digest(body), "body": body}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(document, ensure_ascii=True), encoding="ascii")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_checked(path: Path, kind: str, version: int) -> dict[str, Any] | None:
    """The body written by :func:`write_checked`; None when absent, unreadable, of another version, or altered."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):  # absent, not UTF-8, not JSON (a pickle), nested past the limit
        return None
    if not isinstance(document, dict) or document.get("format") != kind or document.get("version") != version:
        return None
    body = document.get("body")
    if not isinstance(body, dict) or document.get("sha256") != _digest(body):
        return None
    return body
