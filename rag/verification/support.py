"""Whether one passage states one claim: the hard checks, the features and the calibrated score.

No entailment model installs here, so support is decided in two layers:

1. Hard checks, which cannot be argued with: every money amount, number,
   percentage, date, round label and organisation/person name in the claim
   must appear in the cited text (after normalisation,
   :mod:`rag.verification.facts`); the claim must not negate what the source
   states (or the reverse), use the opposite word of an antonym pair
   ("majority"/"minority", "pre-money"/"post-money"), or pin a figure on a
   different company or reporting outlet than the source does
   (:mod:`rag.verification.contradictions`).
2. A soft score for what survives, in two stages. Stage one combines lexical
   coverage of the claim's predicate words with the embedding similarity of the
   claim to the aligned source sentences; only when it is unsure does stage two
   add the cross-encoder's relevance logit. Both are logistic models whose
   weights, thresholds and the "unsure" band are fitted on the dev half of
   ``tests/data/claims.jsonl`` by :mod:`rag.verification.calibrate` (values in
   :class:`rag.config.VerifySettings`).
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from rag.config import VerifySettings
from rag.text.markers import MARKERS_RE
from rag.text.words import normalise_text, stems
from rag.verification.clauses import clause_swap, clause_value_swap
from rag.verification.contradictions import (
    antonym_conflict,
    binding_conflict,
    figure_antonym_conflict,
    negation_conflict,
)
from rag.verification.dated import dated_conflict
from rag.verification.derived import APPROXIMATE_WORDS_RE, computation_words, derive
from rag.verification.facts import Fact, amount, extract_facts, fact_in, index_text
from rag.verification.passages import PassageIndex, clear_caches, passage_index
from rag.verification.possessives import possessive_conflict
from rag.verification.respectively import respectively_conflict
from rag.verification.reversals import reversal_conflict
from rag.verification.roles import role_conflict
from rag.verification.slots import slot_conflict
from rag.verification.wordfigures import word_multiples

if TYPE_CHECKING:
    from rag.retrieval.rerank import CrossEncoder

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class SupportResult:
    """Whether one passage states one claim.

    ``score`` is the calibrated probability-like soft score (0.0 when a hard
    check fails); ``span`` are character offsets of the supporting sentences in
    the passage; ``features`` are the raw signals, kept for calibration.
    """

    score: float
    supported: bool
    span: tuple[int, int] | None
    reason: str
    features: dict[str, float] = field(default_factory=dict)
    derived: tuple[str, ...] = ()  # claim figures recomputed from the passage's ("$423 million = 2,904 − 2,481")


@dataclass
class _Pair:
    """Work state for scoring one (claim, passage) pair."""

    claim: str
    passage: PassageIndex
    facts: list[Fact]
    missing: list[Fact] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)  # claim figures recomputed from the passage's, written out
    units: list[int] = field(default_factory=list)
    window: tuple[int, int] = (0, 0)
    conflict: str = ""
    coverage: float = 0.0
    similarity: float = float("nan")
    cross: float = float("nan")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def screen_score(settings: VerifySettings, coverage: float, similarity: float) -> float:
    """Stage one: lexical coverage and embedding similarity only (cheap)."""
    return _sigmoid(
        settings.screen_bias
        + settings.screen_weight_coverage * coverage
        + settings.screen_weight_similarity * similarity
    )


def full_score(settings: VerifySettings, coverage: float, similarity: float, cross: float) -> float:
    """Stage two: adds the cross-encoder logit."""
    return _sigmoid(
        settings.bias
        + settings.weight_coverage * coverage
        + settings.weight_similarity * similarity
        + settings.weight_cross * cross
    )


def needs_cross(settings: VerifySettings, coverage: float, similarity: float) -> bool:
    """Whether stage one is unsure enough to pay for a cross-encoder call (the latency budget)."""
    screen = screen_score(settings, coverage, similarity)
    return settings.screen_reject <= screen < settings.screen_accept


def judge(settings: VerifySettings, coverage: float, similarity: float, cross: float) -> tuple[float, bool]:
    """Soft score and decision for a pair that passed the hard checks.

    Without an embedding model only lexical coverage is available; with
    embeddings, stage one decides the clear cases and the cross-encoder is
    consulted only in between ``screen_reject`` and ``screen_accept``. All
    weights and cut-offs come from :mod:`rag.verification.calibrate`.
    """
    if math.isnan(similarity):
        return coverage, coverage >= settings.lexical_threshold
    screen = screen_score(settings, coverage, similarity)
    if math.isnan(cross):
        return screen, screen >= settings.screen_threshold
    if screen >= settings.screen_accept or screen < settings.screen_reject:
        return screen, screen >= settings.screen_accept
    score = full_score(settings, coverage, similarity, cross)
    return score, score >= settings.threshold


def decide(features: dict[str, float], settings: VerifySettings) -> bool:
    """Support decision from stored :attr:`SupportResult.features`; calibration re-decides with it."""
    if features["missing"] or features["conflict"]:
        return False
    return judge(settings, features["coverage"], features["similarity"], features["cross"])[1]


# Capitalised only because they open the sentence: "Besides money, ...", "Together Nvidia and Microsoft ...".
OPENING_WORDS = frozenset(
    {
        "besides",
        "together",
        "adding",
        "after",
        "before",
        "although",
        "while",
        "since",
        "unlike",
        "including",
        "despite",
        "following",
        "combined",
        "overall",
        "meanwhile",
        "also",
        "both",
        "between",
        "beyond",
        "like",
        # Degree, source and comparison words that open wire copy ("Roughly $3.7 billion ...", "Per PitchBook, ...",
        # "Thanks to ...", "More than half ...").
        "per",
        "roughly",
        "approximately",
        "nearly",
        "almost",
        "around",
        "about",
        "thanks",
        "less",
        "more",
        "only",
        "just",
    }
)


def _without_opening_word(fact: Fact) -> Fact | None:
    """A name fact without an ordinary word that opens the sentence (None when that word was all of it)."""
    if fact.kind != "name" or fact.start != 0 or not fact.key or fact.key[0] not in OPENING_WORDS:
        return fact
    return replace(fact, key=fact.key[1:]) if len(fact.key) > 1 else None


COUNT_RE = re.compile(r"(?i)two|three|four|five|six|seven|eight|nine|ten")
ACRONYM_RE = re.compile(r"\b[A-Z]{3,6}\b")


def abbreviated(fact: Fact, text: str) -> bool:
    """Whether a name of two or more words appears in ``text`` only as its initials, within an acronym.

    Filings name a unit once and abbreviate it after ("PepsiCo Beverages North
    America (PBNA)"); a page cut from the middle holds only the acronym.
    """
    initials = "".join(word[0] for word in fact.key if isinstance(word, str) and word).upper()
    return len(initials) >= 2 and any(initials in m.group() for m in ACRONYM_RE.finditer(text))


def _claim_facts(claim: str) -> list[Fact]:
    """The claim's facts, its ratios in words ("doubled", "four to one") among them in place of their words."""
    worded = word_multiples(normalise_text(claim))
    kept = [f for f in extract_facts(claim) if not any(w.start < f.end and f.start < w.end for w in worded)]
    return sorted(kept + worded, key=lambda f: f.start)


PRONOUN_OPENING_RE = re.compile(r"^\W*(?:She|He)\s+[a-z]")
OBJECT_BEFORE_RE = re.compile(r"\b(?:of|at|for|from|with|by|in|to|into|on|than|and|or)\s+(?:the\s+)?$", re.I)


def pronoun_subject(fact: Fact, claim: str, passage: str) -> bool:
    """Whether a name the passage lacks is the person its opening "She"/"He" stands for.

    A filing's biography is cut into passages after the sentence that names the
    person ("She previously served as Chief Executive Officer of Ulta ..."); a
    claim about that person names them. Only a name the claim makes its subject
    counts (not one after "of", "at", "than" ...), and only one: a company the
    passage lacks is still missing.
    """
    return bool(PRONOUN_OPENING_RE.match(passage)) and not OBJECT_BEFORE_RE.search(claim[: fact.start])


def judged_elsewhere(claim: str) -> str:
    """The claim's hedges on its figures ("about", "roughly", "nearly"), which the passage need not repeat.

    How close a figure is to the passage's is decided by the figure checks with their rounding tolerance
    (:mod:`rag.verification.derived`); a source states "$183 billion", not that it is "about" that, so
    counting the hedge against coverage rejected correct paraphrases. Words that present a figure as current
    ("latest", "most recent", "now") are judged by the outdated checks, which compare the sources' dates
    (:mod:`rag.verification.relations`, :mod:`rag.verification.recency`); no passage says its own figure is
    the latest.
    """
    return " ".join(m.group() for regex in (APPROXIMATE_WORDS_RE, CURRENT_WORDS_RE) for m in regex.finditer(claim))


CURRENT_WORDS_RE = re.compile(r"\b(?:latest|newest|most\s+recent|current(?:ly)?|now|today)\b", re.I)


class SupportScorer:
    """Scores (claim, passage) pairs; thread-safe, models injected.

    ``embed`` (e.g. ``Embedder.embed``) and ``cross_encoder`` are optional:
    without ``embed`` the soft score is lexical coverage alone
    (``settings.lexical_threshold``); without ``cross_encoder`` stage one
    decides everything (``settings.screen_threshold``). Both fallbacks have
    their own calibrated thresholds.
    """

    def __init__(
        self,
        settings: VerifySettings,
        embed: Embed | None = None,
        cross_encoder: CrossEncoder | None = None,
    ) -> None:
        self.settings = settings
        self.embed = embed
        self.cross_encoder = cross_encoder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def clear_cache(self) -> None:
        """Forget cached embeddings and parsed passages (benchmarks measure a cold start with it)."""
        with self._lock:
            self._vectors.clear()
        clear_caches()

    def support(self, claim: str, passage: str) -> SupportResult:
        """Whether ``passage`` states ``claim`` (markers in the claim are ignored)."""
        return self.support_many([(claim, passage)])[0]

    def support_many(
        self, pairs: Sequence[tuple[str, str]], exhaustive: bool = False, titles: Sequence[str] = ()
    ) -> list[SupportResult]:
        """Score many pairs with one embedding batch and one cross-encoder batch (the latency budget).

        ``exhaustive`` runs the cross-encoder on every pair that passed the hard
        checks, not only the uncertain ones; calibration needs all features.
        ``titles`` (one per pair, optional) are the passages' document titles: a
        filing's page rarely names its company, its title does, so a name the
        claim gives is found there too.
        """
        named = list(titles) or [""] * len(pairs)
        work = [
            self._hard(" ".join(MARKERS_RE.sub("", c).split()), p, t) for (c, p), t in zip(pairs, named, strict=True)
        ]
        soft = [w for w in work if not w.missing and not w.conflict]
        if soft and self.embed is not None:
            self._model_features(soft, self.embed, self.cross_encoder, exhaustive)
        return [self._result(w) for w in work]

    def _hard(self, claim: str, text: str, title: str = "") -> _Pair:
        passage = passage_index(text)
        opened = (_without_opening_word(f) for f in _claim_facts(claim))
        pair = _Pair(claim, passage, [f for f in opened if f is not None])
        units_for: list[list[int]] = []
        summed: set[float] = set()
        for fact in pair.facts:
            hits = [i for i, index in enumerate(passage.unit_index) if fact_in(fact, index)]
            if not hits and not fact_in(fact, passage.index):
                if fact.kind in ("name", "series", "period") and title and fact_in(fact, index_text(title)):
                    pass  # "Activision Blizzard's net revenues" against a page of its 10-K, "Series E" of its brief
                elif fact.kind == "name" and abbreviated(fact, text):
                    pass  # "Frito-Lay North America" is "FLNA" in a filing, "North American beverages" "PBNA"
                elif (derivation := derive(fact, normalise_text(claim), pair.facts, passage.index)) is not None:
                    if derivation.arithmetic:
                        pair.derived.append(f"{fact.text.strip()} = {derivation.text}")
                        summed.add(derivation.parts)
                else:
                    pair.missing.append(fact)
            units_for.append(hits)
        # "the two deals came to $26.9 billion": a count in words is the number of parts the claim's sum added.
        pair.missing = [f for f in pair.missing if not (COUNT_RE.fullmatch(f.text.strip()) and amount(f) in summed)]
        names = [f for f in pair.missing if f.kind == "name"]
        if len(names) == 1 and pronoun_subject(names[0], claim, text):
            pair.missing.remove(names[0])
        if pair.missing:
            return pair
        claim_stems = set(stems(claim))
        overlap = [len(claim_stems & unit) for unit in passage.unit_stems]
        anchor = max(range(len(overlap)), key=lambda i: (overlap[i] + sum(i in h for h in units_for), -i))
        chosen = {anchor}
        for hits in units_for:
            if hits and anchor not in hits:
                chosen.add(min(hits, key=lambda i: abs(i - anchor)))
        pair.units = sorted(chosen)
        pair.window = (pair.units[0], pair.units[-1])
        core = " ".join(passage.unit_texts[i] for i in pair.units)
        flipped = antonym_conflict(claim, core)
        for fact, hits in zip(pair.facts, units_for, strict=True):
            if fact.kind != "name" and hits and not flipped:
                flipped = figure_antonym_conflict(claim, fact, [passage.unit_index[i] for i in hits])
        pair.conflict = (
            negation_conflict(claim, core)
            or (f"the source says {flipped[1]!r}, not {flipped[0]!r}" if flipped else None)
            or binding_conflict(normalise_text(claim), pair.facts, passage.unit_index)
            or role_conflict(claim, text)
            or respectively_conflict(claim, text)
            or possessive_conflict(claim, text)
            or clause_swap(claim, text)
            or clause_value_swap(claim, text)
            or reversal_conflict(claim, text)
            or dated_conflict(claim, text)
            or slot_conflict(claim, text)
            or ""
        )
        near: set[str] = set()
        for i in range(max(0, pair.window[0] - 1), min(len(passage.units), pair.window[1] + 2)):
            near.update(passage.unit_stems[i])
        # Coverage counts the words that say what happened, not the names and figures checked above.
        predicate = "".join(" " if any(f.start <= i < f.end for f in pair.facts) else ch for i, ch in enumerate(claim))
        words = set(stems(predicate)) - set(stems(judged_elsewhere(claim)))
        if pair.derived:  # "grew by about": how a recomputed figure was computed is not the passage's to state
            words -= set(stems(computation_words(claim)))
        pair.coverage = len(words & near) / len(words) if words else 1.0
        return pair

    def _model_features(
        self, pairs: list[_Pair], embed: Embed, cross_encoder: CrossEncoder | None, exhaustive: bool
    ) -> None:
        """Embedding similarity and, where stage one is unsure, the cross-encoder logit.

        Only the claim, the aligned window and its sentences are embedded (a
        few texts per pair rather than every sentence of every passage), which
        keeps a 5-claim check inside the latency budget.
        """
        windows = [" ".join(p.passage.unit_texts[i] for i in p.units) for p in pairs]
        texts = {p.claim for p in pairs} | set(windows)
        for p in pairs:
            texts.update(p.passage.unit_texts[i] for i in p.units)
        vectors = self._vectors_for(sorted(texts), embed)
        for p, window in zip(pairs, windows, strict=True):
            candidates = [window, *(p.passage.unit_texts[i] for i in p.units)]
            p.similarity = max(float(vectors[t] @ vectors[p.claim]) for t in candidates)
        if cross_encoder is None:
            return
        unsure = [
            (p, w)
            for p, w in zip(pairs, windows, strict=True)
            if exhaustive or needs_cross(self.settings, p.coverage, p.similarity)
        ]
        logits = cross_encoder.score_pairs([(p.claim, w) for p, w in unsure])
        for (p, _), logit in zip(unsure, logits, strict=True):
            p.cross = float(logit)

    def _vectors_for(self, texts: list[str], embed: Embed) -> dict[str, np.ndarray]:
        """Embeddings with an LRU cache: the same passages come back for every claim and question."""
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in found:
                self._vectors.move_to_end(text)
        missing = [t for t in texts if t not in found]
        if missing:
            fresh = {t: np.asarray(v, dtype=np.float32) for t, v in zip(missing, embed(missing), strict=True)}
            found.update(fresh)
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > self.settings.cache_size:
                    self._vectors.popitem(last=False)
        return found

    def _result(self, pair: _Pair) -> SupportResult:
        features = {
            "missing": float(len(pair.missing)),
            "conflict": float(bool(pair.conflict)),
            "coverage": pair.coverage,
            "similarity": pair.similarity,
            "cross": pair.cross,
        }
        if pair.missing:
            listed = ", ".join(dict.fromkeys(f.text.strip() for f in pair.missing))
            return SupportResult(0.0, False, None, f"the source does not mention {listed}", features)
        passage = pair.passage
        span = (passage.units[pair.window[0]][0], passage.units[pair.window[1]][1])
        if pair.conflict:
            return SupportResult(0.0, False, span, pair.conflict, features)
        score, supported = judge(self.settings, pair.coverage, pair.similarity, pair.cross)
        derived = tuple(pair.derived)
        if supported and derived:
            return SupportResult(
                score, True, span, f"recomputed from the source: {'; '.join(derived)}", features, derived
            )
        if supported:
            return SupportResult(score, True, span, f"stated in the source (score {score:.2f})", features)
        return SupportResult(score, False, span, f"the source does not say this (score {score:.2f})", features, derived)
