"""Routing a question to the filings of the company (and fiscal year) it names.

When an index holds many filers, "What is Netflix's FY2017 total current liabilities?"
matches the balance sheets of every company about equally: the rows read alike. The
question names the filer, and each filing names itself on its cover page (the
registrant, kept as ``Chunk.extra["filer"]`` by :mod:`rag.ingest.context`) and in its
file name. :class:`Router` matches the two:

* company: a question that names one or more filers (distinctive words of the
  registrant or the file name, also run together as file names write them,
  "ACTIVISIONBLIZZARD"; an all-capitals ticker such as "JPM" may abbreviate a name)
  is searched only in those filers' documents and in documents that are not filings;
* fiscal year: among those, documents whose file name or cover period holds a year the
  question names are preferred (a boost, not a filter: a 10-K also reports the years
  before it).

With fewer than two filers in the index there is nothing to choose and nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest.context import FILER_KEY
from rag.types import Chunk

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9&]*")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_FY_SHORT = re.compile(r"\bFY'?(\d{2})\b", re.IGNORECASE)
# Words of company names that name no company in particular.
_GENERIC = frozenset(
    "inc incorporated corp corporation co company companies the and of group holdings holding plc ltd llc lp "
    "limited sa nv ag se trust international subsidiaries form filed for dated earnings report annual quarterly "
    "10k 10q 8k k q".split()
)
_MAX_RUN = 3  # words run together: "American Water Works" -> "americanwaterworks"


def name_tokens(text: str) -> set[str]:
    """Lower-cased words of ``text`` and runs of up to three consecutive words joined, generic words left out."""
    words = [w.lower() for w in _WORD.findall(text)]
    tokens = {w for w in words if len(w) >= 3 and w not in _GENERIC}
    for size in range(2, _MAX_RUN + 1):
        for i in range(len(words) - size + 1):
            run = words[i : i + size]
            if not any(w in _GENERIC for w in run):
                tokens.add("".join(run))
    return tokens


def years_in(text: str) -> set[str]:
    """Four-digit years, and "FY22"-style short ones read as 20xx."""
    return set(_YEAR.findall(text)) | {f"20{short}" for short in _FY_SHORT.findall(text)}


@dataclass(frozen=True)
class Route:
    """Which documents a question may search (``None``: all) and which it prefers."""

    allowed: frozenset[str] | None = None
    preferred: frozenset[str] = frozenset()


@dataclass
class Router:
    """Filer names and years per document, and the document of every chunk; built with the BM25 index."""

    revision: str = ""
    names: dict[str, set[str]] = field(default_factory=dict)
    years: dict[str, set[str]] = field(default_factory=dict)
    unrouted: set[str] = field(default_factory=set)
    doc_of: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, chunks: Iterable[Chunk], revision: str = "") -> Router:
        router = cls(revision=revision)
        for chunk in chunks:
            router.doc_of[chunk.id] = chunk.doc_id
            filer = chunk.extra.get(FILER_KEY, "")
            if chunk.doc_id in router.names or chunk.doc_id in router.unrouted:
                continue
            if not filer:
                router.unrouted.add(chunk.doc_id)
                continue
            stem = Path(chunk.source).stem
            company = filer.split("|")[0]
            router.names[chunk.doc_id] = name_tokens(company) | name_tokens(" ".join(re.split(r"[_\-]+", stem)))
            router.years[chunk.doc_id] = years_in(stem) | years_in(filer)
        return router

    def route(self, question: str) -> Route:
        """The filers the question names (all documents when it names none, or the index has one filer)."""
        if len({frozenset(n) for n in self.names.values()}) < 2:
            return Route()
        asked = name_tokens(question)
        tickers = {w.lower() for w in _WORD.findall(question) if w.isupper() and len(w) >= 3}
        scores = {
            doc: len(asked & names) + sum(1 for t in tickers if any(n.startswith(t) for n in names))
            for doc, names in self.names.items()
        }
        best = max(scores.values(), default=0)
        if best == 0:
            return Route()
        named = {doc for doc, s in scores.items() if s == best}
        asked_years = years_in(question)
        preferred = {doc for doc in named if self.years.get(doc, set()) & asked_years}
        return Route(allowed=frozenset(named | self.unrouted), preferred=frozenset(preferred))
