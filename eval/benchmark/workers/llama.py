"""The baseline a user would write with llama-index, timed like the project: ingest into Chroma
with ``HuggingFaceEmbedding`` of the same model, and ``as_retriever`` over the same chunks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmark.measure import elapsed_ms, peak_rss_mb, percentiles, rate, timed
from benchmark.vectors import collection_pages
from benchmark.workers.settings import settings_for

SIMILARITY_TOP_K = 6  # the project's top_k


def _llama_embedder() -> Any:
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from rag.config import EmbeddingSettings
    from rag.index.embed import resolve_model_path

    embed = HuggingFaceEmbedding(model_name=str(resolve_model_path(EmbeddingSettings().model)), device="cpu")
    embed.get_text_embedding("warm up the model before the clock starts")
    return embed


def measure_llama_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """The baseline: SimpleDirectoryReader -> VectorStoreIndex.from_documents -> ChromaVectorStore."""
    import chromadb
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    started = time.perf_counter()
    embed = _llama_embedder()
    loaded = time.perf_counter()
    files = sorted(str(p) for p in Path(spec["corpus"]).glob("*.txt"))
    client = chromadb.PersistentClient(path=spec["data_dir"])
    collection = client.get_or_create_collection("baseline")
    kwargs: dict[str, Any] = {}
    if spec.get("chunk_size"):
        kwargs["transformations"] = [
            SentenceSplitter(chunk_size=spec["chunk_size"], chunk_overlap=spec["chunk_overlap"])
        ]
    t0 = time.perf_counter()
    documents = SimpleDirectoryReader(input_files=files).load_data()
    VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection)),
        embed_model=embed,
        **kwargs,
    )
    seconds = time.perf_counter() - t0
    return {
        "files": len(files),
        **rate(collection.count(), seconds),
        "load_s": round(loaded - started, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def _copy_into_llama_index(source: Any, store: Any, embed: Any) -> Any:
    """A llama-index index over ``source``'s chunks with their stored vectors (no re-embedding).
    (llama_index.core is already loaded by then, with the embedder: the imports cost nothing here.)"""
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode

    index = None
    for got in collection_pages(source, ["documents", "embeddings", "metadatas"], 5000):
        nodes = [
            TextNode(id_=i, text=text, embedding=[float(x) for x in vector], metadata={"source": meta["source"]})
            for i, text, vector, meta in zip(
                got["ids"], got["documents"], got["embeddings"], got["metadatas"], strict=True
            )
        ]
        if index is None:
            index = VectorStoreIndex(
                nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed
            )
        else:
            index.insert_nodes(nodes)
    assert index is not None
    return index


def measure_llama_queries(spec: dict[str, Any]) -> dict[str, Any]:
    """llama-index's retriever over the same chunks and vectors (copied from the project's store)."""
    import chromadb
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from rag.index.store import make_client

    embed = _llama_embedder()
    settings = settings_for(spec)
    source = make_client(settings.store).get_collection(settings.store.collection)
    client = chromadb.PersistentClient(path=spec["baseline_dir"])
    collection = client.get_or_create_collection("baseline")
    index, build_s = timed(_copy_into_llama_index, source, ChromaVectorStore(chroma_collection=collection), embed)
    retriever = index.as_retriever(similarity_top_k=SIMILARITY_TOP_K)
    for q in ["Who invested in the data center campus?", "What was the valuation?"]:
        retriever.retrieve(q)
    times = [elapsed_ms(retriever.retrieve, q) for q in spec["queries"]]
    return {"count": collection.count(), "build_s": round(build_s, 2), "retrieve": percentiles(times),
            "peak_rss_mb": peak_rss_mb()}  # fmt: skip
