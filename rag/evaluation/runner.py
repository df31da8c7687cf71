"""The one evaluation runner, behind both ``rag eval`` and the UI's Evaluation tab.

:func:`run_evaluation` does a whole run: load the questions, record how the
run is made, warm the models up, answer and measure every question
(:func:`run_questions`), summarise and write the run directory. Only this
module touches the pipeline; everything it measures is stored per question
(:class:`~rag.evaluation.results.QuestionResult`), so the pure metrics in
:mod:`rag.evaluation.metrics` can be re-run without the models.

Per-request choices (strict, generator, top-k, retrieval mode, rerank) travel
as one :class:`~rag.types.AskOptions` to :meth:`Pipeline.trace`, so a run with
the UI page's settings shares the chat's pipeline without changing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.evaluation.gold import CorpusTexts, GoldSpan, locate_gold, relevant_counts
from rag.evaluation.metrics import METRICS_K, score_question, summarise
from rag.evaluation.questions import EvalQuestion, load_questions
from rag.evaluation.results import QuestionResult
from rag.evaluation.rundir import run_info, write_run
from rag.text.markers import strip_markers
from rag.types import AskOptions

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.pipeline import Pipeline

DEFAULTS = AskOptions()
WARM_UP_QUESTION = "Which companies invested in the largest funding round described in the documents?"

Progress = Callable[[int, int, QuestionResult | None], None]
"""``progress(done, total, result)``: ``(0, total, None)`` once the models are loaded, then once per question."""


def run_evaluation(
    pipeline: Pipeline,
    questions: Path | Sequence[EvalQuestion],
    options: AskOptions,
    out_dir: Path,
    limit: int | None = None,
    progress: Progress | None = None,
    argv: Sequence[str] | None = None,
    questions_path: Path | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Run a question set into ``out_dir``; returns the run directory and its metrics.

    ``questions`` is a question file (read here; :class:`QuestionSetError` if
    invalid) or questions already loaded, with ``questions_path`` naming their
    file for run.json. ``limit`` keeps the first N. The warm-up (model
    loading) comes first and is not timed; ``progress`` hears from the run after it.
    Raises :class:`~rag.evaluation.rundir.EvalError` when the directory
    cannot be written.
    """
    if isinstance(questions, Path):
        questions_path, loaded = questions, load_questions(questions)
    else:
        loaded = list(questions)
    if limit:
        loaded = loaded[:limit]
    corpus = pipeline.settings.ingest.corpus_dir
    effective = effective_options(pipeline, options)
    info = run_info(
        applied_settings(pipeline.settings, options).to_dict(),
        questions_path,
        loaded,
        corpus,
        limit,
        effective["generator"],
        argv,
        options={**effective, "requested": {k: v for k, v in asdict(options).items() if v is not None}},
    )
    total = len(loaded)
    warm_up(pipeline, options)
    if progress is not None:
        progress(0, total, None)
    done = 0

    def tick(result: QuestionResult) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, result)

    started = time.perf_counter()
    results = run_questions(pipeline, loaded, corpus, progress=tick, warm=False, options=options)
    wall = round(time.perf_counter() - started, 2)
    metrics = summarise(results, wall_s=wall)
    info["seconds"] = wall
    write_run(out_dir, results, metrics, info, pipeline)
    return out_dir, metrics


def effective_options(pipeline: Pipeline, options: AskOptions) -> dict[str, Any]:
    """What the run actually uses: each option, or the setting it leaves in force, and the generator's name."""
    settings = pipeline.settings
    return {
        "strict": settings.verify.strict if options.strict is None else options.strict,
        "generator": pipeline.generator(options.generator).name,
        "top_k": options.top_k or settings.retrieval.top_k,
        "mode": options.mode or ("hybrid" if settings.retrieval.hybrid else "dense"),
        "rerank": settings.retrieval.rerank if options.rerank is None else options.rerank,
    }


def applied_settings(settings: Settings, options: AskOptions) -> Settings:
    """``settings`` as the options change them for this run (recorded in run.json; the pipeline is untouched).

    The "bm25" mode has no setting of its own; it is recorded as ``hybrid =
    false`` here and exactly in run.json's ``options``.
    """
    retrieval = replace(
        settings.retrieval,
        top_k=options.top_k or settings.retrieval.top_k,
        hybrid=settings.retrieval.hybrid if options.mode is None else options.mode == "hybrid",
        rerank=settings.retrieval.rerank if options.rerank is None else options.rerank,
    )
    verify = replace(settings.verify, strict=settings.verify.strict if options.strict is None else options.strict)
    generator = replace(settings.generator, name=options.generator or settings.generator.name)
    return replace(settings, retrieval=retrieval, verify=verify, generator=generator)


def warm_up(pipeline: Pipeline, options: AskOptions = DEFAULTS) -> None:
    """Answer one throw-away question so model loading and index building are not timed as question one."""
    try:
        pipeline.answer(WARM_UP_QUESTION, options=options)
    except Exception:  # the real questions will report whatever is wrong
        return


def run_questions(
    pipeline: Pipeline,
    questions: Sequence[EvalQuestion],
    corpus_dir: Path,
    progress: Callable[[QuestionResult], None] | None = None,
    warm: bool = True,
    options: AskOptions = DEFAULTS,
) -> list[QuestionResult]:
    """Answer every question and measure it; a question that raises is recorded with its error, not fatal.

    ``warm=False`` skips :func:`warm_up` when the caller has already done it.
    """
    gold_by_question, warnings_by_question = locate_gold(questions, CorpusTexts(corpus_dir))
    n_relevant = relevant_counts(pipeline.store.iter_chunks(), gold_by_question)
    if warm:
        warm_up(pipeline, options)
    results: list[QuestionResult] = []
    for q in questions:
        result = _run_one(pipeline, q, gold_by_question[q.id], n_relevant[q.id], options)
        result.warnings = warnings_by_question.get(q.id, [])
        results.append(result)
        if progress:
            progress(result)
    _add_semantic_similarity(pipeline, results)
    return results


def _run_one(
    pipeline: Pipeline, q: EvalQuestion, gold: list[GoldSpan], n_relevant: int, options: AskOptions
) -> QuestionResult:
    """One question through :meth:`Pipeline.trace`: the answer, its k=10 ranking and its verification.

    ``trace`` retrieves once at depth 10 and gives the generator the first
    ``top_k`` of that ranking, so the ranking metrics describe exactly the
    retrieval the answer used, without retrieving twice or touching the shared
    pipeline's parts (the UI runs evaluations beside live chat).
    """
    result = QuestionResult(
        id=q.id,
        question=q.question,
        tags=list(q.tags),
        unanswerable=q.unanswerable,
        reference=q.answer,
        evidence=[asdict(e) for e in q.evidence],
        answer=None,
        retrieved=[],
        gold=[asdict(g) for g in gold],
        metrics={},
        correct=False,
    )
    started = time.perf_counter()
    try:
        trace = pipeline.trace(q.question, options=options, retrieve_k=METRICS_K)
    except Exception as exc:  # one bad question must not lose the whole run
        result.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        result.metrics["answer_wall_ms"] = (time.perf_counter() - started) * 1000.0
        return result
    result.metrics["answer_wall_ms"] = (time.perf_counter() - started) * 1000.0
    hits = trace.ranked[:METRICS_K]
    result.answer = trace.answer.to_dict()
    result.retrieved = [
        {"id": h.chunk.id, "source": h.chunk.source, "start": h.chunk.start, "end": h.chunk.end, "score": h.score}
        for h in hits
    ]
    audits = trace.verification.audits if trace.verification is not None else []
    scores, result.correct = score_question(q, result.answer, [h.chunk for h in hits], gold, n_relevant, audits)
    result.metrics.update(scores)
    return result


def _add_semantic_similarity(pipeline: Pipeline, results: list[QuestionResult]) -> None:
    """Cosine similarity of answer and reference embeddings, in one batch (an abstention scores 0)."""
    pairs = [
        (r, strip_markers(r.answer["answer"]), r.reference)
        for r in results
        if r.answer and r.reference and not r.unanswerable and not r.answer["abstained"]
    ]
    for r in results:
        if r.answer and r.reference and not r.unanswerable and r.answer["abstained"]:
            r.metrics["semantic_similarity"] = 0.0
    if not pairs:
        return
    vectors = pipeline.embedder.embed([text for _, a, ref in pairs for text in (a, ref or "")])
    for i, (r, _, _) in enumerate(pairs):
        r.metrics["semantic_similarity"] = round(float(vectors[2 * i] @ vectors[2 * i + 1]), 6)
