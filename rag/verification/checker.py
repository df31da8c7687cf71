"""Claim-level citation checking of whole answers: is each sentence stated by the passage it cites?

Whether one passage states one claim is :mod:`rag.verification.support`; this
module applies it to every sentence of an answer and every retrieved passage.

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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from rag.text.claims import ClaimText, split_claims
from rag.text.markers import format_markers
from rag.types import Claim, Evidence
from rag.verification.audit import CitationAudit, audit_claim
from rag.verification.columns import table_confirms
from rag.verification.computed import check_computed, is_computed
from rag.verification.conflicts import conflict_notes
from rag.verification.factual import is_factual
from rag.verification.given import bindings_confirm
from rag.verification.rebuild import rebuild_answer, repair_note, unsupported_notes
from rag.verification.relations import CONFIRM_COVERAGE, Source, bind_relations, relations_confirm
from rag.verification.support import SupportResult, SupportScorer


@dataclass(frozen=True)
class Verification:
    """The checked answer: per-sentence verdicts, grounding, the repaired text and user notes.

    ``answer`` holds only the answer's own sentences; the notes (repairs,
    removals, "Sources disagree") are data beside it, and each claim's
    ``start``/``end`` locate its sentence in ``answer``.
    """

    claims: list[Claim]
    grounding: float
    answer: str
    notes: list[str]
    audits: list[CitationAudit] = field(default_factory=list)


class Verifier(SupportScorer):
    """Checks answers against their retrieved passages; thread-safe, models injected.

    Scoring a single (claim, passage) pair is inherited (:meth:`support`,
    :meth:`support_many`); :meth:`check` does whole answers.
    """

    def check(
        self,
        answer: str,
        passages: dict[int, str],
        strict: bool | None = None,
        dates: Mapping[int, str] | None = None,
        titles: Mapping[int, str] | None = None,
    ) -> Verification:
        """Verdict per sentence, repaired citations, strict-mode removal and disagreement notes.

        ``passages`` maps every retrieved passage's citation number to its text,
        cited or not, so that a wrong citation can be repaired. ``dates`` gives
        a passage's document date where known ("2026-02"), so that a figure
        worded as current can be found outdated by a later one
        (:mod:`rag.verification.relations`). ``titles`` gives a passage's
        document title, where a claim's company may be named when the passage
        (a filing's page) does not.
        """
        strict = self.settings.strict if strict is None else strict
        pieces = split_claims(answer)
        factual = [is_factual(c) for c in pieces]
        cited: list[tuple[int, int]] = [
            (k, n) for k, c in enumerate(pieces) if factual[k] for n in c.citations if n in passages
        ]
        title = dict(titles or {})

        def score(keys: list[tuple[int, int]]) -> list[SupportResult]:
            pairs = [(pieces[k].text, passages[n]) for k, n in keys]
            return self.support_many(pairs, titles=[title.get(n, "") for _, n in keys])

        results = dict(zip(cited, score(cited), strict=True))
        joint: dict[int, SupportResult] = {}
        for k, c in enumerate(pieces):
            own = [n for n in c.citations if n in passages]
            if factual[k] and len(own) > 1 and not any(results[(k, n)].supported for n in own):
                joined = ("\n\n".join(passages[n] for n in own), " ".join(title.get(n, "") for n in own))
                joint[k] = self.support_many([(c.text, joined[0])], titles=[joined[1]])[0]
        # Second round, only for claims their citations do not support: search the other passages.
        retry = [
            (k, n)
            for k, c in enumerate(pieces)
            if factual[k] and not _supported(k, c, results, joint)
            for n in sorted(passages)
            if n not in c.citations
        ]
        results.update(zip(retry, score(retry), strict=True))

        sources = {n: Source(n, text, (dates or {}).get(n, ""), title.get(n, "")) for n, text in passages.items()}
        claims: list[Claim] = []
        audits: list[CitationAudit] = []
        for k, c in enumerate(pieces):
            if not factual[k]:
                claims.append(Claim(c.text, list(c.citations), "not_factual", 0.0, reason="not a factual claim"))
                continue
            cited_sources = [sources[n] for n in c.citations if n in sources]
            found = _facts_found(k, c, results, joint, CONFIRM_COVERAGE)
            verdict = _rescued(self._verdict(c, k, passages, results, joint), found, cited_sources)
            if is_computed(c.text):  # a sum or ratio: checked by redoing the arithmetic on the cited figures
                verdict = check_computed(verdict, [passages[n] for n in c.citations if n in passages])
            claims.append(bind_relations(verdict, sources, recomputed=bool(found and found.derived)))
            audits.append(audit_claim(c, k, passages, results, joint, self.support))
        notes = conflict_notes(pieces, claims, passages)
        text, spans, removal_notes = rebuild_answer(answer, pieces, claims, strict)
        claims = [
            c if span is None else replace(c, start=span[0], end=span[1]) for c, span in zip(claims, spans, strict=True)
        ]
        counted = [c for c in claims if c.verdict != "not_factual"]
        good = sum(c.verdict in ("supported", "miscited", "computed") for c in counted)
        grounding = good / len(counted) if counted else 1.0
        repair_notes = [repair_note(c) for c in claims if c.verdict == "miscited"]
        lacking = [] if strict else unsupported_notes(claims)
        return Verification(claims, grounding, text, repair_notes + removal_notes + lacking + notes, audits)

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
            reason = f"stated in [{best_n}], not in {format_markers(c.citations)}"
            return Claim(c.text, [best_n], "miscited", score, evidence, reason, list(c.citations))
        if not c.citations:
            return Claim(c.text, [], "uncited", 0.0, [], "no citation and no retrieved source states it")
        if not own:
            return Claim(c.text, list(c.citations), "unsupported", 0.0, [], "cites a source that was not retrieved")
        first = results[(k, own[0])]
        reason = f"{format_markers(own[:1])}: {first.reason}"
        return Claim(c.text, list(c.citations), "unsupported", first.score, [], reason)


def _facts_found(
    k: int,
    c: ClaimText,
    results: dict[tuple[int, int], SupportResult],
    joint: dict[int, SupportResult],
    coverage: float,
) -> SupportResult | None:
    """The cited passage (or all of them together) that holds every name and figure of the claim, uncontradicted;
    preferably one with at least ``coverage`` of its other words nearby and figures recomputed."""
    checked = [results[(k, n)] for n in c.citations if (k, n) in results] + ([joint[k]] if k in joint else [])
    found = [r for r in checked if not (r.features["missing"] or r.features["conflict"])]
    return max(found, key=lambda r: (r.features["coverage"] >= coverage, len(r.derived)), default=None)


def _rescued(verdict: Claim, found: SupportResult | None, cited: list[Source]) -> Claim:
    """An unsupported verdict of the soft score although every name and figure is in the cited text.

    Table rows and terse lists ("- xAI: $80 billion") score low on embedding
    similarity; such a claim is ``computed`` when its figure was recomputed
    from the passage's (:mod:`rag.verification.derived`), and ``supported``
    when a cited table holds each figure in the row and year the claim names,
    or the passages bind each of its relations as it does. A recomputed
    claim's words are mostly how it computed ("add up to", "larger than the
    one it terminated"), which no source states, so its arithmetic decides.
    A claim whose every relation the passages bind as it does is supported
    whatever its other words: they say the relation in the claim's own way
    ("the newest round was led by" against a list's "Lead: ICONIQ Capital"),
    which is what the binding checked; requiring half of them near the facts
    refused such claims and, on the development sets, caught no wrong one.
    A claim whose figures are each the first one the passage gives the same
    party or row ("Virginia C. Drosos 59,657,810 ...") is supported when half
    its other words are near its facts: without that, "used its €105 million
    seed round to hire researchers" passed on the seed round's row.
    """
    if verdict.verdict != "unsupported" or found is None:
        return verdict
    if table_confirms(verdict.text, [s.text for s in cited]):
        return replace(verdict, verdict="supported", score=1.0, reason="stated in the cited table's row and year")
    if found.derived:
        reason = "recomputed from the cited figures: " + "; ".join(found.derived)
        return replace(verdict, verdict="computed", score=1.0, reason=reason)
    if relations_confirm(verdict.text, cited):
        return replace(verdict, verdict="supported", score=1.0, reason="the cited text states each of its relations")
    if found.features["coverage"] >= CONFIRM_COVERAGE and bindings_confirm(verdict.text, [s.text for s in cited]):
        return replace(verdict, verdict="supported", score=1.0, reason="the cited text gives each figure to its party")
    return verdict


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
