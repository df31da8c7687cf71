"""Performance and scale benchmark: ingest, retrieval, answers, PDF parsing, start-up and memory.

``python eval/bench.py`` (about 15 minutes on two cores) builds deterministic
synthetic corpora (financing-news articles from templates and a seeded RNG) of
about 1k, 10k and 100k chunks plus SEC-filing-like PDFs, in a cache directory
(``~/.cache/rag-bench``, reused by later runs), and measures side by side:

* ingest throughput of the project's :class:`~rag.ingest.ingestor.Ingestor` (files to a
  queryable Chroma) against the raw limit (``SentenceTransformer.encode`` alone
  on the same chunk texts, same model and batch size) and against the baseline
  a user would write (llama-index ``VectorStoreIndex.from_documents`` into
  ``ChromaVectorStore`` with ``HuggingFaceEmbedding`` of the same model);
* retrieval latency (dense, BM25, hybrid, hybrid + rerank) and whole extractive
  answers with verification, warm, at each size, next to llama-index's
  ``as_retriever(similarity_top_k=6)``;
* PDF pages per second (pypdfium2 loader vs llama-index's pypdf ``PDFReader``)
  with a text-quality check (each page's paragraphs on that page, in order);
* start-up (``rag --help``; a cold ``rag ask`` with its breakdown);
* peak RSS of the ingest and query processes at each size;
* embedded Chroma against a ``chroma run`` server started by the bench;
* pyinstrument profiles of ingest and of queries (top frames by own time).

The 100k index reuses the 10k corpus's real embeddings with small random
perturbations (the "vector bank"): it measures the store and the retriever,
not the model. Every measurement that needs its own memory figure runs in a
child process (``python eval/bench.py --worker NAME SPEC``), whose peak RSS is
read from ``getrusage``.

``--quick`` runs a small version (a few minutes); ``--json`` prints the results
as JSON. Results go to ``eval/bench_results/bench.json`` and ``bench.md``.

This file is the command line only; the benchmark itself is the ``eval/benchmark``
package (its ``__init__`` says which module does what).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from benchmark import REPO
from benchmark.child import Runner, run_worker
from benchmark.plan import ALL_SECTIONS, FULL, QUICK, TOY, Plan, customised
from benchmark.report import write_reports
from benchmark.sections import Bench, run_benchmark

PLAN_NUMBERS = ("throughput_chunks", "model_max", "queries", "pdf_pages", "pdf_docs", "server_size")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (a few minutes)")
    parser.add_argument("--toy", action="store_true", help="every code path on toy data (for the tests)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--out", type=Path, default=REPO / "eval" / "bench_results", help="results folder")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "rag-bench", help="corpora and PDFs")
    parser.add_argument("--work", type=Path, help="indexes (default: a temporary folder, removed afterwards)")
    parser.add_argument("--backend", default="", help="embedding backend (default: the project's default)")
    parser.add_argument("--sections", help=f"comma-separated subset of: {','.join(ALL_SECTIONS)}")
    parser.add_argument("--bf16", action="store_true", help="also time sentence-transformers under bf16 autocast")
    parser.add_argument("--sizes", help="comma-separated index sizes in chunks (overrides the plan)")
    parser.add_argument("--throughput-chunks", type=int)
    parser.add_argument("--model-max", type=int, help="largest size embedded by the model; larger use the bank")
    parser.add_argument("--queries", type=int)
    parser.add_argument("--pdf-pages", type=int)
    parser.add_argument("--pdf-docs", type=int)
    parser.add_argument("--server-size", type=int)
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "SPEC"), help=argparse.SUPPRESS)
    return parser


def chosen_plan(args: argparse.Namespace) -> Plan:
    """``--toy``, ``--quick`` or the full plan, with the command line's overrides (ValueError if one is wrong)."""
    plan = TOY if args.toy else QUICK if args.quick else FULL
    numbers = {name: getattr(args, name) for name in PLAN_NUMBERS}
    return customised(plan, args.sections, args.sizes, args.bf16, numbers)


@contextlib.contextmanager
def work_folder(chosen: Path | None) -> Iterator[Path]:
    """The folder for the run's indexes: ``--work`` (kept), or a temporary one removed afterwards."""
    if chosen:
        chosen.mkdir(parents=True, exist_ok=True)
        yield chosen
        return
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as temporary:
        yield Path(temporary)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(*args.worker)
    try:
        plan = chosen_plan(args)
    except ValueError as exc:
        parser.error(str(exc))
    from rag.config import EmbeddingSettings

    backend = args.backend or getattr(EmbeddingSettings(), "backend", "torch")
    args.out.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python eval/bench.py", *(argv if argv is not None else sys.argv[1:])])
    with work_folder(args.work) as work:
        bench = Bench(plan=plan, cache=args.cache, work=work, runner=Runner(args.out / "bench.log"), backend=backend)
        results = run_benchmark(bench, command, previous=args.out / "bench.json")
    markdown = write_reports(args.out, results)
    print(json.dumps(results, indent=2) if args.json else markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
