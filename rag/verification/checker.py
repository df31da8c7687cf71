"""Claim-level citation checking: is each answer sentence stated by the passage it cites?

No entailment model installs here (see /work/shared/MODELS.md), so support is
decided in two layers:

1. Hard checks, which cannot be argued with: every money amount, number,
   percentage, date, round label and organisation/person name in the claim
   must appear in the cited text (after normalisation, :mod:`rag.verification.facts`); the
   claim must not negate what the source states (or the reverse), use the
   opposite word of an antonym pair ("majority"/"minority", "pre-money"/
   "post-money"), or pin a figure on a different company or reporting outlet
   than the source does.
2. A soft score for what survives, in two stages. Stage one combines lexical
   coverage of the claim's predicate words with the embedding similarity of the
   claim to the aligned source sentences; only when it is unsure does stage two
   add the cross-encoder's relevance logit. Both are logistic models whose
   weights, thresholds and the "unsure" band are fitted on the dev half of
   ``tests/data/claims.jsonl`` by :mod:`rag.verification.calibrate` (values in
   :class:`rag.config.VerifySettings`).

Answer-level policy (documented in eval/verify_report.md):
- a claim unsupported by its citations but supported by another retrieved
  passage is ``miscited``; its markers are rewritten and a note says so;
- ``grounding`` = (supported + miscited) / factual claims of the original
  answer; ``not_factual`` sentences (abstentions, headings, questions, the
  checker's own notes) are left out; an answer with no factual claim has
  grounding 1.0 because it asserts nothing unsupported;
- strict mode removes ``unsupported`` and ``uncited`` sentences and says how
  many and why; grounding is still computed on the original answer so that
  strict mode cannot hide a bad draft;
- when another retrieved passage gives a different figure for the same thing
  (same subject, a shared anchor, same measure), a "Sources disagree" note
  citing both is added to the notes (never to the answer text, which holds
  only the answer's own sentences);
- every claim left in the answer carries ``start``/``end``: where its sentence,
  ``[n]`` markers included, lies in the final answer text (-1 when strict mode
  removed it), so renderers need not split the answer again.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from rag.config import VerifySettings
from rag.retrieval.rerank import CrossEncoder
from rag.text.claims import MARKERS_RE, ClaimText, is_factual, sentence_spans, split_claims
from rag.types import Claim, Evidence
from rag.verification.facts import (
    Fact,
    TextIndex,
    antonym_conflict,
    binding_conflict,
    extract_facts,
    fact_in,
    figure_antonym_conflict,
    index_text,
    negation_conflict,
    normalise_text,
    stems,
)

Embed = Callable[[list[str]], np.ndarray]

ANSWER_WITHHELD = "No sentence of the answer is supported by the retrieved sources, so it was withheld."
MEASURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("valuation", ("valuation", "valued", "valuing", "value", "worth", "pre-money", "post-money", "price tag")),
    ("revenue", ("revenue", "sales", "run rate", "run-rate", "annualized", "annualised")),
    ("capex", ("capex", "capital expenditure", "spend", "spending")),
    ("stake", ("stake", "owns", "holds", "percent", "%")),
    ("tranche", ("tranche", "initial", "first instalment", "first payment")),
    ("round size", ("round", "raised", "raises")),
)
MEASURE_WORDS = 4


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


@dataclass(frozen=True)
class CitationAudit:
    """Per-claim citation facts behind the ALCE-style metrics (original, unrepaired citations)."""

    citations: list[int]
    joint_support: bool
    precise: list[bool]


@dataclass(frozen=True)
class Verification:
    """The checked answer: per-sentence verdicts, grounding, the repaired text and user notes."""

    claims: list[Claim]
    grounding: float
    answer: str
    notes: list[str]
    audits: list[CitationAudit] = field(default_factory=list)


@dataclass(frozen=True)
class _Passage:
    """A passage cut into sentence units, with per-unit fact indexes (cached by text)."""

    text: str
    units: tuple[tuple[int, int], ...]
    unit_texts: tuple[str, ...]
    unit_index: tuple[TextIndex, ...]
    unit_stems: tuple[frozenset[str], ...]
    index: TextIndex


@lru_cache(maxsize=1024)
def _passage(text: str) -> _Passage:
    units = tuple(sentence_spans(text)) or ((0, len(text)),)
    unit_texts = tuple(" ".join(text[s:e].split()) for s, e in units)
    return _Passage(
        text,
        units,
        unit_texts,
        tuple(index_text(t) for t in unit_texts),
        tuple(frozenset(stems(t)) for t in unit_texts),
        index_text(text),
    )


@dataclass
class _Pair:
    """Work state for scoring one (claim, passage) pair."""

    claim: str
    passage: _Passage
    facts: list[Fact]
    missing: list[Fact] = field(default_factory=list)
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


class Verifier:
    """Checks answers against their retrieved passages; thread-safe, models injected.

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
        _passage.cache_clear()
        index_text.cache_clear()

    # --- single pair ------------------------------------------------------

    def support(self, claim: str, passage: str) -> SupportResult:
        """Whether ``passage`` states ``claim`` (markers in the claim are ignored)."""
        return self.support_many([(claim, passage)])[0]

    def support_many(self, pairs: Sequence[tuple[str, str]], exhaustive: bool = False) -> list[SupportResult]:
        """Score many pairs with one embedding batch and one cross-encoder batch (the latency budget).

        ``exhaustive`` runs the cross-encoder on every pair that passed the hard
        checks, not only the uncertain ones; calibration needs all features.
        """
        work = [self._hard(" ".join(MARKERS_RE.sub("", c).split()), p) for c, p in pairs]
        soft = [w for w in work if not w.missing and not w.conflict]
        if soft and self.embed is not None:
            self._model_features(soft, self.embed, self.cross_encoder, exhaustive)
        return [self._result(w) for w in work]

    def _hard(self, claim: str, text: str) -> _Pair:
        passage = _passage(text)
        pair = _Pair(claim, passage, extract_facts(claim))
        units_for: list[list[int]] = []
        for fact in pair.facts:
            hits = [i for i, index in enumerate(passage.unit_index) if fact_in(fact, index)]
            if not hits and not fact_in(fact, passage.index):
                pair.missing.append(fact)
            units_for.append(hits)
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
            or ""
        )
        near: set[str] = set()
        for i in range(max(0, pair.window[0] - 1), min(len(passage.units), pair.window[1] + 2)):
            near.update(passage.unit_stems[i])
        # Coverage counts the words that say what happened, not the names and figures checked above.
        predicate = "".join(" " if any(f.start <= i < f.end for f in pair.facts) else ch for i, ch in enumerate(claim))
        words = set(stems(predicate))
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
        if supported:
            return SupportResult(score, True, span, f"stated in the source (score {score:.2f})", features)
        return SupportResult(score, False, span, f"the source does not say this (score {score:.2f})", features)

    # --- whole answers ----------------------------------------------------

    def check(self, answer: str, passages: dict[int, str], strict: bool | None = None) -> Verification:
        """Verdict per sentence, repaired citations, strict-mode removal and disagreement notes.

        ``passages`` maps every retrieved passage's citation number to its text,
        cited or not, so that a wrong citation can be repaired.
        """
        strict = self.settings.strict if strict is None else strict
        pieces = split_claims(answer)
        factual = [is_factual(c) for c in pieces]
        cited: list[tuple[int, int]] = [
            (k, n) for k, c in enumerate(pieces) if factual[k] for n in c.citations if n in passages
        ]
        results = dict(zip(cited, self.support_many([(pieces[k].text, passages[n]) for k, n in cited]), strict=True))
        joint: dict[int, SupportResult] = {}
        for k, c in enumerate(pieces):
            own = [n for n in c.citations if n in passages]
            if factual[k] and len(own) > 1 and not any(results[(k, n)].supported for n in own):
                joint[k] = self.support(c.text, "\n\n".join(passages[n] for n in own))
        # Second round, only for claims their citations do not support: search the other passages.
        retry = [
            (k, n)
            for k, c in enumerate(pieces)
            if factual[k] and not _supported(k, c, results, joint)
            for n in sorted(passages)
            if n not in c.citations
        ]
        results.update(zip(retry, self.support_many([(pieces[k].text, passages[n]) for k, n in retry]), strict=True))

        claims: list[Claim] = []
        audits: list[CitationAudit] = []
        for k, c in enumerate(pieces):
            if not factual[k]:
                claims.append(Claim(c.text, list(c.citations), "not_factual", 0.0, reason="not a factual claim"))
                continue
            claims.append(self._verdict(c, k, passages, results, joint))
            audits.append(self._audit(c, k, passages, results, joint))
        notes = _conflict_notes(pieces, claims, passages)
        text, spans, removal_notes = _rebuild(answer, pieces, claims, strict)
        claims = [
            c if span is None else replace(c, start=span[0], end=span[1]) for c, span in zip(claims, spans, strict=True)
        ]
        counted = [c for c in claims if c.verdict != "not_factual"]
        good = sum(c.verdict in ("supported", "miscited") for c in counted)
        grounding = good / len(counted) if counted else 1.0
        repair_notes = [_repair_note(c) for c in claims if c.verdict == "miscited"]
        unsupported_notes = [] if strict else _unsupported_notes(claims)
        return Verification(claims, grounding, text, repair_notes + removal_notes + unsupported_notes + notes, audits)

    def _verdict(
        self,
        c: ClaimText,
        k: int,
        passages: dict[int, str],
        results: dict[tuple[int, int], SupportResult],
        joint: dict[int, SupportResult],
    ) -> Claim:
        own = [n for n in c.citations if n in passages]
        backing = [n for n in own if results[(k, n)].supported]
        if backing:
            best = max(results[(k, n)].score for n in backing)
            evidence = [_evidence(n, passages[n], results[(k, n)].span) for n in backing]
            return Claim(c.text, list(c.citations), "supported", best, evidence, results[(k, backing[0])].reason)
        if k in joint and joint[k].supported:
            evidence = _split_evidence(own, passages, joint[k].span)
            return Claim(c.text, list(c.citations), "supported", joint[k].score, evidence, "stated across its sources")
        others = [n for n in sorted(passages) if n not in c.citations and results[(k, n)].supported]
        if others:
            best_n = max(others, key=lambda n: results[(k, n)].score)
            evidence = [_evidence(best_n, passages[best_n], results[(k, best_n)].span)]
            score = results[(k, best_n)].score
            if not c.citations:
                reason = f"no citation, although [{best_n}] states it"
                return Claim(c.text, [], "uncited", score, evidence, reason)
            reason = f"stated in [{best_n}], not in {_markers(c.citations)}"
            return Claim(c.text, [best_n], "miscited", score, evidence, reason, list(c.citations))
        if not c.citations:
            return Claim(c.text, [], "uncited", 0.0, [], "no citation and no retrieved source states it")
        if not own:
            return Claim(c.text, list(c.citations), "unsupported", 0.0, [], "cites a source that was not retrieved")
        first = results[(k, own[0])]
        return Claim(c.text, list(c.citations), "unsupported", first.score, [], f"{_markers(own[:1])}: {first.reason}")

    def _audit(
        self,
        c: ClaimText,
        k: int,
        passages: dict[int, str],
        results: dict[tuple[int, int], SupportResult],
        joint: dict[int, SupportResult],
    ) -> CitationAudit:
        """ALCE's definitions: recall needs the citations jointly to support the claim; a
        citation is precise if it supports the claim alone or the others fail without it."""
        own = [n for n in c.citations if n in passages]
        alone = {n: results[(k, n)].supported for n in own}
        together = any(alone.values()) or (k in joint and joint[k].supported)
        precise: list[bool] = []
        for n in c.citations:
            if n not in alone or not together:
                precise.append(False)
            elif alone[n]:
                precise.append(True)
            else:
                rest = [m for m in own if m != n]
                rest_ok = any(alone[m] for m in rest) or (
                    len(rest) > 1 and self.support(c.text, "\n\n".join(passages[m] for m in rest)).supported
                )
                precise.append(not rest_ok)
        return CitationAudit(list(c.citations), together, precise)


def _supported(
    k: int, c: ClaimText, results: dict[tuple[int, int], SupportResult], joint: dict[int, SupportResult]
) -> bool:
    if k in joint:
        return joint[k].supported
    return any(results[(k, n)].supported for n in c.citations if (k, n) in results)


def _evidence(n: int, passage: str, span: tuple[int, int] | None) -> Evidence:
    start, end = span or (0, 0)
    return Evidence(n, start, end, passage[start:end])


def _split_evidence(own: list[int], passages: dict[int, str], span: tuple[int, int] | None) -> list[Evidence]:
    """Map a span over the joined cited passages back onto each passage it touches."""
    if span is None:
        return []
    evidence: list[Evidence] = []
    offset = 0
    for n in own:
        text = passages[n]
        start, end = max(span[0], offset), min(span[1], offset + len(text))
        if start < end:
            evidence.append(Evidence(n, start - offset, end - offset, text[start - offset : end - offset]))
        offset += len(text) + 2
    return evidence


def _markers(numbers: Iterable[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _quote(text: str, limit: int = 90) -> str:
    return "“" + (text if len(text) <= limit else text[: limit - 1].rstrip() + "…") + "”"


def _repair_note(claim: Claim) -> str:
    return (
        f"Citation {_markers(claim.repaired_from)} corrected to {_markers(claim.citations)}: "
        f"{_quote(claim.text)} is stated in {_markers(claim.citations)}, not in {_markers(claim.repaired_from)}."
    )


def _unsupported_notes(claims: list[Claim]) -> list[str]:
    bad = [c for c in claims if c.verdict in ("unsupported", "uncited")]
    if not bad:
        return []
    listed = "; ".join(f"{_quote(c.text)} ({c.reason})" for c in bad)
    count = f"{len(bad)} sentence{'s' if len(bad) != 1 else ''}"
    return [f"{count} not supported by the cited sources: {listed}"]


Span = tuple[int, int]


def _rebuild(
    answer: str, pieces: list[ClaimText], claims: list[Claim], strict: bool
) -> tuple[str, list[Span | None], list[str]]:
    """The answer with repaired markers and, in strict mode, unsupported/uncited sentences cut out.

    Also returns where each claim's sentence (markers included) lies in that
    text, or None for a sentence that is not in it (removed, or withheld).
    """
    out: list[str] = []
    spans: list[Span | None] = []
    removed: list[Claim] = []
    cursor = length = 0
    for piece, claim in zip(pieces, claims, strict=True):
        gap = answer[cursor : piece.start]
        out.append(gap)
        length += len(gap)
        segment = answer[piece.start : piece.end]
        cursor = piece.end
        if strict and claim.verdict in ("unsupported", "uncited"):
            removed.append(claim)
            spans.append(None)
            while cursor < len(answer) and answer[cursor] in " \t":
                cursor += 1
            continue
        if claim.verdict == "miscited":
            segment = _rewrite_markers(segment, claim.citations)
        out.append(segment)
        spans.append((length, length + len(segment)))
        length += len(segment)
    out.append(answer[cursor:])
    text = "".join(out)
    if not removed:
        return text, spans, []
    text, spans = _delete(text, spans, r"(?m)^[ \t]*(?:[-*+•·▪●‣◦]|\d{1,2}[.)])[ \t]*$\n?", "")
    text, spans = _delete(text, spans, r"\n{3,}", "\n\n")
    text, spans = _strip(text, spans)
    if not any(c.verdict in ("supported", "miscited") for c in claims):
        text = ANSWER_WITHHELD
        spans = [None] * len(spans)
    unsupported = [c for c in removed if c.verdict == "unsupported"]
    uncited = [c for c in removed if c.verdict == "uncited"]
    notes = []
    if unsupported:
        plural = len(unsupported) != 1
        listed = "; ".join(f"{_quote(c.text)} ({c.reason})" for c in unsupported)
        notes.append(
            f"{len(unsupported)} sentence{'s' if plural else ''} removed because {'their' if plural else 'its'} "
            f"sources do not state {'them' if plural else 'it'}: {listed}"
        )
    if uncited:
        plural = len(uncited) != 1
        listed = "; ".join(_quote(c.text) for c in uncited)
        verb = "they cite" if plural else "it cites"
        notes.append(f"{len(uncited)} sentence{'s' if plural else ''} removed because {verb} no source: {listed}")
    return text, spans, notes


def _delete(text: str, spans: list[Span | None], pattern: str, keep: str) -> tuple[str, list[Span | None]]:
    """``re.sub(pattern, keep, text)`` with the spans moved along; a span the edit touches is dropped.

    ``keep`` replaces each match, so the edit removes ``len(match) - len(keep)`` characters.
    """
    matches = [(m.start(), m.end()) for m in re.finditer(pattern, text)]
    if not matches:
        return text, spans
    cut = len(keep)

    def moved(offset: int) -> int:
        return offset - sum(end - start - cut for start, end in matches if end <= offset)

    shifted: list[Span | None] = []
    for span in spans:
        if span is None or any(start < span[1] and span[0] < end for start, end in matches):
            shifted.append(None)
        else:
            shifted.append((moved(span[0]), moved(span[1])))
    return re.sub(pattern, keep, text), shifted


def _strip(text: str, spans: list[Span | None]) -> tuple[str, list[Span | None]]:
    """``text.strip()`` with the spans moved along (sentence spans never start or end in whitespace)."""
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    return stripped, [None if s is None else (s[0] - lead, s[1] - lead) for s in spans]


def _rewrite_markers(segment: str, citations: list[int]) -> str:
    bare = MARKERS_RE.sub("", segment).rstrip()
    m = re.search(r"[.!?…]+[\"')\]”’*_]*$", bare)
    cut = m.start() if m else len(bare)
    return f"{bare[:cut].rstrip()} {_markers(citations)}{bare[cut:]}"


# --- disagreement between sources ---------------------------------------------


def _measures(text: str, facts: Sequence[Fact]) -> dict[int, str]:
    """What each figure measures ("valuation", "revenue", ...), keyed by its start offset.

    Keywords and figures at most four words apart are paired closest first,
    each used once, so in "raised EUR 400 million in a round valuing it at EUR
    2 billion" the first figure is the round size and the second the
    valuation; at equal distance a figure after the keyword wins ("valued it
    at $730 billion"). Figures without a keyword are plain amounts.
    """
    figures = [f for f in facts if f.kind in ("money", "percent")]
    lowered = text.lower()
    candidates: list[tuple[tuple[int, int], int, int, str]] = []
    for name, keywords in MEASURES:
        for keyword in keywords:
            for m in re.finditer(rf"(?<![\w-]){re.escape(keyword)}", lowered):
                for f in figures:
                    if f.end <= m.start():
                        gap = (_words_between(lowered, f.end, m.start()), 1)
                    elif m.end() <= f.start:
                        gap = (_words_between(lowered, m.end(), f.start), 0)
                    else:
                        continue
                    if gap[0] <= MEASURE_WORDS:
                        candidates.append((gap, m.start(), f.start, name))
    measures: dict[int, str] = {}
    used: set[int] = set()
    for _, keyword_at, figure_at, name in sorted(candidates):
        if keyword_at not in used and figure_at not in measures:
            used.add(keyword_at)
            measures[figure_at] = name
    return {f.start: measures.get(f.start, "amount") for f in figures}


def _words_between(text: str, start: int, end: int) -> int:
    return len(re.findall(r"[^\W_]+", text[start:end]))


def _conflict_notes(pieces: list[ClaimText], claims: list[Claim], passages: dict[int, str]) -> list[str]:
    """Notes for figures a claim takes from one source that another retrieved source gives differently.

    Only figures with a named measure (valuation, revenue, round size ...) are
    compared. A passage disagrees when it talks about the same thing: it
    names the claim's subject; one of its sentences, or the one next to it,
    shares another figure or a full date with the claim, and the sentence
    shares a third of the claim's words; that sentence gives a figure of the
    same measure with a different value; and the passage never mentions the
    claim's value.
    """
    notes: list[str] = []
    seen: set[tuple[int, int, str]] = set()
    for piece, claim in zip(pieces, claims, strict=True):
        if claim.verdict not in ("supported", "miscited") or not claim.evidence:
            continue
        source = claim.evidence[0].n
        facts = extract_facts(piece.text)
        names = [f for f in facts if f.kind == "name"]
        words = set(stems(piece.text))
        measures = _measures(piece.text, facts)
        for fact in facts:
            measure = measures.get(fact.start, "amount")
            if measure == "amount" or not names:
                continue  # a bare amount next to other amounts is usually a different quantity, not a dispute
            # Bare years are too weak an anchor: two rounds in the same year are different events.
            anchors = [
                f
                for f in facts
                if f is not fact
                and (f.kind in ("money", "percent", "series", "period") or (f.kind == "date" and f.key[1] is not None))
            ]
            for n in sorted(passages):
                other = _passage(passages[n])
                if n == source or not anchors or fact_in(fact, other.index) or not fact_in(names[0], other.index):
                    continue
                for i, unit in enumerate(other.unit_index):
                    near = other.unit_index[max(0, i - 1) : i + 2]
                    if not any(fact_in(a, idx) for a in anchors for idx in near):
                        continue
                    if len(words & other.unit_stems[i]) < len(words) / 3:
                        continue
                    theirs = _measures(unit.text, unit.facts)
                    rivals = [
                        f
                        for f in unit.facts
                        if f.kind == fact.kind
                        and f.key != fact.key
                        and not any(f.key == a.key for a in anchors)
                        and theirs.get(f.start) == measure
                    ]
                    if rivals and (source, n, measure) not in seen:
                        seen.add((source, n, measure))
                        notes.append(
                            f"Sources disagree on the {measure}: [{source}] says {fact.text.strip()}, "
                            f"[{n}] says {rivals[0].text.strip()}."
                        )
                        break
    return notes


# --- payloads and metrics -------------------------------------------------------


def support(claim: str, passage: str, verifier: Verifier | None = None) -> SupportResult:
    """Standalone check of one claim against one passage (lexical fallback without a verifier)."""
    return (verifier or Verifier(VerifySettings())).support(claim, passage)


def check_payload(payload: dict[str, Any], verifier: Verifier) -> dict[str, Any]:
    """``rag check``: ``{"answer": str, "sources": [{"n": int, "text": str}], "strict"?: bool}`` -> result dict."""
    if not isinstance(payload, dict):
        raise ValueError("payload must be a JSON object with 'answer' and 'sources'")
    answer = payload.get("answer")
    if not isinstance(answer, str):
        raise ValueError("'answer' must be a string")
    sources = payload.get("sources")
    if not isinstance(sources, list):
        raise ValueError('\'sources\' must be a list of {"n": int, "text": str} objects')
    passages: dict[int, str] = {}
    for i, source in enumerate(sources):
        if not isinstance(source, dict):
            raise ValueError(f"sources[{i}] must be an object with 'n' and 'text'")
        n, text = source.get("n"), source.get("text")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"sources[{i}].n must be a positive integer (the [n] marker), got {n!r}")
        if not isinstance(text, str):
            raise ValueError(f"sources[{i}].text must be a string")
        if n in passages:
            raise ValueError(f"sources[{i}].n: citation number {n} appears twice")
        passages[n] = text
    strict = payload.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise ValueError("'strict' must be true or false when given")
    result = verifier.check(answer, passages, strict=strict)
    return {
        "claims": [asdict(c) for c in result.claims],
        "grounding": result.grounding,
        "answer": result.answer,
        "notes": list(result.notes),
    }


def citation_recall_precision(verifications: Iterable[Verification]) -> dict[str, float]:
    """ALCE-style citation recall and precision over many checked answers.

    Recall: share of factual claims whose own citations (jointly) support them;
    uncited claims count as failures. Precision: share of citations that
    support their claim alone or are needed for the joint support.
    """
    claims = citations = recalled = precise = 0
    for verification in verifications:
        for audit in verification.audits:
            claims += 1
            recalled += audit.joint_support
            citations += len(audit.citations)
            precise += sum(audit.precise)
    return {
        "claims": float(claims),
        "citations": float(citations),
        "citation_recall": recalled / claims if claims else 0.0,
        "citation_precision": precise / citations if citations else 0.0,
    }
