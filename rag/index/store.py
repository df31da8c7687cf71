"""Chroma storage: chunk vectors plus a manifest of ingested files.

Two collections live side by side:

* ``<name>`` holds one record per chunk (embedding, text, citation metadata);
* ``<name>_files`` holds one record per ingested file (its content hash and
  chunk count), written only *after* all of the file's chunks are stored.

That order is what makes a crash mid-ingest harmless: a file whose manifest
record is missing or stale is simply ingested again, chunk ids are derived from
content so rewriting them is idempotent, and chunks left from an older version
of the file are deleted by hash. A ``revision`` token changes after every write
so derived indexes (BM25) know when to rebuild.

``store.chroma_url`` switches from the embedded ``PersistentClient`` to a
Chroma server (``HttpClient``) with no other change. Every call into Chroma
goes through :class:`~rag.index.chroma_client.Guarded`, so a server that is down, dies mid-session or
stops answering surfaces as one :class:`StoreError` sentence naming the server,
within ``store.timeout_s`` (chromadb's own HTTP client never times out).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.config import StoreSettings
from rag.financing.model import FinancingFact
from rag.index.chroma_client import EmbeddingMismatchError, Guarded, make_client
from rag.types import Chunk

_STATE_ID = "__state__"
_EMBEDDING_ID = "__embedding__"
_FACTS_ID = "__facts__"
_RESERVED_IDS = frozenset({_STATE_ID, _EMBEDDING_ID, _FACTS_ID})  # records of the files collection that are not files
_PLACEHOLDER_VECTOR = [1.0]
_PAGE = 2000
_PATHS_PER_REQUEST = 100


@dataclass(frozen=True)
class FileRecord:
    """Manifest entry of one ingested file."""

    path: str
    doc_id: str
    n_chunks: int
    title: str
    source: str


class ChromaStore:
    """Chunks and file manifest in Chroma; all calls go through here and fail as :class:`StoreError`."""

    def __init__(self, settings: StoreSettings, client: Any | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        where = (
            f"the Chroma server at {settings.chroma_url}"
            if settings.chroma_url
            else f"the Chroma store in {settings.data_dir / 'chroma'}"
        )
        self.where = where
        location = settings.chroma_url and f"the Chroma server at {settings.chroma_url}"
        guarded = Guarded(self.client, where, settings.timeout_s, location or str(settings.data_dir / "chroma"))
        self.chunks = guarded.get_or_create_collection(
            settings.collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        self.files = guarded.get_or_create_collection(f"{settings.collection}_files", embedding_function=None)
        self.facts = guarded.get_or_create_collection(f"{settings.collection}_facts", embedding_function=None)

    def reset(self) -> None:
        """Drop the collections and start empty (the rebuild after :class:`DamagedStoreError`)."""
        base = self.settings.collection
        for name in (base, f"{base}_files", f"{base}_facts"):
            try:
                self.client.delete_collection(name)
            except Exception:  # a collection too damaged to delete cleanly is recreated below anyway
                continue
        fresh = ChromaStore(self.settings, self.client)
        self.chunks, self.files, self.facts = fresh.chunks, fresh.files, fresh.facts

    def check_embedding_model(self, model: str) -> None:
        """Records which embedding model fills this index, or refuses a different one.

        Vectors of two models live in different spaces: asking an index with another
        model's query vector returns confident nonsense, and ingesting with it mixes
        the spaces, both silently. An index from before this record is adopted as is.
        (The ONNX and PyTorch backends run the same weights: one model, one space.)
        """
        got = self.files.get(ids=[_EMBEDDING_ID], include=["metadatas"])
        if got["ids"]:
            recorded = str((got["metadatas"][0] or {}).get("model", ""))
            if recorded != model:
                raise EmbeddingMismatchError(
                    f"{self.where} holds vectors of the embedding model {recorded!r}, but embedding.model is "
                    f"{model!r}: set it back, or give the new model its own index "
                    "(RAG_DATA_DIR=another/dir, or --set store.collection=another_name) and run 'rag ingest'"
                )
            return
        self.files.upsert(
            ids=[_EMBEDDING_ID],
            embeddings=[_PLACEHOLDER_VECTOR],
            documents=[_EMBEDDING_ID],
            metadatas=[{"model": model}],
        )

    # -- reads -----------------------------------------------------------------
    def count(self) -> int:
        return int(self.chunks.count())

    def revision(self) -> str:
        got = self.files.get(ids=[_STATE_ID], include=["metadatas"])
        if not got["ids"]:
            return ""
        return str(got["metadatas"][0].get("revision", ""))

    def file_records(self) -> dict[str, FileRecord]:
        """Manifest by path."""
        records: dict[str, FileRecord] = {}
        for ids, metadatas, _ in self._paged(self.files, include=["metadatas"]):
            for record_id, meta in zip(ids, metadatas, strict=True):
                if record_id in _RESERVED_IDS:
                    continue
                records[record_id] = FileRecord(
                    path=record_id,
                    doc_id=str(meta["doc_id"]),
                    n_chunks=int(meta["n_chunks"]),
                    title=str(meta.get("title", "")),
                    source=str(meta.get("source", "")),
                )
        return records

    def all_facts(self) -> list[FinancingFact]:
        """Every stored financing fact (a few per chunk: small enough to hold in memory)."""
        return [
            FinancingFact.from_record(sentence or "", meta)
            for ids, metadatas, documents in self._paged(self.facts, include=["metadatas", "documents"])
            for _, meta, sentence in zip(ids, metadatas, documents, strict=True)
        ]

    def facts_version(self) -> str:
        """Which fact extractor filled the fact collection ("" before facts existed)."""
        got = self.files.get(ids=[_FACTS_ID], include=["metadatas"])
        return str(got["metadatas"][0].get("version", "")) if got["ids"] else ""

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every stored chunk, page by page, so memory stays bounded on large indexes."""
        for ids, metadatas, documents in self._paged(self.chunks, include=["metadatas", "documents"]):
            for chunk_id, meta, text in zip(ids, metadatas, documents, strict=True):
                yield chunk_from_record(chunk_id, text, meta)

    def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {
            chunk_id: chunk_from_record(chunk_id, text, meta)
            for chunk_id, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def chunks_of(self, path: str, doc_id: str) -> list[Chunk]:
        """The chunks of one version of one file, in document order."""
        got = self.chunks.get(where={"$and": [{"path": path}, {"doc_id": doc_id}]}, include=["metadatas", "documents"])
        chunks = [
            chunk_from_record(chunk_id, text, meta)
            for chunk_id, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True)
        ]
        return sorted(chunks, key=lambda c: c.start)

    def chunk_versions(self, path: str) -> dict[str, int]:
        """Stored chunks of ``path`` by ``doc_id``: one entry when only the current version is stored."""
        got = self.chunks.get(where={"path": path}, include=["metadatas"])
        versions: dict[str, int] = {}
        for meta in got["metadatas"] or []:
            versions[str(meta["doc_id"])] = versions.get(str(meta["doc_id"]), 0) + 1
        return versions

    def chunk_versions_many(self, paths: Sequence[str]) -> dict[str, dict[str, int]]:
        """:meth:`chunk_versions` of many files (paths with no chunks are absent), 100 paths per request.

        One request per file cost ~20 ms at 100k chunks, so checking 10,000 unchanged files
        took minutes; batched, it is about 1 ms per file (``eval/bench_results/bench.md``).
        """
        versions: dict[str, dict[str, int]] = {}
        unique = list(dict.fromkeys(paths))
        for start in range(0, len(unique), _PATHS_PER_REQUEST):
            batch = unique[start : start + _PATHS_PER_REQUEST]
            where = {"path": batch[0]} if len(batch) == 1 else {"path": {"$in": batch}}
            got = self.chunks.get(where=where, include=["metadatas"])
            for meta in got["metadatas"] or []:
                counts = versions.setdefault(str(meta["path"]), {})
                counts[str(meta["doc_id"])] = counts.get(str(meta["doc_id"]), 0) + 1
        return versions

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity (1 - cosine distance); ``where`` filters on chunk metadata.

        Chroma returns fewer than ``k`` when the collection holds fewer (none when empty), so
        no ``count()`` first: that call cost more than the search itself (15 ms vs 4 ms at 100k).
        """
        if k <= 0:
            return []
        result = self.chunks.query(
            query_embeddings=[vector.tolist()],
            n_results=k,
            where=where,
            include=["metadatas", "documents", "distances"],
        )
        return [
            (chunk_from_record(chunk_id, text, meta), 1.0 - float(distance))
            for chunk_id, meta, text, distance in zip(
                result["ids"][0], result["metadatas"][0], result["documents"][0], result["distances"][0], strict=True
            )
        ]

    # -- writes ----------------------------------------------------------------
    def write_documents(
        self,
        documents: Sequence[tuple[list[Chunk], np.ndarray, FileRecord]],
        stale: Collection[str] | None = None,
        facts: Sequence[FinancingFact] = (),
    ) -> None:
        """Store several files' chunks and facts, then their manifest entries, then drop their older chunks and facts.

        Facts follow their chunks exactly: written before the manifest entry, their
        ids derived from content (idempotent), and an old version's facts dropped
        with its chunks, so the fact index is as crash-safe as the chunk index.

        ``stale`` names the files that may have chunks of another version (from
        :meth:`chunk_versions_many`, read under the ingest lock); only those get the
        delete, which costs ~16 ms a file at 100k chunks. ``None`` deletes for every file.

        A process killed at any point leaves every manifest entry describing a
        complete set of stored chunks: all chunks of the batch are stored before
        any of its entries is written. The entries are written before the old
        versions' chunks are dropped (had they been dropped first, a crash in
        between left an entry whose chunks were gone); leftovers of an old version
        make the next ingest rewrite the file, because an unchanged file is only
        skipped when its current chunks are all it has (see :meth:`chunk_versions`).

        The revision is bumped before the chunks change as well as after: a process
        killed between the chunk writes and the final bump would otherwise leave the
        chunks changed under an unchanged revision, and a BM25 cache built before the
        crash would keep being trusted while it disagrees with Chroma.

        Writing a batch of files with one upsert, one manifest write and two revision
        bumps, instead of all four per file, is what keeps the store's share of an
        ingest small: each Chroma call costs milliseconds whatever its size
        (``eval/bench_results/bench.md``).
        """
        if not documents:
            return
        chunks = [chunk for batch, _, _ in documents for chunk in batch]
        vectors = np.concatenate([np.asarray(v, dtype=np.float32).reshape(len(c), -1) for c, v, _ in documents])
        records = [record for _, _, record in documents]
        self.bump_revision()
        for start in range(0, len(chunks), _PAGE):
            batch = chunks[start : start + _PAGE]
            self.chunks.upsert(
                ids=[c.id for c in batch],
                embeddings=vectors[start : start + _PAGE],
                documents=[c.text for c in batch],
                metadatas=[chunk_metadata(c) for c in batch],
            )
        self._write_facts(facts)
        self.files.upsert(
            ids=[record.path for record in records],
            embeddings=[_PLACEHOLDER_VECTOR] * len(records),
            documents=[record.path for record in records],
            metadatas=[
                {
                    "doc_id": record.doc_id,
                    "n_chunks": record.n_chunks,
                    "title": record.title,
                    "source": record.source,
                }
                for record in records
            ],
        )
        for record in records:
            if stale is None or record.path in stale:
                older = {"$and": [{"path": record.path}, {"doc_id": {"$ne": record.doc_id}}]}
                self.chunks.delete(where=older)
                self.facts.delete(where=older)
        self.bump_revision()

    def replace_facts(self, path: str, doc_id: str, facts: Sequence[FinancingFact]) -> None:
        """A stored file's facts from a newer extractor: new ones written, then every other fact of the file dropped."""
        self._write_facts(facts)
        keep = {f.id for f in facts}
        existing = self.facts.get(where={"path": path}, include=[])["ids"]
        gone = [fact_id for fact_id in existing if fact_id not in keep]
        if gone:
            self.facts.delete(ids=gone)

    def set_facts_version(self, version: str) -> None:
        self.files.upsert(
            ids=[_FACTS_ID], embeddings=[_PLACEHOLDER_VECTOR], documents=[_FACTS_ID], metadatas=[{"version": version}]
        )

    def _write_facts(self, facts: Sequence[FinancingFact]) -> None:
        unique = list({f.id: f for f in facts}.values())
        for start in range(0, len(unique), _PAGE):
            batch = unique[start : start + _PAGE]
            self.facts.upsert(
                ids=[f.id for f in batch],
                embeddings=[_PLACEHOLDER_VECTOR] * len(batch),
                documents=[f.sentence for f in batch],
                metadatas=[f.to_metadata() for f in batch],
            )

    def delete_document(self, path: str) -> int:
        """Remove a file's chunks and manifest entry; returns how many chunks went."""
        self.bump_revision()  # before the chunks change too; see write_documents
        existing = self.chunks.get(where={"path": path}, include=[])["ids"]
        if existing:
            self.chunks.delete(ids=existing)
        self.facts.delete(where={"path": path})
        self.files.delete(ids=[path])
        self.bump_revision()
        return len(existing)

    def bump_revision(self) -> None:
        self.files.upsert(
            ids=[_STATE_ID],
            embeddings=[_PLACEHOLDER_VECTOR],
            documents=[_STATE_ID],
            metadatas=[{"revision": uuid.uuid4().hex}],
        )

    @staticmethod
    def _paged(collection: Any, include: list[str]) -> Iterator[tuple[list[str], list[Any], list[Any]]]:
        offset = 0
        while True:
            got = collection.get(limit=_PAGE, offset=offset, include=include)
            ids = got["ids"]
            if not ids:
                return
            metadatas = got.get("metadatas") or [None] * len(ids)
            documents = got.get("documents") or [None] * len(ids)
            yield ids, metadatas, documents
            offset += len(ids)


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    """Chroma metadata: flat scalars only (``page`` 0 means no page)."""
    return {
        "doc_id": chunk.doc_id,
        "path": chunk.path,
        "source": chunk.source,
        "title": chunk.title,
        "page": chunk.page or 0,
        "start": chunk.start,
        "end": chunk.end,
        **chunk.extra,
    }


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    known = {"doc_id", "path", "source", "title", "page", "start", "end"}
    return Chunk(
        id=chunk_id,
        doc_id=str(meta["doc_id"]),
        text=text,
        path=str(meta["path"]),
        source=str(meta["source"]),
        title=str(meta.get("title", "")),
        page=int(meta["page"]) or None,
        start=int(meta["start"]),
        end=int(meta["end"]),
        extra={k: str(v) for k, v in meta.items() if k not in known},
    )
