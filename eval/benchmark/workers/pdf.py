"""PDF parsing: pages per second and page fidelity, the project's pypdfium2 loader against
llama-index's ``PDFReader`` (pypdf), on the SEC-filing-like PDFs of :mod:`benchmark.filings`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmark.measure import timed

PDF_PASSES = 5  # a pass takes well under 2 s: the best of several resists noise
Reader = Callable[[Path], list[str]]


def _project_pages(path: Path) -> list[str]:
    from rag.ingest.loaders import load_file

    document = load_file(path)
    starts = [*document.page_starts, len(document.text)]
    return [document.text[starts[i] : starts[i + 1]] for i in range(len(document.page_starts))]


def _llama_pages(path: Path) -> list[str]:
    from llama_index.readers.file import PDFReader

    return [d.text for d in PDFReader().load_data(file=path)]


READERS: dict[str, Reader] = {
    "project (pypdfium2)": _project_pages,
    "llama-index PDFReader (pypdf)": _llama_pages,
}


def _read_all(read: Reader, paths: list[Path]) -> list[list[str]]:
    return [read(p) for p in paths]


def measure_pdf(spec: dict[str, Any]) -> dict[str, Any]:
    """Pages per second and page fidelity: the project's pypdfium2 loader vs llama-index's PDFReader (pypdf)."""
    paths = [Path(p) for p in spec["paths"]]
    markers: list[list[list[str]]] = spec["markers"]
    out: dict[str, Any] = {"documents": len(paths), "pages": sum(len(m) for m in markers)}
    for name, read in READERS.items():
        read(paths[0])  # imports and first-call costs outside the clock
        timings = []
        for _ in range(PDF_PASSES):
            pages, seconds = timed(_read_all, read, paths)
            timings.append(seconds)
        seconds = min(timings)
        out[name] = {"seconds": round(seconds, 3), "passes": [round(t, 3) for t in timings],
                     "pages_per_s": round(out["pages"] / seconds, 1), **page_fidelity(pages, markers)}  # fmt: skip
    project, llama = READERS
    out["speedup"] = round(out[project]["pages_per_s"] / out[llama]["pages_per_s"], 2)
    return out


def page_fidelity(pages: list[list[str]], markers: list[list[list[str]]]) -> dict[str, Any]:
    """Every page's paragraph openers found on that page, in order (whitespace normalised)."""
    checked = good = 0
    page_count_ok = all(len(p) == len(m) for p, m in zip(pages, markers, strict=True))
    for doc_pages, doc_markers in zip(pages, markers, strict=True):
        for number, expected in enumerate(doc_markers):
            checked += 1
            if number < len(doc_pages):
                good += _in_order(" ".join(doc_pages[number].split()), expected)
    return {"page_count_ok": page_count_ok, "pages_in_order": good, "pages_checked": checked}


def _in_order(text: str, sentences: list[str]) -> bool:
    """Whether every sentence occurs in ``text``, each after the one before it."""
    position = -1
    for sentence in sentences:
        found = text.find(" ".join(sentence.split()), position + 1)
        if found <= position:
            return False
        position = found
    return True
