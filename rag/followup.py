"""Follow-up questions: rewrite "and how much did Nvidia put in?" into a standalone question.

Retrieval only sees the current question, so a follow-up that leans on the
previous turn ("it", "that round", "and ...") must carry that turn's subject.
The rewrite is deterministic: the previous standalone question's names and key
terms that the follow-up lacks are appended. It is shown to the user, so a bad
rewrite is visible rather than silent.
"""

from __future__ import annotations

import re

from rag.bm25 import tokenize
from rag.extractive import question_entities

_DEPENDENT = re.compile(
    r"^\s*(?:and|but|also|what about|how about|then)\b|\b(?:it|its|they|them|their|that|those|this|these|he|she|"
    r"his|her|the same|that round|the round|the deal)\b",
    re.IGNORECASE,
)


def standalone_question(question: str, previous_questions: list[str]) -> str:
    """``question`` unchanged when it stands alone, else completed from the latest previous question."""
    if not previous_questions or not _DEPENDENT.search(question):
        return question.strip()
    previous = previous_questions[-1]
    present = set(tokenize(question))
    missing_entities = [e for e in question_entities(previous) if not set(tokenize(e)) <= present]
    missing_terms = [
        t
        for t in tokenize(previous)
        if t not in present and not any(t in tokenize(e) for e in missing_entities) and t.isalpha()
    ]
    context = list(dict.fromkeys(missing_entities + missing_terms))
    if not context:
        return question.strip()
    return f"{question.strip().rstrip('?')} ({' '.join(context)})?"
