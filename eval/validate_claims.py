"""Check a labelled relation-claims file before anyone scores the citation checker on it.

``python eval/validate_claims.py CLAIMS.jsonl [--against EARLIER.jsonl ...]``

A labelled set is only worth scoring if its passages are what the documents say and if it
is really new. Hand-written sets drift on both counts (a passage retyped with a changed
figure, a table row copied from a set that was already tuned on), so this script checks,
for every item:

- the schema: fields and their types, known ``category``/``label``/``origin`` values, unique
  ids, every ``[n]`` marker backed by a source ``n``, ``reason_mentions`` on exactly the
  unsupported items, and dated sources (at least two) for ``stale_as_current`` items;
- that every passage from a document (origin ``filing``, ``corpus`` or ``seed``) is a
  whitespace-normalised substring of that document's text: pypdf page text for PDFs, and
  for text documents the raw file with Markdown ``**`` and HTML tags removed. An item names
  one ``doc`` even when its sources come from several documents (a stale-as-current item
  cites two or three briefs), so a source not found in ``doc`` may come from another file in
  the same folder;
- that written passages (origin ``wire``, doc ``written:<style>``) share no 8-word window
  with any ``corpus/`` file, so they add styles the corpus lacks instead of copying it;
- that no passage shares a 12-word window with any passage of the ``--against`` sets.

It prints one line per problem, naming the item id, then counts per (category, label,
origin), and exits 1 when there was any problem.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pypdf import PdfReader

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
CATEGORIES = frozenset(
    {
        "role_swap",
        "figure_swap",
        "stale_as_current",
        "computed",
        "entity_swap",
        "paraphrase",
        "plain_supported",
        "plain_unsupported",
    }
)
LABELS = frozenset({"supported", "unsupported"})
DOCUMENT_ORIGINS = frozenset({"filing", "corpus", "seed"})
WRITTEN_ORIGIN = "wire"
WRITTEN_PREFIX = "written:"
REQUIRED_FIELDS: dict[str, type] = {
    "id": str,
    "answer": str,
    "sources": list,
    "label": str,
    "category": str,
    "origin": str,
    "doc": str,
    "reason_mentions": list,
    "split": str,
}
CORPUS_WINDOW = 8  # written passages must not copy this many corpus words in a row
AGAINST_WINDOW = 12  # passages must not share this many words in a row with earlier sets
MARKER = re.compile(r"\[(\d+)\]")
WORD = re.compile(r"\w+")
MARKUP = re.compile(r"\*\*|<[^>]+>")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one item; printed as ``id: message``."""

    item_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.item_id}: {self.message}"


def collapse(text: str) -> str:
    """Whitespace-normalise, so line breaks and pypdf spacing do not decide a substring match."""
    return " ".join(text.split())


def windows(text: str, size: int) -> set[tuple[str, ...]]:
    """Every run of ``size`` lower-cased words, the unit of the overlap checks."""
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def pdf_text(path: Path) -> str:
    """The PDF's page texts joined with spaces, opening encrypted files with an empty password."""
    reader = PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt("")
    return " ".join(page.extract_text() or "" for page in reader.pages)


@cache
def document_text(path: Path) -> str:
    """A document's text as passages are cut from it, whitespace collapsed."""
    if path.suffix.lower() == ".pdf":
        return collapse(pdf_text(path))
    return collapse(MARKUP.sub("", path.read_text(encoding="utf-8")))


def read_items(path: Path) -> list[dict[str, Any]]:
    """One JSON object per non-empty line."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def passages(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Every source text of every item."""
    for item in items:
        for source in item.get("sources", []):
            yield str(source.get("text", ""))


def schema_problems(item: dict[str, Any]) -> list[str]:
    """Field types, known values, markers, reasons and dates of one item."""
    found = [
        f"field {name!r} missing or not {kind.__name__}"
        for name, kind in REQUIRED_FIELDS.items()
        if not isinstance(item.get(name), kind)
    ]
    if found:
        return found
    if item["category"] not in CATEGORIES:
        found.append(f"unknown category {item['category']!r}")
    if item["label"] not in LABELS:
        found.append(f"unknown label {item['label']!r}")
    if item["origin"] not in DOCUMENT_ORIGINS | {WRITTEN_ORIGIN}:
        found.append(f"unknown origin {item['origin']!r}")
    if (item["origin"] == WRITTEN_ORIGIN) != item["doc"].startswith(WRITTEN_PREFIX):
        found.append(f"origin {item['origin']!r} does not match doc {item['doc']!r}")
    sources = item["sources"]
    if not sources:
        found.append("no sources")
    for source in sources:
        if not (isinstance(source, dict) and isinstance(source.get("n"), int) and source.get("text")):
            found.append(f"source without int 'n' and non-empty 'text': {source!r:.80}")
        elif not isinstance(source.get("title"), str):
            found.append(f"source {source['n']} has no title")
    numbers = {source.get("n") for source in sources if isinstance(source, dict)}
    missing = sorted({int(n) for n in MARKER.findall(item["answer"])} - numbers)
    if missing:
        found.append(f"markers {missing} have no source")
    if not MARKER.search(item["answer"]):
        found.append("answer has no [n] marker")
    wants_reason = item["label"] == "unsupported"
    if wants_reason != bool(item["reason_mentions"]):
        found.append("reason_mentions must be non-empty exactly on unsupported items")
    if item["category"] == "stale_as_current" and (
        len(sources) < 2 or not all(isinstance(s, dict) and s.get("date") for s in sources)
    ):
        found.append("stale_as_current needs two or more dated sources")
    return found


def passage_problems(item: dict[str, Any], corpus_windows: set[tuple[str, ...]]) -> list[str]:
    """Verbatim document passages, and written passages that do not copy the corpus."""
    found: list[str] = []
    for source in item["sources"]:
        text = collapse(str(source["text"]))
        if item["origin"] == WRITTEN_ORIGIN:
            copied = windows(text, CORPUS_WINDOW) & corpus_windows
            if copied:
                found.append(f"source {source['n']} shares {' '.join(min(copied))!r} with corpus/")
            continue
        path = (REPO / item["doc"]).resolve()
        if not path.is_file():
            found.append(f"doc {item['doc']!r} not found")
        elif not any(text in document_text(candidate) for candidate in candidate_documents(path)):
            found.append(f"source {source['n']} is not a substring of {item['doc']} or a file beside it")
    return found


def candidate_documents(doc: Path) -> Iterator[Path]:
    """The item's own document first, then the other files in its folder."""
    yield doc
    yield from (path for path in sorted(doc.parent.iterdir()) if path.is_file() and path != doc)


def corpus_word_windows(size: int) -> set[tuple[str, ...]]:
    """Word windows of every corpus file, read the way ``document_text`` reads it."""
    found: set[tuple[str, ...]] = set()
    for path in sorted(CORPUS.iterdir()):
        if path.is_file():
            found |= windows(document_text(path), size)
    return found


def validate(items: Sequence[dict[str, Any]], earlier: Sequence[dict[str, Any]]) -> list[Problem]:
    """All problems of ``items``, in file order."""
    corpus_windows = corpus_word_windows(CORPUS_WINDOW)
    earlier_windows: set[tuple[str, ...]] = set()
    for text in passages(earlier):
        earlier_windows |= windows(text, AGAINST_WINDOW)
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        item_id = str(item.get("id", f"line {index + 1}"))
        if item_id in seen:
            problems.append(Problem(item_id, "duplicate id"))
        seen.add(item_id)
        messages = schema_problems(item)
        if not messages:
            messages = passage_problems(item, corpus_windows)
            for source in item["sources"]:
                shared = windows(str(source["text"]), AGAINST_WINDOW) & earlier_windows
                if shared:
                    messages.append(f"source {source['n']} shares {' '.join(min(shared))!r} with an earlier set")
        problems.extend(Problem(item_id, message) for message in messages)
    return problems


def count_table(items: Iterable[dict[str, Any]]) -> str:
    """Items per (category, label, origin), one line each, then the total."""
    counts = Counter((str(i.get("category")), str(i.get("label")), str(i.get("origin"))) for i in items)
    lines = [f"{category:18} {label:12} {origin:7} {n:4}" for (category, label, origin), n in sorted(counts.items())]
    lines.append(f"{'total':38} {sum(counts.values()):4}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("claims", type=Path, help="the JSONL file to check")
    parser.add_argument("--against", type=Path, nargs="*", default=[], help="earlier sets it must not reuse")
    args = parser.parse_args(argv)
    items = read_items(args.claims)
    earlier = [item for path in args.against for item in read_items(path)]
    problems = validate(items, earlier)
    for problem in problems:
        print(problem)
    print(count_table(items))
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
