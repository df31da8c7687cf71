"""Ingestion: files -> text -> chunks -> vectors -> Chroma, idempotent and crash-safe.

A file is identified by its resolved path; its ``doc_id`` hashes that path and
the file's bytes, so an unchanged file is skipped, a changed one replaces its
old chunks, and two copies of one file in different places stay separate.
Chunks from many files are embedded together in large batches (the model is
the bottleneck), then each batch of files is written with :meth:`ChromaStore.write_documents`,
which records a file in the manifest only after its chunks are stored.

One bad file never stops the run: it is reported with a reason and skipped. Parsing
runs in a child process held to per-file time and memory limits (:mod:`rag.ingest.limits`),
so a decompression bomb or a pathological PDF is one more skipped file, not a stalled run.
A large ingest chunks its files and extracts their financing facts in worker processes while
the next file is parsed (:mod:`rag.ingest.prepare`); a small one does it here.
A lock file in the data directory keeps two ingests from writing at once.

With ``ingest.workers`` > 1 (``rag ingest --workers N``), batches go to N
worker processes, each with its own copy of the model and its share of the
CPUs. Against a Chroma server each worker writes its batches itself, so the
writes scale with the server too; an embedded store belongs to one process, so
there the workers return the vectors and this process writes them. Every batch
keeps the write order of :meth:`ChromaStore.write_documents`, so a crash in any
process leaves the index consistent. On one small machine the model already
uses every core and workers add little (``eval/bench_results/bench.md``);
they pay off on a larger machine or several of them sharing one server.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.financing.extract import FACTS_VERSION
from rag.financing.model import FinancingFact
from rag.index.chroma_client import DamagedStoreError, StoreError, StoreFullError, disk_full_message, is_disk_full
from rag.index.embed import Embedder
from rag.index.store import ChromaStore, FileRecord
from rag.ingest.limits import GuardedParser
from rag.ingest.prepare import Preparer, document_facts
from rag.types import Chunk, FileFailure, IngestReport

ProgressCallback = Callable[[int, int, str], None]
FULL_DISK_MARGIN = 16 * 1024 * 1024
"""A store failure with less free space than this under the data directory is reported as a full disk."""
_FLUSH_CHUNKS = 256
# rag.ingest.loaders and rag.ingest.chunking (which import llama-index, ~1-2 s) are imported where they are
# used, so `rag ask` and the UI's question path, which import this module through rag.pipeline,
# do not pay for them.


class IngestLocked(RuntimeError):
    """Another ingest holds the data directory's lock."""


@dataclass
class _Pending:
    record: FileRecord
    chunks: list[Chunk]
    facts: list[FinancingFact]


def discover(paths: list[Path]) -> tuple[list[Path], list[FileFailure]]:
    """Supported files under ``paths`` (sorted, deduplicated); named paths that cannot be used are failures.

    Directory walks do not follow symlinked directories, so a symlink loop cannot recurse forever.
    """
    from rag.ingest.loaders import SUPPORTED_SUFFIXES

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
    """Exclusive, non-blocking lock on the data directory; released by the OS even if the process is killed.

    ``filelock`` takes an OS lock on every platform (``fcntl`` on POSIX, ``msvcrt`` on Windows).
    """
    from filelock import FileLock, Timeout

    data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(data_dir / "ingest.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        raise IngestLocked(
            f"another 'rag ingest' is writing to {data_dir}; wait for it to finish and run again"
        ) from exc
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _full_disk_reported(data_dir: Path, embedded: bool) -> Iterator[None]:
    """A full disk anywhere in the run (Chroma, the lock, a cache) as one :class:`StoreFullError` line.

    Chroma does not always say so: on a full disk its compactor fails with "Failed to apply
    logs to the metadata segment". So a store failure of an embedded store on a disk with less
    than :data:`FULL_DISK_MARGIN` free is taken for what it is. The store's write order makes
    the failure itself harmless: the batch being written has no manifest records yet, so the
    next run stores it again (chunk ids are content hashes, so rewriting them adds nothing twice).
    """
    try:
        yield
    except StoreFullError:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            where = getattr(exc, "filename", None) or data_dir
        elif embedded and isinstance(exc, StoreError) and _free_bytes(data_dir) < FULL_DISK_MARGIN:
            where = data_dir
        else:
            raise
        raise StoreFullError(disk_full_message(where, str(exc))) from exc


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return FULL_DISK_MARGIN  # cannot tell: not taken for a full disk


def _failure(key: str, exc: Exception) -> FileFailure:
    """The reason a file was skipped, in words; a store failure is not the file's and stops the run."""
    from rag.ingest.loaders import LoadError

    if isinstance(exc, StoreError):
        # The store, not this file, failed (e.g. the Chroma server went away): stop the run
        # instead of reporting every remaining file as unparseable and exiting 0.
        raise exc
    if isinstance(exc, LoadError):
        return FileFailure(key, str(exc))
    if isinstance(exc, PermissionError):
        return FileFailure(key, "permission denied: the file cannot be read")
    if isinstance(exc, OSError):
        return FileFailure(key, f"cannot read file: {exc.strerror or exc}")
    # a parser bug on one file must not stop the others
    return FileFailure(key, f"could not parse: {exc.__class__.__name__}: {exc}")


class Ingestor:
    """Runs one ingest over paths; see the module docstring for the guarantees."""

    def __init__(self, settings: Settings, store: ChromaStore, embedder: Embedder) -> None:
        from rag.ingest.chunking import Chunker

        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.chunker = Chunker(
            settings.chunking.chunk_size, settings.chunking.chunk_overlap, tokenizer=embedder.count_tokens
        )

    def ingest(
        self,
        paths: list[Path],
        prune: bool = False,
        progress: ProgressCallback | None = None,
        workers: int | None = None,
    ) -> IngestReport:
        """Ingests ``paths``; ``workers`` overrides ``ingest.workers`` (see the module docstring)."""
        workers = self.settings.ingest.workers if workers is None else workers
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        started = time.perf_counter()
        store = self.settings.store
        with _full_disk_reported(store.data_dir, not store.chroma_url), ingest_lock(store.data_dir):
            try:
                report = self._ingest(paths, prune, progress, workers)
            except DamagedStoreError as exc:
                # Chroma's files were left unreadable by a killed process: rebuild from the documents.
                self.store.reset()
                report = self._ingest(paths, prune, progress, workers)
                report.warnings.append(f"rebuilt the index from the documents: {exc}")
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _ingest(self, paths: list[Path], prune: bool, progress: ProgressCallback | None, workers: int) -> IngestReport:
        with GuardedParser(self.settings.ingest) as parser:
            return self._ingest_parsed(paths, prune, progress, workers, parser)

    def _ingest_parsed(
        self, paths: list[Path], prune: bool, progress: ProgressCallback | None, workers: int, parser: GuardedParser
    ) -> IngestReport:
        from rag.ingest.loaders import LoadError

        self.store.check_embedding_model(self.embedder.identity)  # again: a rebuild starts from empty collections
        files, failures = discover(paths)
        report = IngestReport(files=len(files), failed=failures)
        manifest = self.store.file_records()
        limit = int(self.settings.ingest.max_file_mb * 1024 * 1024)
        hashed: list[tuple[Path, str, str]] = []
        failed: dict[str, FileFailure] = {}
        for path in files:
            key = str(path)
            try:
                size = path.stat().st_size
                if size > limit:  # the limit as configured: ":.0f" showed a 0.5 MB limit as "0 MB"
                    raise LoadError(
                        f"file too large: {size / 1048576:.1f} MB, the limit is {self.settings.ingest.max_file_mb:g} MB"
                    )
                hashed.append((path, key, document_id(key, path.read_bytes())))
            except Exception as exc:
                failed[key] = _failure(key, exc)
        # What the store holds for these files, in batched requests (one request per file was the
        # slowest part of re-ingesting a large unchanged corpus); read under the ingest lock.
        versions = self.store.chunk_versions_many([key for _, key, _ in hashed])
        stale: set[str] = set()
        changed: list[tuple[Path, str, str]] = []
        for path, key, doc_id in hashed:
            known = manifest.get(key)
            stored = versions.get(key, {})
            if known and known.doc_id == doc_id and stored == {doc_id: known.n_chunks}:
                report.skipped += 1
                report.chunks += known.n_chunks
                continue
            if set(stored) - {doc_id}:
                stale.add(key)  # chunks of another version to drop after this one is stored
            changed.append((path, key, doc_id))
        todo = self._prepared(changed, parser, failed)
        report.failed += [failed[str(path)] for path in files if str(path) in failed]  # in file order
        batches = _batches(todo)
        total = sum(len(item.chunks) for item in todo)
        done = 0
        for batch in self._embedded(batches, stale, workers):
            done += sum(len(item.chunks) for item in batch)
            for item in batch:
                report.added += len(item.chunks)
                report.chunks += len(item.chunks)
            if progress:
                progress(done, total, batch[-1].record.source)
        if self.store.facts_version() != FACTS_VERSION:
            self._refresh_facts(manifest, {key for _, key, _ in hashed} - {item.record.path for item in todo})
        if prune:
            for key in sorted(set(manifest) - {str(p) for p in files}):
                if not Path(key).exists():
                    report.removed += self.store.delete_document(key)
        return report

    def _prepared(
        self, changed: list[tuple[Path, str, str]], parser: GuardedParser, failed: dict[str, FileFailure]
    ) -> list[_Pending]:
        """Each changed file parsed here (within its limits), then chunked with its facts (maybe by workers)."""
        total_bytes = sum(path.stat().st_size for path, _, _ in changed if path.exists())
        todo: list[_Pending] = []
        with Preparer(self.settings, self.chunker, total_bytes) as preparer:
            submitted = []
            for path, key, doc_id in changed:
                try:
                    document = parser.load(path)  # within the per-file time and memory limits (rag.ingest.limits)
                except Exception as exc:
                    failed[key] = _failure(key, exc)
                    continue
                submitted.append((path, key, doc_id, document, preparer.submit(document, doc_id, key)))
            for path, key, doc_id, document, future in submitted:
                try:
                    chunks, facts = preparer.result(future, document, doc_id, key)
                except Exception as exc:
                    failed[key] = _failure(key, exc)
                    continue
                record = FileRecord(key, doc_id, n_chunks=len(chunks), title=document.title, source=path.name)
                todo.append(_Pending(record, chunks, facts))
        return todo

    def _refresh_facts(self, manifest: dict[str, FileRecord], unchanged: set[str]) -> None:
        """Facts for files stored by an older fact extractor (or before facts existed), without re-embedding them.

        Runs once per extractor version: the version is recorded only after every
        stored file has its facts, so an interrupted refresh is redone next time.
        """
        from rag.ingest.loaders import load_file

        for key, record in sorted(manifest.items()):
            if key not in unchanged and Path(key).exists():
                continue  # changed files got fresh facts above; files outside this run are refreshed too
            try:
                document = load_file(Path(key))
            except Exception:  # a stored file that is gone or unreadable keeps its chunks and has no facts
                continue
            self.store.replace_facts(key, record.doc_id, document_facts(document, record.doc_id, key))
        self.store.set_facts_version(FACTS_VERSION)

    def _embedded(self, batches: list[list[_Pending]], stale: set[str], workers: int) -> Iterator[list[_Pending]]:
        """Embeds and stores each batch, yielding it once stored: here, or in ``workers`` processes."""
        if workers <= 1 or len(batches) <= 1:
            for batch in batches:
                embedded = self.embedder.embed(_texts(batch))
                self.store.write_documents(_with_vectors(batch, embedded), stale=stale, facts=_facts(batch))
                yield batch
            return
        workers = min(workers, len(batches))
        server = bool(self.settings.store.chroma_url)
        context = get_context("spawn")  # no fork: the parent holds model threads and an open store
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(self.settings, workers, server)
        ) as pool:
            futures: dict[Future[np.ndarray | None], list[_Pending]] = {
                pool.submit(_worker_batch, batch, stale): batch for batch in batches
            }
            for future in as_completed(futures):
                batch = futures[future]
                vectors = future.result()  # a worker's StoreError stops the run, as it does here
                if vectors is not None:  # embedded store: the worker embedded, this process writes
                    self.store.write_documents(_with_vectors(batch, vectors), stale=stale, facts=_facts(batch))
                yield batch


def _batches(todo: list[_Pending]) -> list[list[_Pending]]:
    """Whole files grouped into batches of at least ``_FLUSH_CHUNKS`` chunks (the last may be smaller)."""
    batches: list[list[_Pending]] = []
    current: list[_Pending] = []
    size = 0
    for item in todo:
        current.append(item)
        size += len(item.chunks)
        if size >= _FLUSH_CHUNKS:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches


def _facts(batch: list[_Pending]) -> list[FinancingFact]:
    return [fact for item in batch for fact in item.facts]


def _texts(batch: list[_Pending]) -> list[str]:
    """What is embedded: each chunk's text behind its contextual header (rag.ingest.context)."""
    from rag.ingest.context import indexed_text

    return [indexed_text(chunk) for item in batch for chunk in item.chunks]


def _with_vectors(batch: list[_Pending], vectors: np.ndarray) -> list[tuple[list[Chunk], np.ndarray, FileRecord]]:
    """Each file's chunks with its rows of ``vectors`` (which follow the batch's chunk order)."""
    documents = []
    offset = 0
    for item in batch:
        n = len(item.chunks)
        documents.append((item.chunks, vectors[offset : offset + n], item.record))
        offset += n
    return documents


# -- worker processes (rag ingest --workers N) -----------------------------------------------
_worker: tuple[Embedder, ChromaStore | None] | None = None


def _start_worker(settings: Settings, workers: int, server: bool) -> None:
    """Runs once in each worker: its share of the CPUs, its model and, for a server, its own client."""
    global _worker
    from rag.index.onnx_embed import usable_cpus

    threads = max(1, usable_cpus() // workers)  # CPUs this process may use, not all the machine has
    os.environ["OMP_NUM_THREADS"] = str(threads)  # onnxruntime and PyTorch read it when they load
    _worker = (Embedder(settings.embedding), ChromaStore(settings.store) if server else None)


def _worker_batch(batch: list[_Pending], stale: set[str]) -> np.ndarray | None:
    """Embeds one batch; writes it when this worker has a server connection, else returns the vectors."""
    assert _worker is not None, "_start_worker runs first"
    embedder, store = _worker
    vectors = embedder.embed(_texts(batch))
    if store is None:
        return vectors
    store.write_documents(_with_vectors(batch, vectors), stale=stale, facts=_facts(batch))
    return None
