"""Per-file parse limits: slow and huge files are skipped with their reason, the rest of the folder
ingests, and the ingest's memory stays bounded (rag/ingest/limits.py).

The folder holds good files next to a decompression-bomb .docx, a PDF of 5,000 empty pages, a 200 MB
text file and an HTML file of one ~48 MB line of tags. The real ``rag ingest`` runs as a child process
and its peak resident memory (its own or its parse child's, whichever is larger: ``wait4``'s rusage
covers both) is compared with a generous bound: parsing the HTML file unguarded takes several GB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import CORPUS, SEED, make_settings

RAG = Path(sys.executable).with_name("rag")
MB = 1024 * 1024
MEMORY_MB = 1024  # the parse child's cap in this test (ingest.parse_memory_mb)
PEAK_BOUND_MB = 2500  # the embedding model and Chroma, plus a capped parse child; an unguarded parse needs far more


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", RAG_CONFIG=os.devnull, RAG_DATA_DIR=str(data))
    return env


def _bomb_docx(path: Path, unpacked_mb: int) -> None:
    """A valid-looking .docx whose document.xml inflates to ``unpacked_mb`` MB from about a thousandth of that."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b" " * MB
            for _ in range(unpacked_mb):
                member.write(block)


def _empty_pages_pdf(path: Path, pages: int) -> None:
    import pypdfium2

    pdf = pypdfium2.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(612, 792)
    pdf.save(str(path))
    pdf.close()


def _one_line_html(path: Path, size_mb: int) -> None:
    """Markup of one line: a tag per three bytes, which an HTML tree holds as millions of objects."""
    with path.open("w", encoding="ascii") as handle:
        handle.write("<html><body><p>")
        piece = "<b>x</b>" * (MB // 8)
        for _ in range(size_mb):
            handle.write(piece)
        handle.write("</p></body></html>")


def _huge_text(path: Path, size_mb: int) -> None:
    line = b"OpenAI raised money from many investors in a round that was widely reported.\n"
    block = line * (MB // len(line))
    with path.open("wb") as handle:
        for _ in range(size_mb):
            handle.write(block)


@pytest.mark.slow
def test_slow_and_huge_files_are_skipped_with_reasons_and_memory_stays_bounded(tmp_path: Path) -> None:
    from rag.index.store import ChromaStore

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    pdf = sorted(CORPUS.glob("*.pdf"))[0]
    shutil.copy(pdf, docs / "brief.pdf")
    (docs / "notes.md").write_text("# Notes\n\nThe ferry to Oslo leaves at nine.\n")
    _bomb_docx(docs / "bomb.docx", 300)
    _empty_pages_pdf(docs / "pages.pdf", 5000)
    _huge_text(docs / "huge.txt", 200)
    _one_line_html(docs / "oneline.html", 48)
    data = tmp_path / "data"
    command = [
        str(RAG), "--set", f"ingest.parse_memory_mb={MEMORY_MB}", "--set", "ingest.parse_timeout_s=300",
        "ingest", str(docs), "--json",
    ]  # fmt: skip
    out, err = tmp_path / "out.json", tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(command, env=_env(data), stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024
    print(f"\nrag ingest: exit {child.returncode}, peak RSS {peak_mb:.0f} MB\n{err.read_text()[-2000:]}")
    assert child.returncode == 3, err.read_text()  # some files skipped: the report is printed, exit 3
    report = json.loads(out.read_text())
    reasons = {Path(f["path"]).name: f["error"] for f in report["failed"]}
    print(json.dumps(reasons, indent=1))
    assert set(reasons) == {"bomb.docx", "pages.pdf", "huge.txt", "oneline.html"}, reasons
    assert "decompression bomb" in reasons["bomb.docx"]
    assert "ingest.max_unpacked_mb" in reasons["bomb.docx"]
    assert reasons["pages.pdf"].startswith("5,000 pages; the limit is 3,000")
    assert "file too large: 200.0 MB" in reasons["huge.txt"]
    assert any(limit in reasons["oneline.html"] for limit in ("ingest.parse_memory_mb", "ingest.parse_timeout_s"))
    stored = {record.source for record in ChromaStore(make_settings(data).store).file_records().values()}
    assert stored == {SEED.name, "brief.pdf", "notes.md"}
    assert peak_mb < PEAK_BOUND_MB, f"peak resident memory {peak_mb:.0f} MB"


def test_cheap_checks_refuse_a_bomb_and_a_page_flood_without_parsing(tmp_path: Path) -> None:
    from rag.config import IngestSettings
    from rag.ingest.limits import check_before_parsing
    from rag.ingest.loaders import LoadError

    limits = IngestSettings(max_pages=10, max_unpacked_mb=5)
    _bomb_docx(tmp_path / "bomb.docx", 6)
    _empty_pages_pdf(tmp_path / "pages.pdf", 11)
    with pytest.raises(LoadError, match=r"unpacks to 6 MB \(a decompression bomb\?\); the limit is 5 MB"):
        check_before_parsing(tmp_path / "bomb.docx", limits)
    with pytest.raises(LoadError, match=r"^11 pages; the limit is 10 \(ingest.max_pages\)"):
        check_before_parsing(tmp_path / "pages.pdf", limits)
    _empty_pages_pdf(tmp_path / "ten.pdf", 10)
    check_before_parsing(tmp_path / "ten.pdf", limits)  # at the limit: parsed as usual
    check_before_parsing(sorted(CORPUS.glob("*.pdf"))[0], limits)


def test_a_parse_past_its_time_is_stopped_and_the_next_file_parses(tmp_path: Path) -> None:
    """The guard kills a parse that runs past its time and starts a fresh child for the next file."""
    from rag.config import IngestSettings
    from rag.ingest.limits import GuardedParser
    from rag.ingest.loaders import LoadError

    slow = tmp_path / "slow.html"
    _one_line_html(slow, 16)  # two million tags: tens of seconds of parsing, far past a 2 s limit
    with GuardedParser(IngestSettings(parse_timeout_s=2, parse_memory_mb=8192)) as parser:
        with pytest.raises(LoadError, match=r"parsing took longer than 2 s \(ingest.parse_timeout_s\); skipped"):
            parser.load(slow)
        assert "SoftBank" in parser.load(SEED).text
