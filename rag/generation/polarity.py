"""Yes or no: the polarity of a quoted answer to a yes/no question, said first.

A yes/no question answered with quotes alone leaves the reader to infer the
answer ("Meta ended up spending $72.22 billion, just above the top of its final
range" for "Did Meta's capex come in above its guidance?"). The answer is said
only when the quoted sentence decides it: "No" when a sentence that talks about
what the question asks (its content words, stem-matched) negates it ("does not
involve an equity stake", "the sources disagree"); "Yes" when a sentence states
most of what the question asks without negation. Otherwise nothing is added:
a quote about something near the question does not make a "yes".
"""

from __future__ import annotations

import re
from typing import Literal

from rag.generation.extractive import question_entities
from rag.generation.plan import YESNO_RE
from rag.text.markers import strip_markers
from rag.text.sentences import sentence_spans
from rag.text.words import tokenize
from rag.verification.contradictions import NEGATION_RE

Polarity = Literal["Yes", "No"]

# Disagreement negates "do the sources agree"; "undisclosed" negates "did X disclose".
_NEGATING_WORDS = re.compile(r"\b(?:disagree\w*|differ(?:s|ed|ing)?|undisclosed|declined to)\b", re.IGNORECASE)
_STEM_PREFIX = 5  # "invest" ~ "investor", "disclos" ~ "disclosure": Porter stems of one family share a prefix
_YES_SHARE = 0.5  # of the question's content words a sentence must state for a "yes"
# Words a source uses for what a question asks in other words ("has not confirmed" answers "did it disclose").
_SAME_MEANING = {
    "confi": "discl", "revea": "discl", "annou": "discl", "publi": "discl", "back": "inves", "fund": "inves",
}  # fmt: skip


def answer_polarity(question: str, answer: str) -> Polarity | None:
    """ "Yes", "No" or None (undecided) for ``answer`` to the yes/no ``question``; see the module docstring.

    Only what the question asks about counts, not whom: names and years are left out of the question's words,
    or a sentence about Meta and Databricks would "answer" whether Meta invested in Databricks.
    """
    opening = YESNO_RE.match(question)
    if opening is None:
        return None
    named = _stems(" ".join(question_entities(question))) | _stems(opening.group())
    asked = _stems(question) - named
    if not asked:
        return None
    best = 0.0
    plain = strip_markers(answer)
    for sentence in (plain[start:end] for start, end in sentence_spans(plain)):
        share = len(asked & _stems(sentence)) / len(asked)
        if share and (NEGATION_RE.search(sentence) or _NEGATING_WORDS.search(sentence)):
            return "No"
        best = max(best, share)
    return "Yes" if best >= _YES_SHARE else None


def with_polarity(question: str, answer: str) -> str:
    """``answer`` opened with its "Yes: " / "No: " when :func:`answer_polarity` decides it, else unchanged."""
    polarity = answer_polarity(question, answer)
    return f"{polarity}: {answer}" if polarity else answer


def _stems(text: str) -> set[str]:
    """Word stems cut to a common prefix; numbers and single letters left out."""
    prefixes = (token[:_STEM_PREFIX] for token in tokenize(text) if token.isalpha() and len(token) > 1)
    return {_SAME_MEANING.get(prefix, prefix) for prefix in prefixes}
