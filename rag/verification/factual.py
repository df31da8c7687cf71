"""Which answer sentences are claims to check, and which assert nothing a source should back."""

from __future__ import annotations

import re

from rag.text.abstention import says_sources_lack_answer
from rag.text.claims import ClaimText
from rag.verification.facts import extract_facts

# The checker's own notes, should an answer quote them back.
NOTE_RE = re.compile(r"^(?:sources disagree|note:)", re.IGNORECASE)
MIN_CONTENT_WORDS = 4


def is_factual(claim: ClaimText) -> bool:
    """Whether a sentence asserts something a source should back.

    Uncited abstentions ("The documents do not contain ..."), the checker's
    own "Sources disagree" notes, questions, headings and lines ending in a
    colon assert nothing checkable. Any other sentence with a citation, a
    figure or date, a name and a few words, or four content words is a claim.
    """
    text = claim.text.strip()
    if NOTE_RE.match(text) or text.endswith("?"):
        return False
    if claim.citations:
        return True  # a cited "sources do not include equity" is a claim about the sources
    if says_sources_lack_answer(text):
        return False
    if claim.heading or text.endswith(":"):
        return False
    words = re.findall(r"[A-Za-z]{3,}", text)
    facts = extract_facts(text)
    return any(f.kind != "name" for f in facts) or len(words) >= MIN_CONTENT_WORDS or (bool(facts) and len(words) >= 3)
