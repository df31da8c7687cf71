"""The one directory where derived model files live (the ONNX export, assembled GGUF weights).

Both the embedding stage and the generation stage write there, so it belongs to
neither: importing it costs nothing and pulls in no stage.

A file built there is trusted only while it matches the SHA-256 recorded beside
it when it was built (:func:`record_digest`, :func:`matches_digest`): a file
that was truncated by a full disk, damaged, or replaced by someone who can
write to the cache is rebuilt instead of being loaded into the process.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_CHUNK = 1024 * 1024


def cache_dir() -> Path:
    """``$RAG_MODEL_CACHE`` or ``~/.cache/rag-models``: outside the repo, shared by all checkouts."""
    configured = os.environ.get("RAG_MODEL_CACHE", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "rag-models"


def digest_file(path: Path) -> Path:
    """Where the SHA-256 of ``path`` is recorded: ``<name>.sha256`` beside it."""
    return path.with_name(path.name + ".sha256")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MB pieces (model files are tens of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(_CHUNK):
            digest.update(piece)
    return digest.hexdigest()


def record_digest(path: Path) -> None:
    """Record ``path``'s SHA-256 beside it, atomically (a half-written record never matches)."""
    record = digest_file(path)
    tmp = record.with_name(record.name + ".tmp")
    tmp.write_text(f"{sha256_of(path)}  {path.name}\n", encoding="ascii")
    os.replace(tmp, record)


def matches_digest(path: Path) -> bool:
    """Whether ``path`` exists and its bytes match the SHA-256 recorded when it was built.

    No record (a file from before records existed, or one placed by hand) is no match.
    """
    try:
        recorded = digest_file(path).read_text(encoding="ascii").split()
        return bool(recorded) and recorded[0] == sha256_of(path)
    except (OSError, UnicodeDecodeError):
        return False
