"""Answer-text metrics: how much of a reference answer a prediction states.

Pure functions over strings, apart from the run-level bookkeeping in
:mod:`rag.evaluation.metrics`; key facts are read with the checker's own
extractor, so "$40B" and "$40 billion" are one fact here as they are there.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rag.text.markers import strip_markers
from rag.verification.facts import extract_facts, fact_in, index_text

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCT = str.maketrans(dict.fromkeys(string.punctuation + "‘’“”–—", " "))


def normalize_answer(text: str) -> str:
    """SQuAD normalisation (lower case, no punctuation, articles or extra spaces), markers removed.

    Decimal points and thousands separators inside numbers are kept, so
    "$1.25 billion" does not become "1 25 billion".
    """
    text = strip_markers(text).lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,250 -> 1250
    text = re.sub(r"(?<=\d)\.(?=\d)", "\u2024", text)  # protect decimal points from punctuation removal
    text = text.translate(_PUNCT).replace("\u2024", ".")
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the normalised texts are identical."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def contains_reference(prediction: str, reference: str) -> float:
    """1.0 when the normalised reference occurs in the normalised prediction.

    Extractive answers quote whole source sentences, so a short reference is
    "matched" when it appears inside them; exact match would be almost always 0.
    """
    ref = normalize_answer(reference)
    return float(bool(ref) and f" {ref} " in f" {normalize_answer(prediction)} ")


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1: harmonic mean of token precision and recall (bag of words)."""
    pred, ref = _tokens(prediction), _tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_recall(prediction: str, reference: str) -> float:
    """Share of the reference's tokens that the prediction contains (bag of words)."""
    pred, ref = _tokens(prediction), _tokens(reference)
    if not ref:
        return 0.0
    return sum((Counter(pred) & Counter(ref)).values()) / len(ref)


def key_facts(reference: str, question: str = "") -> list[Any]:
    """The checkable facts of a reference (amounts, numbers, dates, round labels, names), deduplicated.

    Uses the verifier's extractor, so "$40B" and "$40 billion" are one fact
    here exactly as they are when citations are checked. Facts the question
    already states ("Amazon" in "How much did Amazon commit?") are left out,
    because any on-topic answer repeats them; if that leaves nothing, all of
    the reference's facts count.
    """
    unique: dict[tuple[str, tuple[object, ...]], Any] = {}
    for fact in extract_facts(reference):
        unique.setdefault((fact.kind, fact.key), fact)
    facts = list(unique.values())
    if question:
        asked = index_text(question)
        new = [f for f in facts if not fact_in(f, asked)]
        facts = new or facts
    return facts


def key_fact_recall(prediction: str, reference: str, question: str = "") -> tuple[float | None, list[str]]:
    """Share of the reference's key facts stated in the prediction, and the missing ones (as written).

    None when the reference has no checkable fact (the metric does not apply).
    """
    facts = key_facts(reference, question)
    if not facts:
        return None, []
    index = index_text(strip_markers(prediction))
    missing = [f.text.strip() for f in facts if not fact_in(f, index)]
    return (len(facts) - len(missing)) / len(facts), list(dict.fromkeys(missing))


def required_fact_recall(prediction: str, required: Sequence[str]) -> tuple[float, list[str]]:
    """Share of a question's listed key facts that the prediction states, and the missing ones.

    A key fact with figures, dates or names ("$13 billion", "ICONIQ") is stated
    when each of them is, in any spelling the checker accepts ("$13bn"); a plain
    phrase ("special purpose vehicle") when all its words appear.
    """
    text = strip_markers(prediction)
    index = index_text(text)
    words = set(_tokens(text))
    missing = []
    for fact in required:
        mentions = extract_facts(fact)
        stated = all(fact_in(m, index) for m in mentions) if mentions else set(_tokens(fact)) <= words
        if not stated:
            missing.append(fact)
    return (len(required) - len(missing)) / len(required) if required else 1.0, missing
