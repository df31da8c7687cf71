"""The Porter stemmer, NLTK's ``NLTK_EXTENSIONS`` variant, without importing NLTK.

``import nltk`` (which ``from nltk.stem.porter import PorterStemmer`` runs)
imports scipy.stats, scikit-learn and pandas: about two seconds, the largest
single cost of a cold ``rag ask`` (``eval/bench_results/bench.md``). We need
only the stemmer (BM25 terms and the checker's coverage words, both through
:func:`rag.text.words.stem`), so this module carries the algorithm: a port of
``nltk.stem.porter.PorterStemmer`` in its default mode (NLTK 3.x, Apache
License 2.0, Copyright (C) 2001-2026 NLTK Project; the algorithm is M. Porter,
"An algorithm for suffix stripping", Program 14.3 (1980): 130-137, with Martin
Porter's and NLTK's extensions). ``tests/test_bench.py`` checks that it stems
every word of the corpus, the question set and the benchmark corpus exactly as
NLTK does, so BM25 tokens (and :data:`rag.text.words.TOKENIZER_VERSION`) are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

_VOWELS = frozenset("aeiou")
_IRREGULAR = {
    "sky": ["sky", "skies"],
    "die": ["dying"],
    "lie": ["lying"],
    "tie": ["tying"],
    "news": ["news"],
    "inning": ["innings", "inning"],
    "outing": ["outings", "outing"],
    "canning": ["cannings", "canning"],
    "howe": ["howe"],
    "proceed": ["proceed"],
    "exceed": ["exceed"],
    "succeed": ["succeed"],
}
_POOL = {form: stem for stem, forms in _IRREGULAR.items() for form in forms}

Rule = tuple[str, str, Callable[[str], bool] | None]


def _is_consonant(word: str, i: int) -> bool:
    if word[i] in _VOWELS:
        return False
    if word[i] == "y":
        negate = False
        while i > 0 and word[i] == "y":
            negate = not negate
            i -= 1
        return (word[i] not in _VOWELS) != negate
    return True


def _consonant_flags(word: str) -> list[bool]:
    flags: list[bool] = []
    for i, ch in enumerate(word):
        if ch in _VOWELS:
            flags.append(False)
        elif ch == "y":
            flags.append(True if i == 0 else not flags[i - 1])
        else:
            flags.append(True)
    return flags


def _measure(stem: str) -> int:
    return "".join("c" if c else "v" for c in _consonant_flags(stem)).count("vc")


def _positive_measure(stem: str) -> bool:
    return _measure(stem) > 0


def _contains_vowel(stem: str) -> bool:
    return not all(_consonant_flags(stem))


def _ends_double_consonant(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _is_consonant(word, len(word) - 1)


def _ends_cvc(word: str) -> bool:
    return (
        len(word) >= 3
        and _is_consonant(word, len(word) - 3)
        and not _is_consonant(word, len(word) - 2)
        and _is_consonant(word, len(word) - 1)
        and word[-1] not in ("w", "x", "y")
    ) or (len(word) == 2 and not _is_consonant(word, 0) and _is_consonant(word, 1))


def _strip(word: str, suffix: str) -> str:
    return word[: -len(suffix)] if suffix else word


def _apply(word: str, rules: list[Rule]) -> str:
    """The first rule whose suffix matches decides; its condition failing leaves the word."""
    for suffix, replacement, condition in rules:
        if suffix == "*d" and _ends_double_consonant(word):
            stem = word[:-2]
            return stem + replacement if condition is None or condition(stem) else word
        if word.endswith(suffix):
            stem = _strip(word, suffix)
            return stem + replacement if condition is None or condition(stem) else word
    return word


_STEP1A: list[Rule] = [("sses", "ss", None), ("ies", "i", None), ("ss", "ss", None), ("s", "", None)]


def _step1a(word: str) -> str:
    if word.endswith("ies") and len(word) == 4:
        return _strip(word, "ies") + "ie"
    return _apply(word, _STEP1A)


def _step1b(word: str) -> str:
    if word.endswith("ied"):
        return _strip(word, "ied") + ("ie" if len(word) == 4 else "i")
    if word.endswith("eed"):
        stem = _strip(word, "eed")
        return stem + "ee" if _measure(stem) > 0 else word
    for suffix in ("ed", "ing"):
        if word.endswith(suffix):
            intermediate = _strip(word, suffix)
            if _contains_vowel(intermediate):
                break
    else:
        return word
    return _apply(
        intermediate,
        [
            ("at", "ate", None),
            ("bl", "ble", None),
            ("iz", "ize", None),
            ("*d", intermediate[-1], lambda stem: intermediate[-1] not in ("l", "s", "z")),
            ("", "e", lambda stem: _measure(stem) == 1 and _ends_cvc(stem)),
        ],
    )


def _y_to_i(stem: str) -> bool:
    return len(stem) > 1 and _is_consonant(stem, len(stem) - 1)


_STEP1C: list[Rule] = [("y", "i", _y_to_i)]


def _step1c(word: str) -> str:
    return _apply(word, _STEP1C)


_STEP2: list[Rule] = [
    (suffix, replacement, _positive_measure)
    for suffix, replacement in (
        ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
        ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"), ("ization", "ize"),
        ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"),
        ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"), ("fulli", "ful"),
    )
]  # fmt: skip


def _step2(word: str) -> str:
    if word.endswith("alli") and _positive_measure(_strip(word, "alli")):
        return _step2(_strip(word, "alli") + "al")
    # the 'l' of 'logi' -> 'log' stays with the stem, so the measure is taken on word[:-3]
    return _apply(word, [*_STEP2, ("logi", "log", lambda stem: _positive_measure(word[:-3]))])


_STEP3: list[Rule] = [
    ("icate", "ic", _positive_measure),
    ("ative", "", _positive_measure),
    ("alize", "al", _positive_measure),
    ("iciti", "ic", _positive_measure),
    ("ical", "ic", _positive_measure),
    ("ful", "", _positive_measure),
    ("ness", "", _positive_measure),
]


def _step3(word: str) -> str:
    return _apply(word, _STEP3)


def _measure_gt1(stem: str) -> bool:
    return _measure(stem) > 1


def _ion(stem: str) -> bool:
    return _measure(stem) > 1 and stem[-1] in ("s", "t")


_STEP4: list[Rule] = [
    *[(s, "", _measure_gt1) for s in ("al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent")],
    ("ion", "", _ion),
    *[(s, "", _measure_gt1) for s in ("ou", "ism", "ate", "iti", "ous", "ive", "ize")],
]


def _step4(word: str) -> str:
    return _apply(word, _STEP4)


def _step5a(word: str) -> str:
    if word.endswith("e"):
        stem = _strip(word, "e")
        if _measure(stem) > 1:
            return stem
        if _measure(stem) == 1 and not _ends_cvc(stem):
            return stem
    return word


def _step5b(word: str) -> str:
    return _apply(word, [("ll", "l", lambda stem: _measure(word[:-1]) > 1)])


def stem(word: str) -> str:
    """``nltk.stem.porter.PorterStemmer().stem(word)`` (lower-cases first)."""
    lowered = word.lower()
    if lowered in _POOL:
        return _POOL[lowered]
    if len(word) <= 2:
        return lowered
    result = lowered
    for step in (_step1a, _step1b, _step1c, _step2, _step3, _step4, _step5a, _step5b):
        result = step(result)
    return result
