"""Answering by lookup: the stored financing facts in memory, queried by entity, attribute, round and time.

The facts are loaded once per store revision (a few per chunk: thousands, not
millions), so a question costs a filter over a list, not a store round trip.
Names are matched loosely enough for how people write them ("Mistral" is
"Mistral AI", "Thrive" is "Thrive Capital") and no further.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rag.financing.model import FinancingFact
from rag.types import Chunk

if TYPE_CHECKING:
    from rag.index.store import ChromaStore

# Words that do not tell two companies apart ("Thrive Capital" is named by "Thrive").
GENERIC_WORDS = frozenset(
    "inc corp corporation co ltd llc lp plc pbc group holdings capital ventures venture partners management "
    "the ai labs lab technologies company".split()
)


def entity_key(name: str) -> tuple[str, ...]:
    """The distinguishing words of a name, lower-case, possessive and generic suffixes removed."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"(?:'s|’s)\b", "", name.lower()))
    distinct = tuple(w for w in words if w not in GENERIC_WORDS)
    return distinct or tuple(words)


def same_entity(a: str, b: str) -> bool:
    """ "Mistral" and "Mistral AI", "Thrive" and "Thrive Capital"; not "Microsoft" and "Microsoft Azure"."""
    ka, kb = entity_key(a), entity_key(b)
    if not ka or not kb:
        return False
    short, long = (ka, kb) if len(ka) <= len(kb) else (kb, ka)
    return long[: len(short)] == short and len(long) - len(short) <= 1


# "Safe Superintelligence (SSI)": a name and the acronym a document defines for it.
ACRONYM_RE = re.compile(r"\b(?P<name>[A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,4})\s+\((?P<acronym>[A-Z]{2,6})\)")


def acronyms(sentences: Iterable[str]) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    """Both ways, the acronyms the sentences (and titles) define: an acronym whose letters open the name and follow
    in it."""
    aliases: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for sentence in set(sentences):
        for match in ACRONYM_RE.finditer(sentence):
            name, acronym = match.group("name"), match.group("acronym")
            if not re.fullmatch(".*?".join(re.escape(c) for c in acronym.lower()) + ".*", name.lower()):
                continue
            if name[0] != acronym[0]:
                continue
            aliases.setdefault(entity_key(name), set()).add(entity_key(acronym))
            aliases.setdefault(entity_key(acronym), set()).add(entity_key(name))
    return aliases


class FactIndex:
    """The store's facts and the chunks that hold them, reloaded when the store's revision changes."""

    def __init__(self, store: ChromaStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._revision: str | None = None
        self._facts: list[FinancingFact] = []
        self._chunks: dict[tuple[str, str], list[Chunk]] = {}
        self._aliases: dict[tuple[str, ...], set[tuple[str, ...]]] = {}

    def facts(self) -> list[FinancingFact]:
        revision = self.store.revision()
        with self._lock:
            if revision != self._revision:
                self._facts = self.store.all_facts()
                self._chunks = {}
                titles = [record.title for record in self.store.file_records().values()]
                self._aliases = acronyms([*titles, *(f.sentence for f in self._facts)])
                self._revision = revision
            return self._facts

    def same(self, name: str, other: str) -> bool:
        """The same company, by name or by an acronym the documents define ("Safe Superintelligence (SSI)")."""
        if same_entity(name, other):
            return True
        return entity_key(other) in self._aliases.get(entity_key(name), set())

    def entities(self) -> list[str]:
        """Every company and investor the facts name, for the planner to recognise in questions."""
        names = {f.subject for f in self.facts()} | {f.counterparty for f in self.facts() if f.counterparty}
        return sorted(n for n in names if n)

    def subjects(self) -> set[str]:
        """The companies facts are about (raisers, the valued, the acquired), as opposed to their investors."""
        return {f.subject for f in self.facts() if f.subject}

    def find(
        self,
        subject: str | None = None,
        attributes: Iterable[str] = (),
        counterparty: str | None = None,
        round_label: str | None = None,
        years: Sequence[int] = (),
    ) -> list[FinancingFact]:
        """Facts matching every given filter; a round filter matches the label loosely ("Series F" in "Series F-1")."""
        wanted = set(attributes)
        found = []
        for fact in self.facts():
            if wanted and fact.attribute not in wanted:
                continue
            if subject is not None and not self.same(fact.subject, subject):
                continue
            if counterparty is not None and not self.same(fact.counterparty, counterparty):
                continue
            if round_label and round_label.lower() not in fact.round.lower():
                continue
            if years and not any(fact.date.startswith(str(y)) for y in years):
                continue
            found.append(fact)
        return found

    def chunk_for(self, fact: FinancingFact) -> Chunk | None:
        """The stored chunk holding the fact's sentence (or at least its value), for citing it."""
        key = (fact.path, fact.doc_id)
        with self._lock:
            chunks = self._chunks.get(key)
        if chunks is None:
            chunks = self.store.chunks_of(fact.path, fact.doc_id)
            with self._lock:
                self._chunks[key] = chunks
        whole = [c for c in chunks if c.start <= fact.sentence_start and fact.sentence_end <= c.end]
        if whole:
            return min(whole, key=lambda c: c.end - c.start)
        return next((c for c in chunks if c.start <= fact.start and fact.end <= c.end), None)


class FactsWithout(FactIndex):
    """A fact index less some facts: the composer's second try after the checker refused what they said.

    Per question and read-only, so concurrent questions never see each other's exclusions.
    """

    def __init__(self, base: FactIndex, dropped: frozenset[str]) -> None:
        super().__init__(base.store)
        self.base = base
        self.dropped = dropped

    def facts(self) -> list[FinancingFact]:
        return [fact for fact in self.base.facts() if fact.id not in self.dropped]

    def chunk_for(self, fact: FinancingFact) -> Chunk | None:
        return self.base.chunk_for(fact)  # the base index caches the chunks

    def same(self, name: str, other: str) -> bool:
        return self.base.same(name, other)  # the base index holds the acronyms


def headline(facts: Sequence[FinancingFact]) -> FinancingFact | None:
    """The figure most documents agree on (ties: the earliest stated, from prose before tables)."""
    if not facts:
        return None
    counts: dict[float, int] = {}
    for fact in facts:
        counts[fact.value] = counts.get(fact.value, 0) + 1
    return max(facts, key=lambda f: (counts[f.value], -f.start))


def unique_counterparties(facts: Iterable[FinancingFact]) -> dict[str, FinancingFact]:
    names: dict[str, FinancingFact] = {}
    for fact in facts:
        if fact.counterparty and not any(same_entity(fact.counterparty, n) for n in names):
            names[fact.counterparty] = fact
    return names


def same_round(fact: FinancingFact, other: FinancingFact) -> bool:
    """Both facts belong to one round: the same label, or, when either is unlabelled, the same month."""
    if fact.round and other.round:
        return fact.round.lower() == other.round.lower()
    return len(fact.date) >= 7 and fact.date[:7] == other.date[:7]
