"""Crash safety and concurrent ingests, with real processes killed for real.

``rag ingest`` runs in a separate process (forked from a warm "zygote", see
tests/helpers_ingest_child.py) over a deterministic synthetic corpus of 150
Markdown files (~2,100 chunks), and is SIGKILLed at random moments after it
reports progress, i.e. while it embeds and writes to the embedded Chroma. After
every kill a fresh process reads the store back and checks that the index is
consistent *at that point*; when a run completes, the corpus is changed (files
rewritten, added and deleted) so later kills also land in replacements and
prunes. A final uninterrupted run must leave exactly what one clean ingest of
the final files stores.

Speed: a 1-layer, 32-dimension embedding model with MiniLM's tokenizer
(``embedding.model`` pointing at a local folder), and OMP_NUM_THREADS=1 in the
children; the properties under test are about storage, not embeddings.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import WordEmbedder, make_settings

HELPER = Path(__file__).with_name("helpers_ingest_child.py")
N_FILES = 150
MIN_KILLS = 10
RUN_LIMIT = 30  # runs at most, killed or not, before the loop gives up


def _child_env(data_dir: Path, model: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        RAG_CONFIG=os.devnull,
        RAG_DATA_DIR=str(data_dir),
        RAG_EMBEDDING_MODEL=str(model),
        RAG_CHUNKING_CHUNK_SIZE="80",
        RAG_CHUNKING_CHUNK_OVERLAP="10",
    )
    return env


class Zygote:
    """Forks ``rag ingest`` / store-check processes from one warm Python (see helpers_ingest_child.py)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HELPER), "zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=cwd,
            text=True,
        )
        assert self._read(timeout=300) == "READY"

    def _read(self, timeout: float) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError(f"the zygote said nothing within {timeout} s")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote exited with code {self.process.wait()}")
        return line.strip()

    def _send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

    def start(self, run: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> int:
        self._send({"run": run, "argv": argv, "log": str(log), "env": env or {}})
        reply = self._read(timeout=60)
        assert reply.startswith("PID "), reply
        return int(reply.split()[1])

    def wait(self, pid: int, timeout: float = 600) -> int:
        self._send({"wait": pid})
        reply = self._read(timeout=timeout)
        assert reply.startswith("STATUS "), reply
        return int(reply.split()[1])

    def check(self, log: Path, corpus: Path, env: dict[str, str] | None = None, full: bool = False) -> dict[str, Any]:
        """A fresh process's view of the store: chunks, manifest, BM25 ids, and the chunks a clean
        ingest of ``corpus`` stores (of every file with ``full``, else of files not recorded as they are)."""
        extra = {**(env or {}), "CHECK_CORPUS": str(corpus), "CHECK_FULL": "1" if full else "0"}
        code = self.wait(self.start("check", [], log, extra))
        text = log.read_text()
        assert code == 0, text[-3000:]
        line = next(line for line in text.splitlines() if line.startswith('{"chunks"'))
        state: dict[str, Any] = json.loads(line)
        return state

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def crash_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers_ingest_child import make_tiny_model

    root = tmp_path_factory.mktemp("crash")
    make_tiny_model(root / "tiny-model")
    return root


@pytest.fixture(scope="module")
def zygote(crash_root: Path):  # type: ignore[no-untyped-def]
    spawner = Zygote(_child_env(crash_root / "data", crash_root / "tiny-model"), crash_root)
    yield spawner
    spawner.close()


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_for_progress(log: Path, pid: int, nth: int, timeout: float = 300) -> bool:
    """True once the child has reported ``nth`` flushes; False if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if text.count("PROGRESS") >= nth:
            return True
        if not _alive(pid):
            return False
        time.sleep(0.05)
    raise TimeoutError(f"no progress from the ingest within {timeout} s:\n{log.read_text()[-2000:]}")


def assert_consistent(state: dict[str, Any], corpus: Path) -> dict[str, int]:
    """What must hold at *every* moment, even right after a kill; returns counts for the log.

    * each manifest record describes a complete file: exactly ``n_chunks`` chunks with its
      path and doc_id are stored (a record for a file deleted from disk may be mid-prune);
    * no two stored chunks of one version of a file start at the same offset;
    * the BM25 index the retriever uses (rebuilt, or loaded from its cache) has exactly
      Chroma's chunk ids;
    * chunks not (yet) covered by a record are whole files' worth, left for the next run.
    """
    chunks, manifest = state["chunks"], state["manifest"]
    assert state["count"] == len(chunks)
    ids = [c["id"] for c in chunks]
    assert len(set(ids)) == len(ids)
    starts = Counter((c["path"], c["doc_id"], c["start"]) for c in chunks)
    assert max(starts.values(), default=1) == 1, [k for k, v in starts.items() if v > 1][:5]
    per_version = Counter((c["path"], c["doc_id"]) for c in chunks)
    mid_prune = 0
    for path, record in manifest.items():
        stored = per_version[(path, record["doc_id"])]
        if stored != record["n_chunks"]:
            assert not Path(path).exists(), f"{path}: record says {record['n_chunks']} chunks, {stored} stored"
            mid_prune += 1
    expected = Counter((e["path"], e["doc_id"]) for e in state["expected"])
    pending = 0
    for (path, doc_id), n in per_version.items():
        record = manifest.get(path)
        if record is None or record["doc_id"] != doc_id:
            pending += n
            if (path, doc_id) in expected:  # an unrecorded current version was written whole or not at all
                assert n == expected[(path, doc_id)], f"{path}: {n} of {expected[(path, doc_id)]} chunks"
    assert sorted(state["bm25_ids"]) == sorted(ids), "BM25 and Chroma disagree"
    return {
        "chunks": len(chunks),
        "recorded_files": len(manifest),
        "unrecorded_chunks": pending,
        "mid_prune": mid_prune,
    }


def assert_complete(state: dict[str, Any]) -> None:
    """After an uninterrupted run: exactly what one clean ingest of the files on disk stores."""
    chunks, manifest, expected = state["chunks"], state["manifest"], state["expected"]
    assert expected
    assert sorted(c["id"] for c in chunks) == sorted(e["id"] for e in expected), "every chunk exactly once"
    texts = Counter((c["path"], c["start"]) for c in chunks)
    assert max(texts.values()) == 1, "duplicate chunk texts for one (path, start)"
    assert set(manifest) == {e["path"] for e in expected}
    for chunk in chunks:
        assert chunk["doc_id"] == manifest[chunk["path"]]["doc_id"], f"orphan chunk of {chunk['path']}"
    per_path = Counter(c["path"] for c in chunks)
    assert all(per_path[path] == record["n_chunks"] for path, record in manifest.items())
    assert sorted(state["bm25_ids"]) == sorted(c["id"] for c in chunks)


def _change_corpus(corpus: Path, round_no: int) -> str:
    """Rewrite every 3rd file, add 6 and delete 4: later kills land in replacements and prunes."""
    from helpers_ingest_child import write_corpus

    files = sorted(corpus.glob("*.md"))
    fresh = corpus.parent / f"fresh-{round_no}"
    new = write_corpus(fresh, 12, paragraphs=11, seed=100 + round_no)
    for target, source in zip(files[round_no::3], new * 10, strict=False):
        target.write_text(source.read_text().replace("brief", f"brief (revision {round_no})"))
    for i, source in enumerate(new[:6]):
        source.replace(corpus / f"added-{round_no}-{i}.md")
    for victim in files[round_no + 1 :: 37][:4]:
        victim.unlink()
    return f"round {round_no}: rewrote {len(files[round_no::3])}, added 6, deleted {len(files[round_no + 1 :: 37][:4])}"


@pytest.mark.slow
def test_sigkill_during_ingest_never_corrupts_the_index(zygote: Zygote, crash_root: Path) -> None:
    from helpers_ingest_child import write_corpus

    corpus = crash_root / "corpus"
    write_corpus(corpus, N_FILES)
    logs = crash_root / "logs"
    logs.mkdir()
    rng = random.Random(20240601)
    kills: list[dict[str, Any]] = []
    changes: list[str] = []
    started = time.monotonic()
    previous = 0
    damaged = 0
    for run in range(1, RUN_LIMIT + 1):
        if len(kills) >= MIN_KILLS:
            break
        log = logs / f"run-{run:02d}.log"
        pid = zygote.start("ingest", [str(corpus), "--json", "--prune"], log)
        nth = 1 if changes else rng.choice([1, 1, 2])  # a change set is only a few flushes long
        killed = False
        delay = 0.0
        if _wait_for_progress(log, pid, nth):
            delay = rng.uniform(0.0, 1.2)
            time.sleep(delay)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
                killed = True
        code = zygote.wait(pid)
        if killed and code == -signal.SIGKILL:
            state = zygote.check(logs / f"check-{run:02d}.log", corpus)
            if state["chunks"] is None:
                # The kill cut Chroma's own HNSW file write (it is not atomic); our data is not at fault, but
                # the index is unreadable. The next ingest must detect it and rebuild everything, reported.
                damaged += 1
                rebuild_log = logs / f"rebuild-{run:02d}.log"
                assert zygote.wait(zygote.start("ingest", [str(corpus), "--json", "--prune"], rebuild_log)) == 0
                assert "rebuilt the index" in rebuild_log.read_text()
                assert_complete(zygote.check(logs / f"check-{run:02d}-rebuilt.log", corpus, full=True))
                previous = 0
                kills.append({"run": run, "after_flush": nth, "delay_s": round(delay, 2), "damaged": 1})
                print(f"kill {len(kills)}: Chroma files damaged, rebuilt by the next ingest")
                continue
            counts = assert_consistent(state, corpus)
            if not changes:  # before any file changed, nothing is ever removed
                assert counts["chunks"] >= previous
            previous = counts["chunks"]
            kills.append({"run": run, "after_flush": nth, "delay_s": round(delay, 2), **counts})
            print(f"kill {len(kills)}: {kills[-1]}")
            continue
        assert code == 0, log.read_text()[-3000:]  # it finished before the kill landed
        report = json.loads(log.read_text()[log.read_text().index("{") :])
        state = zygote.check(logs / f"check-{run:02d}.log", corpus, full=True)
        assert_complete(state)
        changes.append(_change_corpus(corpus, len(changes) + 1))
        print(f"run {run} completed ({report['added']} added, {report['removed']} removed); {changes[-1]}")
    assert len(kills) >= MIN_KILLS, f"only {len(kills)} kills landed in {RUN_LIMIT} runs"

    final_log = logs / "final.log"
    pid = zygote.start("ingest", [str(corpus), "--json", "--prune"], final_log)
    assert zygote.wait(pid) == 0, final_log.read_text()[-3000:]
    state = zygote.check(logs / "check-final.log", corpus, full=True)
    assert_complete(state)
    again = logs / "again.log"
    assert zygote.wait(zygote.start("ingest", [str(corpus), "--json"], again)) == 0
    report = json.loads(again.read_text()[again.read_text().index("{") :])
    assert report["added"] == 0
    assert report["skipped"] == len(state["manifest"])
    print(
        f"{len(kills)} kills survived ({damaged} needed a rebuild), {len(changes)} corpus changes, "
        f"final {len(state['chunks'])} chunks in {len(state['manifest'])} files, {time.monotonic() - started:.0f} s"
    )


@pytest.mark.parametrize("dies_at", ["manifest", "drop_old"])
def test_a_write_killed_midway_leaves_complete_records_and_bm25_in_step(tmp_path: Path, dies_at: str) -> None:
    """A file's new version is written and the process dies before the write ends.

    ``manifest``: after the new chunks, before the manifest entry. Found by the kill loop's
    invariants: the old code dropped the old version's chunks *before* writing the entry (an
    entry whose chunks were gone), and bumped the revision only at the end, so a BM25 cache
    built before the crash was trusted while Chroma held other chunks.
    ``drop_old``: after the new entry, before the old version's chunks are dropped; the next
    ingest must see the leftovers instead of skipping the now-unchanged file.
    Fixed in ChromaStore.write_documents and Ingestor (see their docstrings).
    """
    from rag.index.store import _STATE_ID, ChromaStore
    from rag.ingest.ingestor import Ingestor
    from rag.retrieval.hybrid import HybridRetriever

    docs = tmp_path / "docs"
    docs.mkdir()
    note = docs / "note.md"
    note.write_text("# Note\n\n" + " ".join(f"alpha{i} bravo." for i in range(60)))
    settings = make_settings(tmp_path / "data", **{"chunking.chunk_size": 40, "chunking.chunk_overlap": 5})
    store = ChromaStore(settings.store)
    ingestor = Ingestor(settings, store, WordEmbedder())  # type: ignore[arg-type]
    cache = tmp_path / "data" / "bm25.npz"

    def bm25_ids() -> list[str]:
        retriever = HybridRetriever(store, embedder=None, settings=settings.retrieval, bm25_cache=cache)  # type: ignore[arg-type]
        return sorted(retriever._bm25_index().ids)

    def chroma_ids() -> list[str]:
        return sorted(c.id for c in store.iter_chunks())

    def assert_records_complete() -> None:
        for path, record in store.file_records().items():
            assert store.chunk_versions(path).get(record.doc_id, 0) == record.n_chunks, "entry without its chunks"
        assert bm25_ids() == chroma_ids(), "BM25 and Chroma disagree"

    ingestor.ingest([docs])
    assert bm25_ids() == chroma_ids()  # also leaves a BM25 cache at the current revision
    note.write_text("# Note\n\n" + " ".join(f"charlie{i} delta." for i in range(45)))

    files, chunks = store.files, store.chunks

    class Dies:
        def __init__(self, real: Any, method: str, spare: Any = None) -> None:
            self.real, self.method, self.spare = real, method, spare

        def __getattr__(self, attr: str) -> Any:
            original = getattr(self.real, attr)
            if attr != self.method:
                return original

            def die(*args: Any, **kwargs: Any) -> Any:
                if self.spare is not None and kwargs.get("ids") == self.spare:
                    return original(*args, **kwargs)
                raise KeyboardInterrupt("killed")  # not an Exception: nothing on the way may swallow it

            return die

    if dies_at == "manifest":
        store.files = Dies(files, "upsert", spare=[_STATE_ID])  # type: ignore[assignment]
    else:
        store.chunks = Dies(chunks, "delete")  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        ingestor.ingest([docs])
    store.files, store.chunks = files, chunks
    assert_records_complete()
    assert any("charlie" in c.text for c in store.iter_chunks())  # the new chunks are stored ...
    if dies_at == "drop_old":
        assert any("alpha" in c.text for c in store.iter_chunks())  # ... next to the old ones

    again = ingestor.ingest([docs])
    assert again.added > 0
    assert again.skipped == 0
    assert_records_complete()
    texts = [c.text for c in store.iter_chunks()]
    assert all("alpha" not in t for t in texts)
    assert texts
    record = store.file_records()[str(note.resolve())]
    assert record.n_chunks == store.count() == len(texts)
    assert ingestor.ingest([docs]).skipped == 1


def test_two_ingests_on_one_data_dir(zygote: Zygote, crash_root: Path, tmp_path: Path) -> None:
    """A second ``rag ingest`` (the real console script) while the first is mid-write: refused, nothing corrupted."""
    from helpers_ingest_child import write_corpus

    corpus = tmp_path / "docs"
    write_corpus(corpus, 30, seed=77)
    data = tmp_path / "data"
    env = _child_env(data, crash_root / "tiny-model")
    first_log = tmp_path / "first.log"
    pid = zygote.start("ingest", [str(corpus), "--json"], first_log, {"RAG_DATA_DIR": str(data)})
    assert _wait_for_progress(first_log, pid, 1), first_log.read_text()[-3000:]
    os.kill(pid, signal.SIGSTOP)  # the first ingest now holds the lock mid-write, for as long as we like
    try:
        assert _alive(pid)
        rag = Path(sys.executable).with_name("rag")
        second = subprocess.run(
            [str(rag), "ingest", str(corpus), "--json"], env=env, capture_output=True, text=True, timeout=600
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    assert second.returncode == 2, second.stderr
    assert second.stdout == ""
    message = second.stderr.strip()
    assert message == (f"rag: error: another 'rag ingest' is writing to {data}; wait for it to finish and run again"), (
        message
    )
    assert zygote.wait(pid) == 0, first_log.read_text()[-3000:]
    first = json.loads(first_log.read_text()[first_log.read_text().index("{") :])
    assert first["added"] > 0
    assert not first["failed"]
    state = zygote.check(tmp_path / "check.log", corpus, {"RAG_DATA_DIR": str(data)}, full=True)
    assert_complete(state)
    assert first["chunks"] == len(state["chunks"])
    # The lock went with the first process: a third ingest runs, and finds nothing to add.
    third_log = tmp_path / "third.log"
    assert zygote.wait(zygote.start("ingest", [str(corpus), "--json"], third_log, {"RAG_DATA_DIR": str(data)})) == 0
    assert json.loads(third_log.read_text()[third_log.read_text().index("{") :])["added"] == 0


def test_chroma_files_cut_mid_write_are_rebuilt_by_the_next_ingest(tmp_path: Path) -> None:
    """A SIGKILL can land inside Chroma's own HNSW persist (it writes index_metadata.pickle in place).

    Seen twice in CI runs of the kill loop. Cutting the files by hand gives the same state
    deterministically: the next `rag ingest` must detect it, rebuild from the documents and say so.
    """
    from helpers_ingest_child import make_tiny_model, write_corpus

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 120)  # enough chunks for Chroma to persist an HNSW index (sync threshold 1000)
    env = _child_env(tmp_path / "data", make_tiny_model(tmp_path / "model"))
    rag = [str(Path(sys.executable).with_name("rag"))]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*rag, *args], env=env, capture_output=True, text=True, timeout=600, check=False)

    first = json.loads(run("ingest", str(corpus), "--json").stdout)
    assert first["added"] > 1000
    pickles = list((tmp_path / "data" / "chroma").glob("*/index_metadata.pickle"))
    assert pickles
    for pickle in pickles:
        pickle.write_bytes(b"")
    damaged = run("--set", "generator.name=extractive", "ask", "How much did Acme000 raise?")
    assert damaged.returncode != 0
    assert "run 'rag ingest' to rebuild it" in damaged.stderr
    assert "Traceback" not in damaged.stderr
    rebuilt = run("ingest", str(corpus), "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    report = json.loads(rebuilt.stdout)
    assert report["added"] == first["added"]
    assert any("rebuilt the index" in warning for warning in report["warnings"])
    assert json.loads(run("ingest", str(corpus), "--json").stdout)["added"] == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a size-limited tmpfs needs root (CI runs as root)")
def test_a_full_disk_stops_the_ingest_with_one_line_and_a_rerun_completes(zygote: Zygote, tmp_path: Path) -> None:
    """The data directory lies on a 4 MB tmpfs; the corpus needs about 9 MB. The ingest fails with one
    line naming the folder, leaves every recorded file complete, and after the filesystem grows a
    re-run stores exactly what one clean ingest stores."""
    from helpers_ingest_child import write_corpus

    corpus = tmp_path / "docs"
    write_corpus(corpus, N_FILES)
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0 and "permi" in mounted.stderr.lower():  # root in a container without CAP_SYS_ADMIN
        pytest.skip(f"cannot mount a size-limited tmpfs here: {mounted.stderr.strip()}")
    assert mounted.returncode == 0, mounted.stderr
    try:
        data = disk / "data"
        env = {"RAG_DATA_DIR": str(data)}
        log = tmp_path / "full.log"
        assert zygote.wait(zygote.start("ingest", [str(corpus), "--json"], log, env)) == 1
        noise = ("PROGRESS", "rag: exporting the embedding model")  # progress for the test; a first run's export
        lines = [line for line in log.read_text().splitlines() if line.strip() and not line.startswith(noise)]
        assert "Traceback" not in log.read_text()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"rag: error: no space left on {data} ("), lines[0]
        assert "run 'rag ingest' again" in lines[0]
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)  # space is freed
        counts = assert_consistent(zygote.check(tmp_path / "check1.log", corpus, env), corpus)
        print(f"\nafter the disk filled: {counts}")
        assert 0 < counts["recorded_files"] < N_FILES, counts  # it filled mid-ingest, with files stored before
        again = tmp_path / "again.log"
        assert zygote.wait(zygote.start("ingest", [str(corpus), "--json"], again, env)) == 0, again.read_text()[-3000:]
        report = json.loads(again.read_text()[again.read_text().index("{") :])
        assert report["skipped"] == counts["recorded_files"]  # what was stored is kept, not stored again
        assert_complete(zygote.check(tmp_path / "check2.log", corpus, env, full=True))
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_bm25_cache_that_cannot_be_written_does_not_fail_the_search(tmp_path: Path) -> None:
    """A full or read-only disk fails the cache write; the question is still answered from the index in memory."""
    from rag.index.store import ChromaStore
    from rag.ingest.ingestor import Ingestor
    from rag.retrieval.hybrid import HybridRetriever

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("# Note\n\nOpenAI raised money from Thrive Capital in a large round.\n")
    settings = make_settings(tmp_path / "data")
    store = ChromaStore(settings.store)
    Ingestor(settings, store, WordEmbedder()).ingest([docs])  # type: ignore[arg-type]
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache's folder should be")
    retriever = HybridRetriever(store, embedder=None, settings=settings.retrieval, bm25_cache=blocker / "bm25.npz")  # type: ignore[arg-type]
    assert retriever._bm25_index().ids  # built and used, though it could not be saved
    assert not (blocker / "bm25.npz").exists()
