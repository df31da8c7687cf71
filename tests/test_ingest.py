"""Ingestion with the real embedding model and a real embedded Chroma in a temp dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from rag.ingest.ingestor import IngestLocked, ingest_lock
from rag.ingest.loaders import LoadError, load_file

from conftest import CORPUS, SEED, make_settings


def _write_docx(path: Path, paragraphs: list[str], title: str) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    shutil.copy(next(CORPUS.glob("*.pdf")), folder / "brief.pdf")
    shutil.copy(next(CORPUS.glob("*.html")), folder / "brief.html")
    _write_docx(folder / "memo.docx", ["Zephyr Capital invested $12 million in Acme Robotics in May 2024."], "Memo")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%% truncated")
    (folder / "notes.md").write_text(
        "---\ntitle: Notes\ndate: 2024-01-02\nsources:\n  - https://example.org/a\n---\n"
        "# Notes\n\nThe ferry to Oslo leaves at nine.\n"
    )
    return folder


def test_ingest_reports_bad_file_and_keeps_the_rest(docs: Path, pipeline_factory, settings) -> None:
    pipeline = pipeline_factory(settings)
    report = pipeline.ingest([docs])
    assert report.files == 6
    assert [Path(f.path).name for f in report.failed] == ["corrupt.pdf"]
    assert "PDF" in report.failed[0].error
    sources = {record.source for record in pipeline.documents()}
    assert sources == {SEED.name, "brief.pdf", "brief.html", "memo.docx", "notes.md"}
    assert report.added == pipeline.store.count() > 5


def test_documents_prepared_by_worker_processes_match_those_prepared_in_process(
    docs: Path, tmp_path: Path, pipeline_factory, monkeypatch
) -> None:
    """A large ingest chunks and extracts facts in worker processes: the same chunks, facts and failures."""
    from rag.ingest import prepare

    in_process = pipeline_factory(make_settings(tmp_path / "in-process"))
    expected = in_process.ingest([docs])
    monkeypatch.setattr(prepare, "PARALLEL_BYTES", 0)  # these few small files count as a large ingest
    started: list[int] = []
    pool = prepare.ProcessPoolExecutor

    def counted_pool(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(1)
        return pool(*args, **kwargs)

    monkeypatch.setattr(prepare, "ProcessPoolExecutor", counted_pool)
    in_workers = pipeline_factory(make_settings(tmp_path / "workers"))
    actual = in_workers.ingest([docs])
    assert started, "the preparation ran in process: the workers were never started"

    assert [f.path for f in actual.failed] == [f.path for f in expected.failed]  # corrupt.pdf, by its parser
    assert (actual.added, actual.chunks) == (expected.added, expected.chunks)

    def chunks(pipeline) -> dict[str, tuple[str, object]]:  # type: ignore[no-untyped-def]
        got = pipeline.store.chunks.get(include=["documents", "metadatas"])
        return {i: (text, meta) for i, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}

    assert chunks(in_workers) == chunks(in_process)
    assert sorted(map(repr, in_workers.store.all_facts())) == sorted(map(repr, in_process.store.all_facts()))
    assert in_process.store.all_facts()


def test_reingest_is_idempotent_and_changes_replace_old_chunks(docs: Path, pipeline_factory, settings) -> None:
    pipeline = pipeline_factory(settings)
    first = pipeline.ingest([docs])
    count = pipeline.store.count()
    again = pipeline.ingest([docs])
    assert again.added == 0
    assert again.skipped == first.files - len(first.failed)
    assert pipeline.store.count() == count

    notes = docs / "notes.md"
    notes.write_text(notes.read_text().replace("nine", "ten"))
    changed = pipeline.ingest([docs])
    assert changed.added >= 1
    assert pipeline.store.count() == count
    texts = [c.text for c in pipeline.store.iter_chunks() if c.source == "notes.md"]
    assert any("ten" in t for t in texts)
    assert not any("nine" in t for t in texts)

    notes.unlink()
    pruned = pipeline.ingest([docs], prune=True)
    assert pruned.removed >= 1
    assert "notes.md" not in {c.source for c in pipeline.store.iter_chunks()}


def test_chunks_keep_offsets_titles_pages_and_sources(docs: Path, pipeline_factory, settings) -> None:
    pipeline = pipeline_factory(settings)
    pipeline.ingest([docs])
    chunks = list(pipeline.store.iter_chunks())
    for chunk in chunks:
        document = load_file(Path(chunk.path))
        assert document.text[chunk.start : chunk.end] == chunk.text
    pdf_chunks = [c for c in chunks if c.source == "brief.pdf"]
    assert pdf_chunks
    assert all(c.page is not None and c.page >= 1 for c in pdf_chunks)
    assert all(c.page is None for c in chunks if c.source != "brief.pdf")
    notes = next(c for c in chunks if c.source == "notes.md")
    assert notes.title == "Notes"
    assert notes.extra["sources"] == "https://example.org/a"
    assert next(c for c in chunks if c.source == "memo.docx").title == "Memo"


def test_loader_errors_are_readable(tmp_path: Path) -> None:
    cases = {
        "empty.txt": b"",
        "fake.pdf": b"this is not a pdf at all",
        "zero.docx": b"PK\x03\x04garbage",
        "binary.txt": b"\x00\x01\x02\x03" * 100,
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(LoadError):
            load_file(path)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Café Zürich raised 5 million francs.".encode("latin-1"))
    assert "Zürich" in load_file(latin).text


def test_second_ingest_is_refused_while_one_holds_the_lock(tmp_path: Path) -> None:
    with ingest_lock(tmp_path), pytest.raises(IngestLocked, match="another 'rag ingest'"), ingest_lock(tmp_path):
        pass


@pytest.mark.parametrize("store", ["embedded", "server"])
def test_worker_processes_store_what_one_process_stores(
    store: str, chroma_server: str, tmp_path: Path, pipeline_factory, monkeypatch
) -> None:
    """``rag ingest --workers 2``: the same chunks and vectors, re-ingest still a no-op, the same answer.

    Against a server the workers write themselves; embedded, they embed and this process writes.
    """
    monkeypatch.setattr("rag.ingest.ingestor._FLUSH_CHUNKS", 25)  # several batches from a dozen briefs
    docs = tmp_path / "docs"
    docs.mkdir()
    for path in sorted(CORPUS.glob("*.md"))[:12]:
        shutil.copy(path, docs / path.name)
    single = pipeline_factory(make_settings(tmp_path / "single"))
    single.ingest([docs])
    server = {"store.chroma_url": chroma_server, "store.collection": f"workers_{uuid.uuid4().hex[:8]}"}
    parallel = pipeline_factory(make_settings(tmp_path / "parallel", **(server if store == "server" else {})))

    steps: list[int] = []
    report = parallel.ingest([docs], workers=2, progress=lambda done, total, name: steps.append(done))
    assert not report.failed
    assert report.added == single.store.count() == parallel.store.count() > 50
    assert len(steps) >= 3
    assert steps == sorted(steps)
    assert steps[-1] == report.added

    def stored(pipeline) -> dict[str, tuple[str, np.ndarray]]:  # type: ignore[no-untyped-def]
        got = pipeline.store.chunks.get(include=["documents", "embeddings"])
        rows = zip(got["ids"], got["documents"], got["embeddings"], strict=True)
        return {chunk_id: (text, np.asarray(vector)) for chunk_id, text, vector in rows}

    expected, actual = stored(single), stored(parallel)
    assert set(actual) == set(expected)
    for chunk_id, (text, vector) in expected.items():
        assert actual[chunk_id][0] == text
        np.testing.assert_allclose(actual[chunk_id][1], vector, atol=1e-4)
    assert {r.path: r.n_chunks for r in parallel.documents()} == {r.path: r.n_chunks for r in single.documents()}

    assert parallel.ingest([docs], workers=2).added == 0
    question = "Who led Anthropic's Series F?"
    answer = parallel.answer(question)
    assert not answer.abstained
    assert answer.answer == single.answer(question).answer


def test_workers_must_be_positive(tmp_path: Path, pipeline_factory, settings) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        pipeline_factory(settings).ingest([tmp_path], workers=0)


def test_an_index_refuses_another_embedding_model(docs: Path, tmp_path: Path, pipeline_factory, settings) -> None:
    """Vectors of two models must never meet in one index: asking or ingesting with another model is refused
    in one line that says what to do, on the CLI too."""
    from helpers_ingest_child import make_tiny_model

    from rag.index.chroma_client import EmbeddingMismatchError
    from rag.index.store import ChromaStore

    pipeline_factory(settings).ingest([docs])
    tiny = make_tiny_model(tmp_path / "tiny-model")
    with pytest.raises(EmbeddingMismatchError, match=r"'all-MiniLM-L6-v2'.*'tiny-model'.*store\.collection"):
        ChromaStore(settings.store).check_embedding_model("tiny-model")
    ChromaStore(settings.store).check_embedding_model("all-MiniLM-L6-v2")  # the same model: fine

    env = {**os.environ, "RAG_DATA_DIR": str(settings.store.data_dir), "RAG_CONFIG": os.devnull,
           "HF_HUB_OFFLINE": "1", "RAG_EMBEDDING_MODEL": str(tiny)}  # fmt: skip
    rag = Path(sys.executable).with_name("rag")
    for command in (["ask", "Who invested in OpenAI?"], ["ingest", str(docs)]):
        done = subprocess.run([str(rag), *command], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "'tiny-model'" in done.stderr
    assert {r.source for r in pipeline_factory(settings).documents()} >= {SEED.name}  # nothing was lost
