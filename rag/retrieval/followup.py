"""Follow-up questions: rewrite "and how much did Nvidia put in?" into a standalone question.

Retrieval only sees the current question, so a follow-up that leans on the
previous turn ("it", "that round", "and ...") must carry that turn's subject.
The rewrite is deterministic: the words of the previous standalone question
that the follow-up lacks (names, figures, key terms; not stopwords) are
appended in their original spelling. It is shown to the user, so a bad
rewrite is visible rather than silent.

A question that names its own subject stands alone even when it contains a
word like "its" or "that": in "How much did Anthropic raise in its Series F?"
the "its" is Anthropic's, and in "the firm that led OpenAI's round" the "that"
is a relative pronoun. Only a question that opens as a continuation ("and
…", "what about …") or refers back without naming anyone is completed.
"""

from __future__ import annotations

import re

from rag.text.lexicon import QUESTION_WORDS, word_set
from rag.text.words import tokenize

_CONTINUATION = re.compile(
    r"^\s*(?:and|but|also|what about|how about|then)\b|\b(?:that|this|the same) (?:round|deal|year|company|firm)\b",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"\b(?:it|its|they|them|their|that|those|this|these|he|she|his|her|the same|the round|the deal)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][\w&.'’-]*[\w&]|[A-Za-z]")
# Capitalised words that name no subject of their own: a round, a title, a month.
_NOT_A_SUBJECT = word_set(
    """
    series round seed ceo cfo cto founder chairman ipo ai january february march april may june july
    august september october november december
    """
)


def depends_on_previous(question: str) -> bool:
    """Whether ``question`` leans on the previous turn: it opens as a continuation or points at something
    named before ("that round"), or it refers back ("it", "their") without naming a subject of its own."""
    if _CONTINUATION.search(question):
        return True
    return _REFERENCE.search(question) is not None and not _names_subject(question)


def _names_subject(question: str) -> bool:
    """Whether a name appears: a capitalised word past the first, or a word with an inner capital (OpenAI, xAI)
    anywhere; round labels, titles, months and question words do not count."""
    for position, word in enumerate(_WORD.findall(question)):
        bare = re.sub(r"['’]s$", "", word)
        if len(bare) < 2 or bare.lower() in _NOT_A_SUBJECT or bare.lower() in QUESTION_WORDS:
            continue
        if any(ch.isupper() for ch in bare[1:]) or (position > 0 and bare[0].isupper()):
            return True
    return False


def standalone_question(question: str, previous_questions: list[str]) -> str:
    """``question`` unchanged when it stands alone, else completed from the latest previous question."""
    if not previous_questions or not depends_on_previous(question):
        return question.strip()
    previous = previous_questions[-1]
    present = set(tokenize(question))
    context: list[str] = []
    for word in re.findall(r"[A-Za-z0-9][\w'’.$-]*[A-Za-z0-9]|[A-Za-z0-9]", previous):
        stems = tokenize(word)
        if stems and not set(stems) <= present and word.lower() not in QUESTION_WORDS:
            context.append(word)
            present.update(stems)
    if not context:
        return question.strip()
    return f"{question.strip().rstrip('?')} ({' '.join(context)})?"
