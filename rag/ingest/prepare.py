"""Preparing parsed files for embedding: each document's chunks and financing facts.

Chunking (llama-index's sentence splitter, which tokenizes each page several times over)
and fact extraction are pure Python. On the 19 FinanceBench filings they took about 40 s
of the ingest, on one core, while the other waited for the parser or did nothing. For a
large ingest they run in a pool of processes, one per CPU, while the ingester goes on
parsing the next file; a small one (the bundled corpus, a single upload) stays in this
process, where starting workers, each importing llama-index, would cost more than it saves.
Either way the results come back in file order and are the same: the workers build the
same :class:`~rag.ingest.chunking.Chunker` from the same settings.
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from types import TracebackType
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.financing.extract import extract_financing_facts
from rag.financing.model import FinancingFact
from rag.index.embed import Embedder
from rag.index.onnx_embed import usable_cpus
from rag.types import Chunk

if TYPE_CHECKING:
    from rag.ingest.chunking import Chunker
    from rag.ingest.loaders import SourceDocument

PARALLEL_BYTES = 4 * 1024 * 1024
"""Files to prepare of at least this many bytes together go to worker processes (about 2 s to start)."""

Prepared = tuple[list[Chunk], list[FinancingFact]]


def document_facts(document: SourceDocument, doc_id: str, key: str) -> list[FinancingFact]:
    """The financing facts ``document`` states, as stored for the file ``key``."""
    return extract_financing_facts(document.text, document.title, doc_id, key, document.path.name, document.date)


def prepare(chunker: Chunker, document: SourceDocument, doc_id: str, key: str) -> Prepared:
    """``document``'s chunks and financing facts."""
    return chunker.split(document, doc_id), document_facts(document, doc_id, key)


class Preparer:
    """Prepares documents here or in worker processes; use as a context manager, then :meth:`submit`."""

    def __init__(self, settings: Settings, chunker: Chunker, total_bytes: int) -> None:
        self.settings = settings
        self.chunker = chunker
        workers = usable_cpus()
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1 and total_bytes >= PARALLEL_BYTES:
            self._pool = ProcessPoolExecutor(
                workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(settings,)
            )

    def __enter__(self) -> Preparer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, document: SourceDocument, doc_id: str, key: str) -> Future[Prepared]:
        """The document's chunks and facts, prepared now (in process) or by a worker (later)."""
        if self._pool is not None:
            try:
                return self._pool.submit(_worker_prepare, document, doc_id, key)
            except BrokenProcessPool:
                self._give_up_pool()  # a worker died (killed for memory?): the rest is prepared here
        done: Future[Prepared] = Future()
        try:
            done.set_result(prepare(self.chunker, document, doc_id, key))
        except Exception as exc:
            done.set_exception(exc)
        return done

    def result(self, future: Future[Prepared], document: SourceDocument, doc_id: str, key: str) -> Prepared:
        """What ``future`` holds; prepared here instead when its worker died, so no file is lost to it."""
        try:
            return future.result()
        except BrokenProcessPool:
            self._give_up_pool()
            return prepare(self.chunker, document, doc_id, key)

    def _give_up_pool(self) -> None:
        """Releases a broken pool's remaining processes and prepares everything after it here."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


# -- worker processes ------------------------------------------------------------------------
_worker_chunker: Chunker | None = None


def _start_worker(settings: Settings) -> None:
    """Runs once in each worker: the chunker the ingester would build, with the embedder's tokenizer."""
    global _worker_chunker
    from rag.ingest.chunking import Chunker

    tokens = Embedder(settings.embedding).count_tokens  # the tokenizer only: the model is never loaded here
    _worker_chunker = Chunker(settings.chunking.chunk_size, settings.chunking.chunk_overlap, tokenizer=tokens)


def _worker_prepare(document: SourceDocument, doc_id: str, key: str) -> Prepared:
    assert _worker_chunker is not None, "_start_worker runs first"
    return prepare(_worker_chunker, document, doc_id, key)
