"""Ingestion: files -> text -> chunks -> vectors -> Chroma, idempotent and crash-safe.

A file is identified by its resolved path; its ``doc_id`` hashes that path and
the file's bytes, so an unchanged file is skipped, a changed one replaces its
old chunks, and two copies of one file in different places stay separate.
Chunks from many files are embedded together in large batches (the model is
the bottleneck), then each batch of files is written with :meth:`ChromaStore.write_documents`,
which records a file in the manifest only after its chunks are stored.

One bad file never stops the run: it is reported with a reason and skipped.
A lock file in the data directory keeps two ingests from writing at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.embed import Embedder
from rag.store import ChromaStore, DamagedStoreError, FileRecord, StoreError
from rag.types import Chunk, FileFailure, IngestReport

ProgressCallback = Callable[[int, int, str], None]
_FLUSH_CHUNKS = 256
# rag.loaders and rag.chunking (which import llama-index, ~1-2 s) are imported where they are
# used, so `rag ask` and the UI's question path, which import this module through rag.pipeline,
# do not pay for them.


class IngestLocked(RuntimeError):
    """Another ingest holds the data directory's lock."""


@dataclass
class _Pending:
    record: FileRecord
    chunks: list[Chunk]


def discover(paths: list[Path]) -> tuple[list[Path], list[FileFailure]]:
    """Supported files under ``paths`` (sorted, deduplicated); named paths that cannot be used are failures.

    Directory walks do not follow symlinked directories, so a symlink loop cannot recurse forever.
    """
    from rag.loaders import SUPPORTED_SUFFIXES

    found: dict[str, Path] = {}
    failures: list[FileFailure] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    candidate = Path(root) / name
                    if name.startswith(".") or candidate.suffix.lower() not in SUPPORTED_SUFFIXES:
                        continue
                    _add_file(candidate, found, failures)
        elif path.exists() or path.is_symlink():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                failures.append(
                    FileFailure(str(path), f"unsupported file type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
                )
            else:
                _add_file(path, found, failures)
        else:
            failures.append(FileFailure(str(path), "no such file or directory"))
    return sorted(found.values(), key=str), failures


def _add_file(path: Path, found: dict[str, Path], failures: list[FileFailure]) -> None:
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        failures.append(FileFailure(str(path), "broken symlink or symlink loop"))
        return
    if not resolved.is_file():
        failures.append(FileFailure(str(path), "not a regular file"))
        return
    found.setdefault(str(resolved), resolved)


def document_id(path_key: str, content: bytes) -> str:
    return hashlib.sha256(path_key.encode() + b"\0" + hashlib.sha256(content).digest()).hexdigest()[:32]


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """Exclusive, non-blocking lock; released by the OS even if the process is killed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "ingest.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestLocked(
                f"another 'rag ingest' is writing to {data_dir}; wait for it to finish and run again"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Ingestor:
    """Runs one ingest over paths; see the module docstring for the guarantees."""

    def __init__(self, settings: Settings, store: ChromaStore, embedder: Embedder) -> None:
        from rag.chunking import Chunker

        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.chunker = Chunker(
            settings.chunking.chunk_size, settings.chunking.chunk_overlap, tokenizer=embedder.count_tokens
        )

    def ingest(self, paths: list[Path], prune: bool = False, progress: ProgressCallback | None = None) -> IngestReport:
        started = time.perf_counter()
        with ingest_lock(self.settings.store.data_dir):
            try:
                report = self._ingest(paths, prune, progress)
            except DamagedStoreError as exc:
                # Chroma's files were left unreadable by a killed process: rebuild from the documents.
                self.store.reset()
                report = self._ingest(paths, prune, progress)
                report.warnings.append(f"rebuilt the index from the documents: {exc}")
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _ingest(self, paths: list[Path], prune: bool, progress: ProgressCallback | None) -> IngestReport:
        from rag.loaders import LoadError, load_file

        files, failures = discover(paths)
        report = IngestReport(files=len(files), failed=failures)
        manifest = self.store.file_records()
        limit = int(self.settings.ingest.max_file_mb * 1024 * 1024)
        pending: list[_Pending] = []
        todo: list[_Pending] = []
        for path in files:
            key = str(path)
            try:
                size = path.stat().st_size
                if size > limit:  # the limit as configured: ":.0f" showed a 0.5 MB limit as "0 MB"
                    raise LoadError(
                        f"file too large: {size / 1048576:.1f} MB, the limit is {self.settings.ingest.max_file_mb:g} MB"
                    )
                content = path.read_bytes()
                doc_id = document_id(key, content)
                known = manifest.get(key)
                if known and known.doc_id == doc_id and self.store.chunk_versions(key) == {doc_id: known.n_chunks}:
                    report.skipped += 1
                    report.chunks += known.n_chunks
                    continue
                document = load_file(path)
                chunks = self.chunker.split(document, doc_id)
            except StoreError:
                # The store, not this file, failed (e.g. the Chroma server went away): stop the run
                # instead of reporting every remaining file as unparseable and exiting 0.
                raise
            except LoadError as exc:
                report.failed.append(FileFailure(key, str(exc)))
                continue
            except PermissionError:
                report.failed.append(FileFailure(key, "permission denied: the file cannot be read"))
                continue
            except OSError as exc:
                report.failed.append(FileFailure(key, f"cannot read file: {exc.strerror or exc}"))
                continue
            except Exception as exc:  # a parser bug on one file must not stop the others
                report.failed.append(FileFailure(key, f"could not parse: {exc.__class__.__name__}: {exc}"))
                continue
            record = FileRecord(path=key, doc_id=doc_id, n_chunks=len(chunks), title=document.title, source=path.name)
            todo.append(_Pending(record, chunks))
        total = sum(len(item.chunks) for item in todo)
        done = 0
        for item in todo:
            pending.append(item)
            if sum(len(p.chunks) for p in pending) >= _FLUSH_CHUNKS:
                done += self._flush(pending, report)
                if progress:
                    progress(done, total, item.record.source)
                pending = []
        if pending:
            done += self._flush(pending, report)
            if progress:
                progress(done, total, pending[-1].record.source)
        if prune:
            for key in sorted(set(manifest) - {str(p) for p in files}):
                if not Path(key).exists():
                    report.removed += self.store.delete_document(key)
        return report

    def _flush(self, pending: list[_Pending], report: IngestReport) -> int:
        texts = [chunk.text for item in pending for chunk in item.chunks]
        vectors = self.embedder.embed(texts)
        batch = []
        offset = 0
        for item in pending:
            n = len(item.chunks)
            batch.append((item.chunks, vectors[offset : offset + n], item.record))
            offset += n
        self.store.write_documents(batch)  # all chunks, then all manifest entries: see its docstring
        for item in pending:
            report.added += len(item.chunks)
            report.chunks += len(item.chunks)
        return len(texts)
