"""Words: typographic folding, word tokens, the one stemmer, search tokens and coverage stems.

Two tokenisations serve two stages. :func:`tokenize` gives BM25 its index
terms (and the extractive answerer and follow-up rewrite their key terms), so
it must not change without a new :data:`TOKENIZER_VERSION`.
:func:`content_words` and :func:`stems` give the citation checker its words:
they keep names in any script, fold dotted acronyms, and :func:`stems` measures
lexical coverage. Both stem with the same Porter stemmer (:func:`stem`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.text.lexicon import BM25_STOPWORDS, COVERAGE_STOPWORDS
from rag.text.porter import stem as porter_stem

# Version of the BM25 tokens: cached indexes built with another version are rebuilt.
TOKENIZER_VERSION = "porter-2"
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
DOTTED_RE = re.compile(r"\b(?:[A-Z]\.){2,}")
_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " ", "\u202f": " ", "\u2009": " "})


def normalise_text(text: str) -> str:
    """Same-length rewrite that folds typographic variants, so offsets stay valid.

    Curly quotes become straight ones and non-breaking/thin spaces become
    spaces; patterns then only need one spelling.
    """
    return text.translate(_FOLD)


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """The Porter stem of a lower-case word; numbers and words of up to three letters stay as they are.

    Stemming lets "participated" match "participants" and "invests" match "investment".
    """
    if not token.isalpha() or len(token) <= 3:
        return token
    return porter_stem(token)  # NLTK's PorterStemmer, without importing NLTK (see rag/text/porter.py)


def tokenize(text: str) -> list[str]:
    """BM25 terms: lower-case, stemmed ASCII word and number tokens without stopwords.

    Single letters stay: "Series F" and "Series G" are different rounds.
    """
    return [stem(token) for token in _TOKEN.findall(text.lower()) if token not in BM25_STOPWORDS]


def content_words(text: str) -> list[str]:
    """Lower-cased word tokens; dotted acronyms collapse ("U.S." -> "us") as they do in names."""
    folded = DOTTED_RE.sub(lambda m: m.group().replace(".", ""), normalise_text(text))
    return [w.lower() for w in WORD_RE.findall(folded)]


def stems(text: str) -> list[str]:
    """Stemmed content words (no stopwords, no bare numbers): the unit of lexical coverage."""
    return [stem(w) for w in content_words(text) if w not in COVERAGE_STOPWORDS and not w.isdigit()]
