"""Whose thing it is: "Microsoft's shareholders approved" against "approved by Activision Blizzard's shareholders".

A possessive binds a thing to its owner, and a claim that moves the thing to
another party the passage also names keeps every name and most words, so the
presence checks and the similarity scores pass it. Here a claim's "X's <words>"
is contradicted when the passage writes the same words as another named
party's ("Y's <words>") and no sentence of the passage puts those words with X
at all (which would allow "the valuation of X" or "X ... its valuation").
"""

from __future__ import annotations

import re

from rag.text.sentences import sentence_spans
from rag.text.words import normalise_text
from rag.verification.facts import Fact, extract_facts

# "X's exclusive cloud provider": up to three lower-case words after the possessive.
OWNED_RE = re.compile(r"^\s+((?:[a-z][a-z-]*\s+){0,2}[a-z][a-z-]*)")
POSSESSIVE_RE = re.compile(r"['’]s$")
STOP_WORDS = frozenset(
    "a an the and or of in on at to for by with from as is are was were has have had across into over under"
    " through about after before between than that which who whose our its their his her per".split()
)


def possessive_conflict(claim: str, passage: str) -> str | None:
    """ "the passage says Y's <words>, not X's" when the claim gives X what the passage gives Y; else None."""
    text = normalise_text(claim)
    source = normalise_text(passage)
    names = [f for f in extract_facts(source) if f.kind == "name"]
    sentences = [source[a:b].lower() for a, b in sentence_spans(source)]
    claimed = [f for f in extract_facts(text) if f.kind == "name"]
    for owner in claimed:
        words = _owned(text, owner)
        if not words:
            continue
        # Only a swap between parties the claim names: "Y's" must be one of them.
        theirs = [
            n
            for n in names
            if _bare(n) != _bare(owner)
            and any(_bare(n) == _bare(c) for c in claimed)
            and (_owned(source, n) or "").startswith(words)
        ]
        own_name = _bare(owner)
        together = any(words in s and own_name in s for s in sentences)
        if theirs and not together:
            return f"the passage says {_bare(theirs[0], lower=False)}'s {words}, not {_bare(owner, lower=False)}'s"
    return None


def _owned(text: str, name: Fact) -> str | None:
    """The words a possessive name owns ("exclusive cloud provider"), up to the first stop word; None if none."""
    if POSSESSIVE_RE.search(name.text.strip()) is None:
        return None
    m = OWNED_RE.match(text[name.end :])
    if m is None:
        return None
    kept: list[str] = []
    for word in m.group(1).split():
        if word in STOP_WORDS:
            break
        kept.append(word)
    return " ".join(kept) or None


def _bare(name: Fact, lower: bool = True) -> str:
    """The name without its possessive ending or an opening stop word ("As OpenAI's" is "openai")."""
    words = POSSESSIVE_RE.sub("", name.text.strip()).split()
    while len(words) > 1 and words[0].lower() in STOP_WORDS:
        words = words[1:]  # "As OpenAI's exclusive cloud provider": capitalised only because it opens the sentence
    bare = " ".join(words)
    return bare.lower() if lower else bare
