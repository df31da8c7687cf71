"""Follow-up questions: rewrite "and how much did Nvidia put in?" into a standalone question.

Retrieval only sees the current question, so a follow-up that leans on the
previous turn ("it", "that round", "and ...") must carry that turn's subject.
The rewrite is deterministic: the words of the previous standalone question
that the follow-up lacks (names, figures, key terms; not stopwords) are
appended in their original spelling. It is shown to the user, so a bad
rewrite is visible rather than silent.
"""

from __future__ import annotations

import re

from rag.text.lexicon import QUESTION_WORDS
from rag.text.words import tokenize

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
    context: list[str] = []
    for word in re.findall(r"[A-Za-z0-9][\w'’.$-]*[A-Za-z0-9]|[A-Za-z0-9]", previous):
        stems = tokenize(word)
        if stems and not set(stems) <= present and word.lower() not in QUESTION_WORDS:
            context.append(word)
            present.update(stems)
    if not context:
        return question.strip()
    return f"{question.strip().rstrip('?')} ({' '.join(context)})?"
