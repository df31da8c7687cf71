"""Safe handling of files uploaded through the web page.

A browser (or a crafted request) chooses the file name, so it is untrusted:
directories are stripped, NUL bytes and control characters removed, ``..``
refused, leading dots dropped (no hidden files), the type must be one the
loaders read, and the final path is resolved and checked to lie inside
``<data_dir>/uploads/`` (which also defeats a symlink planted there). Files are copied into place atomically so a
half-written upload is never ingested.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from rag.ingest.loaders import SUPPORTED_SUFFIXES

MAX_NAME_CHARS = 150
_UNSAFE = re.compile(r"[^\w.\- ()+,&@]")


class UploadError(ValueError):
    """An upload that is refused, with a reason the user can act on."""


def uploads_dir(data_dir: Path) -> Path:
    return data_dir / "uploads"


def safe_upload_name(name: str) -> str:
    """A file name safe to create inside the uploads folder, or :class:`UploadError`.

    ``"../../etc/passwd"`` is refused (it tries to leave the folder);
    ``"/home/u/report.md"`` and ``"C:\\\\docs\\\\report.md"`` become ``"report.md"``.
    """
    cleaned = "".join(ch for ch in name if ch != "\x00" and unicodedata.category(ch) not in ("Cc", "Cf"))
    parts = re.split(r"[\\/]+", cleaned)
    if any(p.strip() == ".." for p in parts):
        raise UploadError(f"file name {_show(name)} refers to a parent folder ('..')")
    base = unicodedata.normalize("NFC", parts[-1] if parts else "").strip()
    base = _UNSAFE.sub("_", base)
    base = re.sub(r"\s+", " ", base).strip(" .")
    if not base:
        raise UploadError(f"file name {_show(name)} is empty")
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadError(
            f"{_show(base)}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    stem = Path(base).stem
    if len(base) > MAX_NAME_CHARS:
        stem = stem[: MAX_NAME_CHARS - len(suffix)].rstrip(" .") or "upload"
    return f"{stem}{suffix}"


def _show(name: str) -> str:
    return repr(name[:80])


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` resolves to a location inside ``folder`` (symlinks followed)."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def store_upload(source: Path, folder: Path, max_mb: float, name: str | None = None) -> Path:
    """Copy the uploaded ``source`` into ``folder`` under a safe name; returns the stored path.

    ``name`` is the name the user gave (default: ``source``'s own). A file of the
    same name is replaced, so uploading a corrected version updates the document.
    """
    safe = safe_upload_name(name if name is not None else source.name)
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise UploadError(f"{safe}: the upload cannot be read") from exc
    if size > max_mb * 1024 * 1024:
        raise UploadError(f"{safe}: {size / 1024 / 1024:.1f} MB is over the {max_mb:g} MB limit")
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    target = (root / safe).resolve()
    if target.parent != root:
        raise UploadError(f"{safe}: the stored file would land outside the uploads folder")
    if target.exists() and not target.is_file():
        raise UploadError(f"{safe}: a non-file of that name is in the uploads folder")
    handle, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-", suffix=".part")
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def remove_upload(path: str, folder: Path) -> bool:
    """Delete an uploaded file when (and only when) it lies inside the uploads folder."""
    candidate = Path(path)
    if not candidate.is_file() or not inside(candidate, folder):
        return False
    candidate.unlink()
    return True
