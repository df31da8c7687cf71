"""The pipeline object: the one entry point for the CLI, the UI and the evaluator.

``Pipeline.answer`` runs retrieve -> generate -> verify and returns an
:class:`~rag.types.Answer` listing the sources its ``[n]`` markers cite.
Parts are passed in (``Pipeline.from_settings`` builds the default ones), so
tests and benchmarks can swap any stage.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.financing.lookup import FactIndex, FactsWithout
from rag.generation.base import NOT_IN_DOCUMENTS, Draft, Generator
from rag.generation.compose import Composer, Composition
from rag.generation.evidence import gather_evidence
from rag.generation.metric import answer_metric
from rag.generation.plan import QuestionPlan, Slot, bridge_noun, bridge_question, plan_question
from rag.generation.polarity import with_polarity
from rag.generation.registry import choose_generator
from rag.generation.wording import join
from rag.index.embed import Embedder
from rag.index.store import ChromaStore, FileRecord
from rag.ingest.ingestor import Ingestor, ProgressCallback
from rag.retrieval.followup import standalone_question
from rag.retrieval.hybrid import HybridRetriever
from rag.retrieval.pages import PageReader
from rag.text.lexicon import BM25_STOPWORDS, QUESTION_WORDS
from rag.text.markers import MARKER_RE, format_markers, parse_markers, strip_markers
from rag.text.sentences import sentence_spans
from rag.text.words import content_words
from rag.types import Answer, AskOptions, Citation, Claim, Hit, IngestReport
from rag.verification.coverage import describe_missing, measure_coverage, unanswered_focus

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from rag.retrieval.rerank import CrossEncoder
    from rag.verification.checker import Verification, Verifier

DEFAULTS = AskOptions()
# Longest question accepted: a real question fits in a few lines; a pasted document is not a question
# (and overflows the models' input limits with an opaque error).
MAX_QUESTION_CHARS = 1000


class Pipeline:
    """Retrieval, generation and verification over one store."""

    def __init__(
        self,
        settings: Settings,
        store: ChromaStore,
        embedder: Embedder,
        retriever: HybridRetriever,
        verifier: Verifier,
        cross_encoder: CrossEncoder,
        generator: Generator | None = None,
    ) -> None:
        store.check_embedding_model(embedder.identity)  # fail now, not with silently wrong answers later
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = retriever
        self.verifier = verifier
        self.cross_encoder = cross_encoder
        self._generator = generator
        self._generators: dict[str, Generator] = {}
        self._lock = threading.Lock()
        self.fact_index = FactIndex(store)
        self.composer = Composer(self.fact_index)
        self.pages = PageReader(store)

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        from rag.retrieval.rerank import CrossEncoder
        from rag.verification.checker import Verifier

        store = ChromaStore(settings.store)
        embedder = Embedder(settings.embedding)
        cross_encoder = CrossEncoder()
        retriever = HybridRetriever(
            store,
            embedder,
            settings.retrieval,
            bm25_cache=settings.store.data_dir / f"bm25-{settings.store.collection}.npz",
            reranker=cross_encoder,
        )
        verifier = Verifier(settings.verify, embed=embedder.embed, cross_encoder=cross_encoder)
        return cls(settings, store, embedder, retriever, verifier, cross_encoder)

    # -- documents -------------------------------------------------------------
    def ingest(
        self,
        paths: list[Path],
        prune: bool = False,
        progress: ProgressCallback | None = None,
        workers: int | None = None,
    ) -> IngestReport:
        report = Ingestor(self.settings, self.store, self.embedder).ingest(
            paths, prune=prune, progress=progress, workers=workers
        )
        self.retriever.invalidate()
        return report

    def documents(self) -> list[FileRecord]:
        return sorted(self.store.file_records().values(), key=lambda r: r.source.lower())

    def delete_document(self, path: str) -> int:
        removed = self.store.delete_document(path)
        self.retriever.invalidate()
        return removed

    # -- questions -------------------------------------------------------------
    def generator(self, name: str | None = None) -> Generator:
        """The configured generator (or ``name``), built once and reused."""
        key = (name or self.settings.generator.name).lower()
        with self._lock:
            if self._generator is not None and name is None:
                return self._generator
            if key not in self._generators:
                self._generators[key] = choose_generator(
                    replace(self.settings.generator, name=key), scorer=self.cross_encoder
                )
            return self._generators[key]

    def warm_up(self) -> None:
        """Load the models and the BM25 index now, so the first question is not the slow one."""
        self.retriever.retrieve("warm up", top_k=1)
        self.cross_encoder.score("warm up", ["warm up"])

    def answer(self, question: str, history: list[str] | None = None, options: AskOptions = DEFAULTS) -> Answer:
        """Answer ``question``; ``history`` holds earlier questions of the conversation.

        ``options`` override the settings for this call only, so one shared
        pipeline can serve users with different choices at once.
        """
        return self.trace(question, history, options).answer

    def trace(
        self, question: str, history: list[str] | None = None, options: AskOptions = DEFAULTS, retrieve_k: int = 0
    ) -> Trace:
        """:meth:`answer` plus what the evaluator scores: the ranked hits and the verification.

        ``retrieve_k`` retrieves deeper than ``top_k`` (for hit@10) while the
        generator still sees only the first ``top_k`` passages.
        """
        question = checked_question(question)
        k = options.top_k or self.settings.retrieval.top_k
        strict = self.settings.verify.strict if options.strict is None else options.strict
        started = time.perf_counter()
        standalone = standalone_question(question, history or [])
        ranked = self.retriever.retrieve(standalone, top_k=max(k, retrieve_k), mode=options.mode, rerank=options.rerank)
        passages = [hit.chunk.text for hit in ranked[:k]]  # how they write the question's opening word
        plan = plan_question(standalone, self.fact_index.entities(), self.fact_index.subjects(), passages)
        retrieved = time.perf_counter()
        chosen = self.generator(options.generator)
        checked = None
        budget = self.settings.generator.max_context_chars
        if chosen.name == "extractive":
            checked = self._multihop(plan, chosen, k, options, strict) if plan.bridge else self._composed(plan)
        checked = checked or self._metric(standalone, ranked, plan, strict)
        if checked is None:
            hits = ranked[:k]
            evidence = gather_evidence(plan, hits, self.fact_index, budget) if self._facts_table(chosen) else None
            hits = evidence.hits if evidence else hits
            draft = chosen.generate(standalone, hits, evidence) if hits else None
            if chosen.name == "extractive" and plan.kind == "yesno" and draft is not None and not draft.abstained:
                draft = replace(draft, text=with_polarity(standalone, draft.text))
            checked = self._check(draft, hits, plan, None, strict)
            if chosen.name == "extractive" and draft is not None and not draft.abstained:
                checked = self._filled(plan, checked, draft, strict)
        finished = time.perf_counter()
        timings = {
            "retrieve": _ms(started, retrieved),
            "generate": _ms(retrieved, finished) - checked.verify_ms,
            "verify": checked.verify_ms,
            "total": _ms(started, finished),
        }
        answer = Answer(
            question=question,
            answer=NOT_IN_DOCUMENTS,
            abstained=True,
            citations=[],
            claims=[],
            grounding=1.0,
            timings_ms=timings,
            generator=chosen.name,
            standalone_question=standalone,
            retrieved_ids=[h.chunk.id for h in checked.hits],
            plan=plan.to_dict(),
            coverage=checked.coverage,
            missing=[describe_missing(s) for s in checked.missing],
        )
        verification = checked.verification
        unanswered = unanswered_focus(plan, checked.missing) if verification is not None else []
        if unanswered:  # true quotes beside the point: say what the documents do not give instead
            missing = join([describe_missing(s) for s in unanswered])
            answer = replace(
                answer,
                notes=[f"Not answered: the passages found do not state {missing}."],
                coverage=0.0,  # the quotes that filled other parts are not shown
                missing=[describe_missing(s) for s in plan.slots],
            )
        if verification is None or unanswered:
            return Trace(answer, ranked, None)
        text, claims = verification.answer, verification.claims
        answer = replace(
            answer,
            answer=text if text.strip() else NOT_IN_DOCUMENTS,
            abstained=not claims or all(c.verdict == "not_factual" for c in claims),
            citations=cited_sources(text, claims, checked.hits),
            claims=claims,
            grounding=verification.grounding,
            notes=verification.notes,
        )
        return Trace(answer, ranked, verification)

    def _facts_table(self, chosen: Generator) -> bool:
        """Whether the generator's prompt gets the plan and the facts table (``generator.facts_table``)."""
        wanted = self.settings.generator.facts_table
        return chosen.name != "extractive" and (wanted == "on" or (wanted == "auto" and chosen.name == "openai"))

    def _composed(self, plan: QuestionPlan) -> _Checked | None:
        """The plan answered from financing facts, if every slot is filled and the checker passes every one.

        A composition that fails its own check (a fact bound to the wrong round,
        say) is composed once more without the facts the checker refused (the
        next-best figure, often another document's), and failing that dropped for
        the extractive answer rather than shown: the checker decides which answer
        the user sees, not only which badge it gets. A failed sentence that answers
        no part of the question (an "Earlier: ..." figure beside the latest, a
        ratio) is removed and reported instead, as is a failed item of a list of
        one fact per sentence ("Nvidia invested in X", "... in Y"); such a list is
        composed once more without its failed items, so that the same figure from
        another passage (a table row for a sentence) can take their place.
        """
        checked, refused, itemised = self._checked_composition(plan, self.composer)
        if refused and plan.kind != "latest":  # an older figure is no answer to "the latest"
            retried, still, _ = self._checked_composition(plan, Composer(FactsWithout(self.fact_index, refused)))
            if itemised:
                return retried or checked  # items failing again are dropped by the checker, not the whole list
            checked, refused = retried, still
        return None if refused or checked is None else checked

    def _checked_composition(
        self, plan: QuestionPlan, composer: Composer
    ) -> tuple[_Checked | None, frozenset[str], bool]:
        """The checked composition (None when it leaves a slot unfilled), the ids of the facts behind its
        sentences that answer a part of the question and failed the check (empty when none did), and whether it
        is a list of one fact per sentence (whose failed items are dropped, not the list)."""
        composition = composer.compose(plan)
        if composition is None or not composition.complete:
            return None, frozenset(), False
        itemised = plan.kind == "list" and all(len(s.facts) == 1 for _, s in composition.sentences)
        answering = {_plain(text): sentence for text, sentence in composition.sentences if sentence.slots}
        checked = self._check(Draft(composition.text, abstained=False), composition.hits, plan, composition, True)
        if checked.verification is None:
            return None, frozenset(), itemised
        failed = [answering.get(_plain(c.text)) for c in checked.verification.claims if c.verdict in FAILED]
        refused = frozenset(fact.id for sentence in failed if sentence for fact in sentence.facts)
        refused |= {NO_FACT} if any(failed) and not refused else frozenset()
        return (None if checked.missing else checked), refused, itemised

    def _metric(self, question: str, ranked: list[Hit], plan: QuestionPlan, strict: bool) -> _Checked | None:
        """A metric question on a filing answered from its statement rows (:mod:`rag.generation.metric`), kept when
        the checker passes it; one it recognises but cannot compute, or that fails the check, abstains."""
        metric = answer_metric(question, ranked, self.pages.pages_of)
        if metric is None:
            return None
        checked = self._check(Draft(metric.text, abstained=not metric.text), list(metric.hits), plan, None, strict)
        passed = checked.verification is not None and checked.verification.grounding >= 1.0
        # The metric is the question's focus: answered whole, whatever the financing plan's slots.
        return replace(checked, missing=[], coverage=1.0) if passed else self._check(None, [], plan, None, strict)

    def _multihop(
        self, plan: QuestionPlan, chosen: Generator, k: int, options: AskOptions, strict: bool
    ) -> _Checked | None:
        """Resolve the bridge first ("the firm that led X's Series J" -> Thrive Capital, cited), then answer the
        question about it: composed when facts answer it, else extractively, the two drafts numbered as one."""
        entities, subjects = self.fact_index.entities(), self.fact_index.subjects()
        asked = bridge_question(plan.bridge)
        resolved = self.composer.resolve_bridge(plan, plan_question(asked, entities, subjects))
        if resolved is not None:
            bridge_sentence, name = resolved
            first = self.composer.draft([bridge_sentence], [])
        else:  # no fact names it: the bridge asked alone, answered by quotes, names it
            quoted = self._bridge_by_quotes(plan.bridge, asked, chosen, k, options)
            if quoted is None:
                return None
            first, name = quoted
        rewritten = plan_question(rewritten_question(plan.question, plan.bridge, name), entities, subjects)
        composition = self.composer.compose(rewritten)
        if composition is not None and composition.complete:
            second = self.composer.draft([s for _, s in composition.sentences], [])
            text, hits = merge_drafts(first.text, first.hits, second.text, second.hits)
            return self._check(Draft(text, abstained=False), hits, plan, None, strict)
        ranked = self.retriever.retrieve(rewritten.question, top_k=k, mode=options.mode, rerank=options.rerank)
        draft = chosen.generate(rewritten.question, ranked[:k])
        if draft.abstained:
            return None
        if rewritten.kind == "yesno":  # "Did Google also invest in SSI?": the quote decides yes or no
            draft = replace(draft, text=with_polarity(rewritten.question, draft.text))
        text, hits = merge_drafts(first.text, first.hits, draft.text, ranked[:k])
        return self._check(Draft(text, abstained=False), hits, plan, None, strict)

    def _bridge_by_quotes(
        self, bridge: str, asked: str, chosen: Generator, k: int, options: AskOptions
    ) -> tuple[Composition, str] | None:
        """The bridge asked on its own and answered by quotes ("Which Anthropic shareholder is capped at 15%?" ->
        the sentence naming Google): its first quote, and the first company that quote names and the question
        does not; None when the answer abstains or names no new company."""
        ranked = self.retriever.retrieve(asked, top_k=k, mode=options.mode, rerank=options.rerank)[:k]
        draft = chosen.generate(asked, ranked)
        if draft.abstained:
            return None
        quotes = [draft.text[start:end] for start, end in sentence_spans(draft.text)]
        quote = next((q for q in quotes if parse_markers(q)), "")
        name = bridged_name(strip_markers(quote), asked, self.fact_index.entities(), bridge_noun(bridge))
        if not name:
            return None
        return Composition(text=quote, hits=ranked), name

    def _filled(self, plan: QuestionPlan, checked: _Checked, draft: Draft, strict: bool) -> _Checked:
        """The quoted answer plus composed sentences for the parts of the question it left out, kept only when the
        checker passes them and coverage rises (e.g. the lead investor the quotes did not name); for "who took
        part", also the participants the facts name and the quotes do not ("Nvidia and Cisco took part" of eight)."""
        participants = [s for s in plan.slots if s.attribute == "investors" and s not in checked.missing]
        # With the participants first; failing the check, the missing parts alone (a lead the quotes did not name
        # is worth adding even when the participants' sentence does not pass).
        attempts = [[*checked.missing, *participants], list(checked.missing)] if participants else [checked.missing]
        for slots in attempts:
            gaps = self.composer.fill(plan, slots)
            if gaps is None:
                continue
            named = [f.counterparty for _, s in gaps.sentences for f in s.facts if f.counterparty]
            new_names = len({n.lower() for n in named if n.lower() not in draft.text.lower()})
            if not checked.missing and new_names < 2:
                continue  # nothing left out that is worth a second check
            text, hits = merge_drafts(draft.text, checked.hits, gaps.text, gaps.hits)
            merged = self._check(Draft(text, abstained=False), hits, plan, None, strict)
            adds = bool(set(slots) & set(participants)) and new_names >= 2
            better = (merged.coverage or 0.0) > (checked.coverage or 0.0) or adds
            before = checked.verification.grounding if checked.verification else 1.0
            if better and merged.verification and merged.verification.grounding >= before:
                return merged
        return checked

    def _check(
        self, draft: Draft | None, hits: list[Hit], plan: QuestionPlan, composition: Composition | None, strict: bool
    ) -> _Checked:
        """Verify a draft over the passages it cites, then measure which slots of the plan it fills."""
        if draft is None or draft.abstained:
            return _Checked(hits, None, 0.0 if plan.slots else None, list(plan.slots), 0.0)
        started = time.perf_counter()
        passages = {n: hit.chunk.text for n, hit in enumerate(hits, start=1)}
        dates = {n: hit.chunk.extra.get("date", "") for n, hit in enumerate(hits, start=1)}
        titles = {n: hit.chunk.title for n, hit in enumerate(hits, start=1)}
        verification = self.verifier.check(draft.text, passages, strict=strict, dates=dates, titles=titles)
        coverage, missing = measure_coverage(plan, verification.claims, composition, titles)
        return _Checked(hits, verification, coverage, missing, _ms(started, time.perf_counter()))

    def stream(
        self, question: str, history: list[str] | None = None, options: AskOptions = DEFAULTS
    ) -> Iterator[str | Answer]:
        """:meth:`answer`, with an LLM's draft first, piece by piece as it is written; the last item is the Answer.

        The pieces are the unchecked draft: show them as such, then replace them
        with the Answer, whose claims carry the verdicts (strict mode may drop
        sentences the draft had). The extractive answerer writes no pieces: its
        Answer comes at once. Closing the iterator early stops the model at its
        next piece (:mod:`rag.generation.streaming`).
        """
        from rag.generation.streaming import stream_with_tokens

        return stream_with_tokens(lambda: self.answer(question, history, options))


FAILED = frozenset({"unsupported", "uncited"})  # verdicts that drop a composed answer for the quoted one
NO_FACT = ""  # stands for a failed sentence that names no fact: nothing to leave out on a second try


@dataclass(frozen=True)
class _Checked:
    """A verified draft over its passages with the plan's coverage, which :meth:`Pipeline.trace` makes an answer."""

    hits: list[Hit]
    verification: Verification | None
    coverage: float | None
    missing: list[Slot]
    verify_ms: float


@dataclass(frozen=True)
class Trace:
    """An answer with its ranked retrieval (possibly deeper than the cited top-k) and verification."""

    answer: Answer
    ranked: list[Hit]
    verification: Verification | None


def cited_sources(text: str, claims: list[Claim], hits: list[Hit]) -> list[Citation]:
    """Citations for the passages the answer cites, keeping retrieval numbering.

    Numbers are not compacted: the verifier's notes ("[2] corrected to [3]")
    and repaired claims refer to retrieval numbers, and must stay true.
    """
    cited = set(parse_markers(text))
    cited.update(n for claim in claims for n in claim.citations)
    citations = []
    for n in sorted(k for k in cited if 1 <= k <= len(hits)):
        chunk = hits[n - 1].chunk
        citations.append(
            Citation(
                n=n,
                doc_id=chunk.doc_id,
                chunk_id=chunk.id,
                source=chunk.source,
                title=chunk.title,
                page=chunk.page,
                start=chunk.start,
                end=chunk.end,
                text=chunk.text,
                sources=chunk.extra.get("sources", "").split(),
            )
        )
    return citations


def checked_question(question: str) -> str:
    """The question stripped, or a ValueError saying how to ask it: empty, longer than
    :data:`MAX_QUESTION_CHARS`, or naming nothing to search for ("x", "??"), which would
    only quote an arbitrary passage."""
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(
            f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
            "Ask the question itself, and upload long text as a document instead"
        )
    ignored = BM25_STOPWORDS | QUESTION_WORDS
    if not any(len(w) > 1 and w not in ignored for w in content_words(question)):
        raise ValueError(
            f"{question[:40]!r} is too short to search the documents for: please ask a complete question, "
            "naming the company, round or figure you mean"
        )
    return question


def bridged_name(quote: str, asked: str, known: Iterable[str], noun: str = "") -> str:
    """The known company a quote names that the question it answers does not (the bridge's answer): the one nearest
    before the bridge's noun when the quote uses it ("Safe Superintelligence (SSI), the start-up of ..."), else the
    first."""
    found = []
    for name in known:
        if len(name) < 2 or re.search(rf"(?<!\w){re.escape(name)}(?!\w)", asked, re.I):
            continue
        match = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", quote)
        if match:
            found.append((match.start(), -len(name), name))
    at = quote.lower().find(noun.lower()) if noun else -1
    before = [item for item in found if item[0] < at]
    if before:
        return max(before, key=lambda item: (item[0], item[1]))[2]
    return min(found)[2] if found else ""


def rewritten_question(question: str, bridge: str, name: str) -> str:
    """The question with its bridge resolved: "The company holding 27% of X - how much did it commit to Y?" ->
    "how much did Microsoft commit to Y?" (a description set before a dash is picked up by "it")."""
    rewritten = question.replace(bridge, name)
    head = re.match(rf"^\s*{re.escape(name)}\s+[-–—]\s+(?P<rest>.+)$", rewritten)
    if head is None:
        return rewritten
    rest = re.sub(r"\bits\b", f"{name}'s", head.group("rest"))
    return re.sub(r"\bit\b", name, rest)


def merge_drafts(first: str, first_hits: list[Hit], second: str, second_hits: list[Hit]) -> tuple[str, list[Hit]]:
    """Two drafts as one: the second's ``[n]`` renumbered after the first's passages (shared chunks keep one)."""
    hits = list(first_hits)
    numbers: dict[int, int] = {}
    for n, hit in enumerate(second_hits, start=1):
        known = next((i for i, h in enumerate(hits, start=1) if h.chunk.id == hit.chunk.id), None)
        if known is None:
            hits.append(hit)
            known = len(hits)
        numbers[n] = known
    renumbered = MARKER_RE.sub(lambda m: format_markers([numbers.get(n, n) for n in parse_markers(m.group(0))]), second)
    return f"{first}\n\n{renumbered}", hits


def _plain(sentence: str) -> str:
    """A sentence without its markers and with single spaces, to match a claim to the sentence it came from."""
    return " ".join(strip_markers(sentence).split())


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000.0, 2)
