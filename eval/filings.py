"""Page-level retrieval on real filings: the project in each retrieval mode against plain llama-index, in one run.

``python eval/filings.py [--pdfs DIR] [--questions FILE] [--out DIR]`` ingests the PDFs
(default: the FinanceBench development set in ``../shared/financebench-dev`` beside the
repository, issue 15) into a fresh data directory with the project's pipeline, asks every
question in each retrieval mode, then builds the baseline a user would write with
llama-index on the same files (``SimpleDirectoryReader``: one document per PDF page;
``VectorStoreIndex`` with default settings, in memory; the same MiniLM weights through
``HuggingFaceEmbedding``) and asks it the same questions. Both are printed in one table
and written to ``<out>/filings.json`` and ``<out>/filings.md``. Between the two, every
question goes through the whole pipeline and the answers to questions whose gold answer is
a figure are scored: right number (1%) on the right page, abstained, or wrong
(:mod:`filings_answers`).

A hit is a retrieved chunk (or llama-index node) from the gold filing (document hit) on the
gold page (page hit); pages are physical and 1-based, as in the question file. Ingest wall
time runs from the first file read to a queryable index, the embedding model already
loaded for both systems; latency is per question, after one warm-up question.

FinanceBench (Islam et al., 2023, arXiv:2311.11944; CC BY-NC 4.0) is used for evaluation only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filings_answers import AnswerRow, gold_figure, outcome, stated_figure, summary
from filings_answers import markdown as answers_markdown

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SET = REPO.parent / "shared" / "financebench-dev"
DEFAULT_OUT = REPO / "eval" / "filings_results"
DEPTH = 10  # hits kept per question: the deepest k reported
MODES: dict[str, tuple[str, bool]] = {
    "hybrid": ("hybrid", False),
    "dense": ("dense", False),
    "bm25": ("bm25", False),
    "hybrid+rerank": ("hybrid", True),
}

# (source file stem, 1-based page) of each retrieved unit, best first
Ranked = list[tuple[str, int | None]]


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    doc: str
    pages: frozenset[tuple[str, int]]
    answer: str = ""


@dataclass
class SystemResult:
    """One row of the table: a system (or a mode of ours) scored over every question."""

    name: str
    chunks: int
    ingest_s: float
    metrics: dict[str, float] = field(default_factory=dict)
    p50_ms: float = 0.0
    first_gold_rank: dict[str, int | None] = field(default_factory=dict)


def load_questions(path: Path) -> list[Question]:
    """FinanceBench lines: ``doc_name`` plus ``evidence[{doc_name, page}]`` (1-based pages)."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        pages = frozenset((str(e["doc_name"]), int(e["page"])) for e in data["evidence"])
        questions.append(
            Question(str(data["id"]), str(data["question"]), str(data["doc_name"]), pages, str(data.get("answer", "")))
        )
    return questions


def score(name: str, chunks: int, ingest_s: float, questions: Sequence[Question], ranked: list[Ranked],
          latencies_ms: list[float]) -> SystemResult:  # fmt: skip
    """Page hit@1/5/10, document hit@5/10 and the rank of the first gold page per question."""
    result = SystemResult(name, chunks, round(ingest_s, 1), p50_ms=round(statistics.median(latencies_ms), 1))
    sums: dict[str, float] = {}
    for question, hits in zip(questions, ranked, strict=True):
        docs = {doc for doc, _ in question.pages} | {question.doc}
        page_flags = [(doc, page) in question.pages for doc, page in hits]
        doc_flags = [doc in docs for doc, _ in hits]
        for k in (1, 5, 10):
            sums[f"page_hit@{k}"] = sums.get(f"page_hit@{k}", 0.0) + float(any(page_flags[:k]))
        for k in (5, 10):
            sums[f"doc_hit@{k}"] = sums.get(f"doc_hit@{k}", 0.0) + float(any(doc_flags[:k]))
        result.first_gold_rank[question.id] = next((i for i, flag in enumerate(page_flags, 1) if flag), None)
    result.metrics = {key: round(value / len(questions), 3) for key, value in sums.items()}
    return result


def timed_queries(questions: Sequence[Question], ask: Callable[[str], Ranked]) -> tuple[list[Ranked], list[float]]:
    """Every question's ranking and its latency; one warm-up question first (lazy indexes, caches)."""
    ask(questions[0].text)
    ranked, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        ranked.append(ask(question.text))
        latencies.append((time.perf_counter() - started) * 1000)
    return ranked, latencies


# -- the project -----------------------------------------------------------------------------
def run_project(pdfs: Path, questions: Sequence[Question], data_dir: Path) -> list[SystemResult]:
    """Ingest with the project's pipeline (default settings, fresh data dir), then each retrieval mode."""
    from rag.config import Settings
    from rag.index.embed import Embedder
    from rag.index.store import ChromaStore
    from rag.ingest.ingestor import Ingestor
    from rag.retrieval.hybrid import HybridRetriever
    from rag.retrieval.rerank import CrossEncoder

    settings = Settings().with_overrides({"store.data_dir": str(data_dir)})
    store = ChromaStore(settings.store)
    embedder = Embedder(settings.embedding)
    embedder.embed(["warm up the model before the clock starts"])
    started = time.perf_counter()
    report = Ingestor(settings, store, embedder).ingest([pdfs])
    ingest_s = time.perf_counter() - started
    if report.failed:
        raise SystemExit(f"ingest failed for: {[(f.path, f.error) for f in report.failed]}")
    print(f"ours: {report.chunks} chunks from {report.files} files in {ingest_s:.1f} s", file=sys.stderr)
    retriever = HybridRetriever(
        store,
        embedder,
        settings.retrieval,
        bm25_cache=data_dir / f"bm25-{settings.store.collection}.npz",  # the pipeline's own cache: built once
        reranker=CrossEncoder(),
    )
    results = []
    for name, (mode, rerank) in MODES.items():

        def ask(text: str, mode: str = mode, rerank: bool = rerank) -> Ranked:
            hits = retriever.retrieve(text, top_k=DEPTH, mode=mode, rerank=rerank)
            return [(Path(hit.chunk.source).stem, hit.chunk.page) for hit in hits]

        ranked, latencies = timed_queries(questions, ask)
        results.append(score(f"ours: {name}", report.chunks, ingest_s, questions, ranked, latencies))
        print(f"{results[-1].name}: {results[-1].metrics}", file=sys.stderr)
    return results


def run_answers(questions: Sequence[Question], data_dir: Path) -> list[AnswerRow]:
    """Every question through the whole pipeline (default settings, the extractive answerer), scored by figure."""
    from rag.config import Settings
    from rag.pipeline import Pipeline

    pipeline = Pipeline.from_settings(Settings().with_overrides({"store.data_dir": str(data_dir)}))
    rows = []
    for question in questions:
        answer = pipeline.answer(question.text)
        cited = {(Path(c.source).stem, c.page) for c in answer.citations if c.page is not None}
        figure = None if answer.abstained else stated_figure(answer.answer)
        verdict = outcome(gold_figure(question.answer), figure, answer.abstained, cited, question.pages)
        rows.append(
            AnswerRow(question.id, question.answer, figure, sorted(p for _, p in cited), verdict, answer.answer)
        )
        print(f"{question.id}: {verdict or 'prose'} | {answer.answer[:160]!r}", file=sys.stderr)
    return rows


# -- plain llama-index -----------------------------------------------------------------------
def run_llama_index(pdfs: Path, questions: Sequence[Question]) -> SystemResult:
    """SimpleDirectoryReader (one Document per page) + VectorStoreIndex, default settings, in memory.

    The page of a node is its Document's position in the file (physical, 1-based), looked up
    here rather than stored in the metadata: llama-index embeds the metadata with the text, so
    adding a field would change the baseline.
    """
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from rag.config import EmbeddingSettings
    from rag.index.embed import resolve_model_path

    embed = HuggingFaceEmbedding(model_name=str(resolve_model_path(EmbeddingSettings().model)), device="cpu")
    embed.get_text_embedding("warm up the model before the clock starts")
    started = time.perf_counter()
    documents = SimpleDirectoryReader(input_dir=str(pdfs), required_exts=[".pdf"]).load_data()
    loaded = time.perf_counter()
    index = VectorStoreIndex.from_documents(documents, embed_model=embed)
    ingest_s = time.perf_counter() - started
    page_of: dict[str, tuple[str, int]] = {}
    counters: dict[str, int] = {}
    for document in documents:
        stem = Path(str(document.metadata["file_name"])).stem
        counters[stem] = counters.get(stem, 0) + 1
        page_of[document.doc_id] = (stem, counters[stem])
    chunks = len(index.docstore.docs)
    print(f"llama-index: {chunks} nodes; load {loaded - started:.1f} s + index {ingest_s - loaded + started:.1f} s",
          file=sys.stderr)  # fmt: skip
    retriever = index.as_retriever(similarity_top_k=DEPTH)

    def ask(text: str) -> Ranked:
        return [page_of[str(node.node.ref_doc_id)] for node in retriever.retrieve(text)]

    ranked, latencies = timed_queries(questions, ask)
    return score("llama-index (plain)", chunks, ingest_s, questions, ranked, latencies)


# -- report ----------------------------------------------------------------------------------
COLUMNS = ("page_hit@1", "page_hit@5", "page_hit@10", "doc_hit@5", "doc_hit@10")


def markdown(results: Sequence[SystemResult], command: str) -> str:
    """The table, one row per system, with the command that produced it."""
    lines = [
        "# Page retrieval on real filings (issue 15)",
        "",
        f"`{command}`",
        "",
        "| system | chunks | ingest s | " + " | ".join(COLUMNS) + " | retrieve p50 ms |",
        "|---|---:|---:|" + "---:|" * len(COLUMNS) + "---:|",
    ]
    for r in results:
        cells = " | ".join(f"{r.metrics[c]:.2f}" for c in COLUMNS)
        lines.append(f"| {r.name} | {r.chunks:,} | {r.ingest_s:.0f} | {cells} | {r.p50_ms:.0f} |")
    return "\n".join(lines) + "\n"


def write_results(out: Path, report: dict[str, Any], results: Sequence[SystemResult], answers: list[AnswerRow]) -> None:
    """``filings[-label].json`` (every number, first gold rank and answer per question) and ``.md`` (the tables)."""
    out.mkdir(parents=True, exist_ok=True)
    suffix = f"-{report['label']}" if report["label"] else ""
    totals = summary(answers)
    payload = {**report, "systems": [asdict(r) for r in results], "answers": [asdict(a) for a in answers],
               "answer_totals": totals}  # fmt: skip
    (out / f"filings{suffix}.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    text = markdown(results, report["command"]) + (f"\n{answers_markdown(answers, totals)}" if answers else "")
    (out / f"filings{suffix}.md").write_text(text, encoding="utf-8")


def resolve_inputs(pdfs: Path | None, questions: Path | None) -> tuple[Path, Path]:
    """``--pdfs`` may name the set's folder (holding ``pdfs/``) or the PDF folder itself."""
    root = (pdfs or DEFAULT_SET).expanduser().resolve()
    folder = root / "pdfs" if (root / "pdfs").is_dir() else root
    question_file = (questions or (root / "questions.jsonl")).expanduser().resolve()
    if not question_file.is_file() and folder != root:
        question_file = root / "questions.jsonl"
    if not question_file.is_file():
        question_file = folder.parent / "questions.jsonl"
    if not any(folder.glob("*.pdf")):
        raise SystemExit(f"no PDFs in {folder}: pass --pdfs DIR")
    if not question_file.is_file():
        raise SystemExit(f"no question file at {question_file}: pass --questions FILE")
    return folder, question_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdfs", type=Path, help=f"folder of PDFs, or of pdfs/ + questions.jsonl ({DEFAULT_SET})")
    parser.add_argument("--questions", type=Path, help="FinanceBench-shaped JSONL (default: beside the PDFs)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where filings.json and filings.md go")
    parser.add_argument("--no-baseline", action="store_true", help="skip llama-index (a quicker development run)")
    parser.add_argument(
        "--data-dir", type=Path, help="keep the project's index here and reuse it (then ingest time is only the check)"
    )
    parser.add_argument("--label", default="", help="a word for the run (e.g. before/after), kept in the results")
    parser.add_argument("--no-answers", action="store_true", help="skip answering (retrieval only)")
    args = parser.parse_args(argv)
    started = time.time()
    pdfs, question_file = resolve_inputs(args.pdfs, args.questions)
    questions = load_questions(question_file)
    command = "python eval/filings.py " + " ".join(sys.argv[1:] if argv is None else argv)
    report = {"command": command.strip(), "label": args.label, "pdfs": str(pdfs), "questions": str(question_file),
              "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(),
              "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="rag-filings-") as tmp:
        data_dir = args.data_dir.resolve() if args.data_dir else Path(tmp) / "data"
        results = run_project(pdfs, questions, data_dir)
        write_results(args.out, report, results, [])  # ours first, so a long baseline that fails loses nothing
        answers = [] if args.no_answers else run_answers(questions, data_dir)
    if not args.no_baseline:
        results.insert(0, run_llama_index(pdfs, questions))
    report["load_average_at_end"] = os.getloadavg()
    write_results(args.out, report, results, answers)
    print(markdown(results, report["command"]))
    if answers:
        print(answers_markdown(answers, summary(answers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
