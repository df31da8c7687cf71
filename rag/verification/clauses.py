"""Contrasts with the parties swapped: "A is aggressive, while B focuses on safety" against the reverse.

A sentence that contrasts two named parties ("OpenAI is more aggressive
technically, while Anthropic focuses more on safety") says something of each
in its own clause. A claim that keeps the clauses and swaps the names keeps
every name and word, so the presence checks and the similarity scores pass
it. Here claim and passage are cut into clauses at contrast and list words,
each clause with exactly one of the claim's names, and a claim clause is
contradicted when the passage clause sharing most of its words (at least
:data:`MIN_SHARED` stems) names the claim's other party and no passage clause
naming its own party shares as many.
"""

from __future__ import annotations

import re

from rag.text.sentences import sentence_spans
from rag.text.words import normalise_text, stems
from rag.verification.facts import Fact, extract_facts

CLAUSE_BREAK_RE = re.compile(r"\s*(?:[,;]\s*)?\b(?:while|whereas|but|and|whilst)\b\s*|\s*;\s*", re.I)
# A contrast that opens the sentence ends at its first comma: "Unlike A's ..., B ...", "While A ..., B ...".
OPENING_CONTRAST_RE = re.compile(
    r"^\s*(?:unlike|while|whereas|although|compared\s+(?:with|to)|in\s+contrast\s+to)\b[^,]*,", re.I
)
# "and" without a comma before it: a break only where a new party opens a clause.
AND_RE = re.compile(r"\s*\band\b\s*", re.I)
MIN_SHARED = 2
VALUES = ("money", "percent", "number", "date")
Value = tuple[str, tuple[object, ...], str]  # a figure or date of a clause: kind, key, as written


def clause_swap(claim: str, passage: str) -> str | None:
    """ "the passage says this of B, not A" when a clause of the claim is the passage's clause about B; else None."""
    text = normalise_text(claim)
    names = _distinct([f for f in extract_facts(text) if f.kind == "name"])
    if len(names) < 2:
        return None
    claimed = _clauses([text], names)
    if len({name for name, _ in claimed}) < 2:
        return None
    source = normalise_text(passage)
    stated = _clauses([source[a:b] for a, b in sentence_spans(source)], names)
    for name, words in claimed:
        shared = [(len(words & theirs), other) for other, theirs in stated]
        best = max((n for n, _ in shared), default=0)
        if best < MIN_SHARED:
            continue
        owners = {other for n, other in shared if n == best}
        if name not in owners and len(owners) == 1:
            return f"the passage says this of {owners.pop()}, not {name}"
    return None


def _distinct(names: list[Fact]) -> list[str]:
    """The names as written, without a possessive ending, once each."""
    return list(dict.fromkeys(re.sub(r"['’]s$", "", n.text.strip()) for n in names))


def _one_name_clauses(sentences: list[str], names: list[str]) -> list[tuple[str, str]]:
    """(the name, the clause) for every clause of the sentences that names exactly one of ``names``."""
    found: list[tuple[str, str]] = []
    for sentence in sentences:
        for clause in _split(sentence, names):
            present = [n for n in names if re.search(rf"\b{re.escape(n)}\b", clause, re.I)]
            if len(present) == 1:
                found.append((present[0], clause))
    return found


def _clauses(sentences: list[str], names: list[str]) -> list[tuple[str, frozenset[str]]]:
    """(the one name a clause gives, the clause's other word stems) for every clause naming exactly one name."""
    return [
        (name, frozenset(stems(re.sub(rf"\b{re.escape(name)}(?:['’]s)?\b", " ", clause, flags=re.I))))
        for name, clause in _one_name_clauses(sentences, names)
    ]


def _split(sentence: str, names: list[str]) -> list[str]:
    """The sentence cut after an opening contrast ("Unlike A's ...,"), at contrast words and semicolons, and at
    an "and" that opens a new clause: after a
    comma, or before a name that is not joined to a name before it ("... to a tech empire and Google to a hub").
    Other "and"s join parts of one clause: two names ("BlackRock and Fidelity took part") or two things said of
    one party ("both an initial equity funder and a key technology partner of Stargate")."""
    pieces: list[str] = []
    start = 0
    opening = OPENING_CONTRAST_RE.match(sentence)  # "Unlike OpenAI's open API ..., xAI emphasizes ..."
    if opening:
        pieces.append(opening.group())
        start = opening.end()
    for brk in CLAUSE_BREAK_RE.finditer(sentence, start):
        before, after = sentence[start : brk.start()], sentence[brk.end() :]
        named_before = any(before.rstrip().endswith(n) for n in names)
        named_after = any(after.startswith(n) for n in names)
        plain_and = AND_RE.fullmatch(brk.group()) is not None
        joined = (named_before and named_after) or (plain_and and not named_after)
        if not joined:
            pieces.append(before)
            start = brk.end()
    pieces.append(sentence[start:])
    return pieces


def clause_value_swap(claim: str, passage: str) -> str | None:
    """ "the passage gives March 2021 for ZeniMax; March 2022 is Nuance's": a figure or date the claim puts with
    one party which the passage states in another party's clause, while the party's own clause has another.

    Each side is cut into clauses as for :func:`clause_swap`; only a clause naming exactly one party counts.
    """
    text = normalise_text(claim)
    source = normalise_text(passage)
    passage_names = _distinct([f for f in extract_facts(source) if f.kind == "name"])
    # The claim's names as the passage writes them ("ZeniMax" is "ZeniMax Media Inc"); names it lacks are left out.
    spelled = {
        n: next((p for p in passage_names if p.lower().startswith(n.lower())), "")
        for n in _distinct([f for f in extract_facts(text) if f.kind == "name"])
    }
    names = [n for n, p in spelled.items() if p]
    if not names or len(passage_names) < 2:
        return None
    stated = _valued([source[a:b] for a, b in sentence_spans(source)], passage_names)
    for short, values in _valued([text], names):
        name = spelled[short]
        own = [vals for other, vals in stated if other == name]
        for kind, key, written in values:
            if not own or any(_holds(vals, kind, key) for vals in own):
                continue
            elsewhere = [other for other, vals in stated if other != name and _holds(vals, kind, key)]
            instead = [w for vals in own for k, v, w in vals if k == kind and v != key]
            if elsewhere and instead:
                return f"the passage gives {instead[0]} for {short}; {written} is {elsewhere[0]}'s"
    return None


def _valued(sentences: list[str], names: list[str]) -> list[tuple[str, list[Value]]]:
    """(the one name a clause gives, its figures and dates) for every clause naming exactly one name."""
    return [
        (name, [(f.kind, f.key, f.text.strip()) for f in extract_facts(clause) if f.kind in VALUES])
        for name, clause in _one_name_clauses(sentences, names)
    ]


def _holds(values: list[Value], kind: str, key: tuple[object, ...]) -> bool:
    return any(k == kind and v == key for k, v, _ in values)
