"""Sentences that say the sources do not hold the answer ("The documents do not contain ...").

Two readers, two questions, so two patterns side by side:

- :func:`says_sources_lack_answer` (the checker): does an *uncited* answer
  sentence anywhere say the sources lack something? Then it asserts nothing
  checkable. Generous, because it is asked only of uncited sentences.
- :func:`is_refusal` (the completion parser): does a sentence of a model's
  reply *open* as a refusal ("Sorry, I cannot find ...", "No information ...")?
  Then it is dropped, and a reply of nothing else becomes an abstention.
  Anchored at the start, so a factual sentence that goes on to mention what
  the sources lack is kept.

Merging them would change answers: the parser would drop sentences such as
"Unfortunately, these sources never mention the valuation" that it keeps today,
and the checker would stop counting "There is no information on X" as a claim.
"""

from __future__ import annotations

import re

ABSTENTION_RE = re.compile(
    r"\b(?:the|these|those|provided|retrieved|available|given|my)\s+(?:documents?|sources?|passages?|context|texts?)\b"
    r"[^.]*\b(?:do(?:es)?n[o']t|not|no|never|cannot|can't)\b[^.]*"
    r"\b(?:contain|say|state|mention|answer|provide|include|specify|give|cover)"
    r"|\bi (?:do not|don't|cannot|can't) (?:know|answer|find)\b",
    re.IGNORECASE,
)
REFUSAL_RE = re.compile(
    r"^(?:sorry,?\s*)?(?:i\s+(?:do\s+not|don't|cannot|can't)\s+(?:know|find|answer)"
    r"|(?:the\s+)?(?:provided\s+|given\s+)?(?:documents?|passages?|context|text)s?\s+"
    r"(?:do(?:es)?\s+not|don't|doesn't)\s+(?:contain|mention|provide|include|say|state|give)"
    r"|(?:there\s+is\s+)?no\s+(?:information|answer)\b)",
    re.IGNORECASE,
)


def says_sources_lack_answer(text: str) -> bool:
    """Whether ``text`` says, anywhere, that the sources (or "I") do not have the answer."""
    return ABSTENTION_RE.search(text) is not None


def is_refusal(sentence: str) -> bool:
    """Whether a reply sentence (markers removed) opens as a refusal to answer."""
    return REFUSAL_RE.match(sentence) is not None
