"""The ``rag`` command line. Heavy libraries are imported inside commands, so ``rag --help`` is instant.

Library errors become one-line messages here, at the edge; ``--json`` gives
machine-readable output for scripts on every command that produces data.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.generation.registry import GENERATOR_NAMES
from rag.types import AskOptions

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.pipeline import Pipeline
    from rag.types import Answer, IngestReport


class UserError(Exception):
    """A problem the user can fix; printed without a traceback."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except UserError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # anything else still gets a readable line; RAG_DEBUG=1 shows the traceback
        import os

        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"rag: error: {_describe(exc)}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Citation-checked question answering over your documents.",
        epilog="Settings come from rag.toml and RAG_* variables; see 'rag config'.",
    )
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override a setting")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    ingest = sub.add_parser("ingest", help="add documents (default: the bundled corpus/) to the index")
    ingest.add_argument("paths", nargs="*", type=Path, help="files or folders (default: corpus/)")
    ingest.add_argument("--prune", action="store_true", help="remove chunks of files that no longer exist")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="embed (and, with RAG_CHROMA_URL, write) in N processes (default: ingest.workers, 1)",
    )
    ingest.set_defaults(handler=cmd_ingest)

    ask = sub.add_parser("ask", help="answer one question with verified citations")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the full answer object as JSON")
    ask.add_argument("--strict", action="store_true", help="drop sentences the sources do not support")
    ask.add_argument("--generator", choices=GENERATOR_NAMES, help="override the generator")
    ask.set_defaults(handler=cmd_ask)

    chat = sub.add_parser("chat", help="interactive questions with follow-ups, in the terminal")
    chat.add_argument("--strict", action="store_true")
    chat.add_argument("--generator", choices=GENERATOR_NAMES)
    chat.set_defaults(handler=cmd_chat)

    check = sub.add_parser("check", help="verify the citations of any answer: JSON {answer, sources} from FILE or -")
    check.add_argument("file", help="JSON file, or - for standard input")
    check.add_argument("--strict", action="store_true")
    check.set_defaults(handler=cmd_check)

    config = sub.add_parser("config", help="print the effective settings")
    config.add_argument("--json", action="store_true")
    config.set_defaults(handler=cmd_config)

    docs = sub.add_parser("docs", help="list ingested documents")
    docs.add_argument("--json", action="store_true")
    docs.set_defaults(handler=cmd_docs)

    ui = sub.add_parser("ui", help="open the web interface (chat, documents, evaluation) on a local port")
    ui.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, this machine only)")
    ui.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    ui.set_defaults(handler=cmd_ui)

    evaluate = sub.add_parser("eval", help="score the pipeline on a question set, or compare two runs")
    evaluate.add_argument("questions", nargs="?", type=Path, help="question set (JSONL), e.g. eval/questions.jsonl")
    evaluate.add_argument(
        "--out", type=Path, help="run directory (default: eval/runs/<time>); with --compare: where compare.md goes"
    )
    evaluate.add_argument("--compare", nargs=2, type=Path, metavar=("RUN_A", "RUN_B"), help="compare two run dirs")
    evaluate.add_argument("--limit", type=int, help="only the first N questions")
    evaluate.add_argument(
        "--split", help='only questions of this split (e.g. "dev"; hold "heldout" back until the end)'
    )
    evaluate.add_argument("--generator", choices=GENERATOR_NAMES)
    evaluate.add_argument("--json", action="store_true", help="print the metrics (or the comparison) as JSON")
    evaluate.add_argument(
        "--set", dest="eval_set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override a setting"
    )
    evaluate.set_defaults(handler=cmd_eval)
    return parser


# -- helpers -------------------------------------------------------------------
def load(args: argparse.Namespace) -> Settings:
    from rag.config import SettingsError, load_settings, parse_assignments

    try:
        return load_settings(parse_assignments(args.set))
    except SettingsError as exc:
        raise UserError(str(exc)) from exc


def open_pipeline(settings: Settings) -> Pipeline:
    from rag.index.chroma_client import StoreError
    from rag.pipeline import Pipeline

    try:
        return Pipeline.from_settings(settings)
    except StoreError as exc:
        raise UserError(str(exc)) from exc


def _describe(exc: BaseException) -> str:
    return f"{exc}" if str(exc) else exc.__class__.__name__


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _options(args: argparse.Namespace) -> AskOptions:
    """The per-request choices given as flags; unset flags keep the settings."""
    return AskOptions(strict=args.strict or None, generator=args.generator)


def _positive_int(text: str) -> int:
    """argparse type for counts: a readable error instead of a traceback for 0 or -1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


# -- commands ------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.ingest.ingestor import IngestLocked

    settings = load(args)
    paths = args.paths or [settings.ingest.corpus_dir]
    pipeline = open_pipeline(settings)
    try:
        report = pipeline.ingest(paths, prune=args.prune, progress=_progress_bar(not args.json), workers=args.workers)
    except IngestLocked as exc:
        raise UserError(str(exc)) from exc
    if args.json:
        _print_json(report.to_dict())
    else:
        print(format_ingest_report(report))
    return 0


def _progress_bar(enabled: bool) -> Callable[[int, int, str], None] | None:
    """A tqdm bar on stderr that advances as chunks are embedded."""
    if not enabled:
        return None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int, source: str) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr, leave=False)
        bar["bar"].n = done
        bar["bar"].set_postfix_str(source[:40], refresh=True)
        if done >= total:
            bar["bar"].close()

    return update


def format_ingest_report(report: IngestReport) -> str:
    lines = [
        f"{report.files} files: {report.added} chunks added, {report.skipped} files unchanged, "
        f"{report.removed} chunks removed, {report.chunks} chunks in these files ({report.seconds:.1f} s)"
    ]
    lines += [f"warning: {warning}" for warning in report.warnings]
    if report.failed:
        lines.append(f"{len(report.failed)} files skipped:")
        lines += [f"  {failure.path}: {failure.error}" for failure in report.failed]
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    settings = load(args)
    pipeline = open_pipeline(settings)
    _require_documents(pipeline)
    answer = pipeline.answer(args.question, options=_options(args))
    if args.json:
        _print_json(answer.to_dict())
    else:
        print(format_answer(answer))
    return 0


def _require_documents(pipeline: Pipeline) -> None:
    if pipeline.store.count() == 0:
        raise UserError("the index is empty: run 'rag ingest' first (it ingests corpus/ by default)")


def format_answer(answer: Answer) -> str:
    """Answer, verdicts and numbered sources as terminal text."""
    badge = {"supported": "✓", "unsupported": "✗", "uncited": "?", "miscited": "↻", "not_factual": "·"}
    lines = [answer.answer, ""]
    if answer.standalone_question and answer.standalone_question != answer.question:
        lines.insert(0, f"(understood as: {answer.standalone_question})\n")
    if answer.claims:
        lines.append(f"Verification: grounding {answer.grounding:.0%}")
        for claim in answer.claims:
            lines.append(f"  {badge.get(claim.verdict, ' ')} {claim.verdict:<11} {claim.text}")
        lines.append("")
    lines += [f"Note: {note}" for note in answer.notes]
    if answer.citations:
        lines.append("Sources:")
        for citation in answer.citations:
            page = f", page {citation.page}" if citation.page else ""
            snippet = " ".join(citation.text.split())
            lines.append(f"  [{citation.n}] {citation.title} ({citation.source}{page})")
            lines.append(f"      {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in answer.timings_ms.items())
    lines.append(f"({answer.generator}; {timings})")
    return "\n".join(lines)


def cmd_chat(args: argparse.Namespace) -> int:
    settings = load(args)
    pipeline = open_pipeline(settings)
    _require_documents(pipeline)
    history: list[str] = []
    pipeline.warm_up()
    print("Ask about the documents; follow-up questions use the conversation. Empty line or Ctrl-D quits.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        answer = pipeline.answer(question, history=history, options=_options(args))
        history.append(answer.standalone_question)
        print(format_answer(answer))


def cmd_check(args: argparse.Namespace) -> int:
    from rag.index.embed import Embedder
    from rag.retrieval.rerank import CrossEncoder
    from rag.verification.checker import Verifier
    from rag.verification.payload import check_payload

    raw = sys.stdin.read() if args.file == "-" else _read_file(args.file)
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(f"input is not JSON: {exc}") from exc
    settings = load(args)
    verifier = Verifier(settings.verify, embed=Embedder(settings.embedding).embed, cross_encoder=CrossEncoder())
    if args.strict:
        payload = {**payload, "strict": True}
    try:
        _print_json(check_payload(payload, verifier))
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    return 0


def _read_file(name: str) -> str:
    try:
        return Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {name}: {exc.strerror}") from exc


def cmd_config(args: argparse.Namespace) -> int:
    settings = load(args)
    data = settings.to_dict()
    if args.json:
        _print_json(data)
    else:
        for section, values in data.items():
            print(f"[{section}]")
            for key, value in values.items():
                print(f"{key} = {json.dumps(value)}")
            print()
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    pipeline = open_pipeline(load(args))
    records = pipeline.documents()
    if args.json:
        _print_json([record.__dict__ for record in records])
    else:
        for record in records:
            print(f"{record.n_chunks:5d}  {record.source}  {record.title}")
        print(f"{len(records)} documents, {sum(r.n_chunks for r in records)} chunks")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Run a question set through the pipeline into a run directory, or compare two run directories."""
    from datetime import datetime

    from rag.config import SettingsError, load_settings, parse_assignments
    from rag.evaluation.formatting import format_comparison, format_summary
    from rag.evaluation.questions import QuestionSetError, load_questions
    from rag.evaluation.rundir import EvalError, compare_runs, write_comparison
    from rag.evaluation.runner import run_evaluation

    try:
        if args.compare:
            comparison = compare_runs(args.compare[0], args.compare[1])
            write_comparison(comparison, args.out or args.compare[1])
            _print_json(comparison) if args.json else print(format_comparison(comparison))
            return 0
        if args.questions is None:
            raise UserError("give a question set (e.g. eval/questions.jsonl) or --compare RUN_A RUN_B")
        if args.limit is not None and args.limit < 1:
            raise UserError("--limit must be at least 1")
        questions = load_questions(args.questions)
        if args.split:
            questions = [q for q in questions if q.split == args.split]
            if not questions:
                raise UserError(f"no question of {args.questions} is in split {args.split!r}")
        overrides = parse_assignments([*args.set, *args.eval_set])
        if args.generator:
            overrides["generator.name"] = args.generator
        settings = load_settings(overrides)
    except (QuestionSetError, EvalError, SettingsError) as exc:
        raise UserError(str(exc)) from exc
    out = args.out or Path("eval/runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    pipeline = open_pipeline(settings)
    if pipeline.store.count() == 0:
        corpus = settings.ingest.corpus_dir
        print(f"the index in {settings.store.data_dir} is empty: ingesting {corpus}/ first", file=sys.stderr)
        report = pipeline.ingest([corpus], progress=_progress_bar(not args.json))
        print(format_ingest_report(report), file=sys.stderr)
    print(f"loading models; then {len(questions[: args.limit])} questions go to {out}/", file=sys.stderr)
    progress = _EvalProgress()
    try:
        _, metrics = run_evaluation(
            pipeline, questions, AskOptions(), out, args.limit, progress, sys.argv, questions_path=args.questions
        )
    except EvalError as exc:
        raise UserError(str(exc)) from exc
    finally:
        progress.close()
    for line in progress.problems:
        print(f"warning: {line}", file=sys.stderr)
    if args.json:
        _print_json(metrics)
    else:
        print(format_summary(metrics))
        print(
            f"\n{metrics['n.questions']} questions in {metrics['cost.wall_s']:.0f} s; "
            f"wrote {out}/ (report.html, report.md, metrics.json)"
        )
    return 0


class _EvalProgress:
    """The eval runner's progress on stderr: a tqdm bar with the running count of correct answers.

    Errors and warnings of the questions are kept in ``problems``, printed after the run.
    """

    def __init__(self) -> None:
        self.bar: Any = None
        self.correct = 0
        self.problems: list[str] = []

    def __call__(self, done: int, total: int, result: Any) -> None:
        if result is None:  # the models are loaded, the questions start
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="q", desc="eval", file=sys.stderr, dynamic_ncols=True)
            return
        self.correct += result.correct
        self.bar.update(1)
        suffix = f", error in {result.id}" if result.error else ""
        self.bar.set_postfix_str(f"correct {self.correct}/{self.bar.n}{suffix}")
        self.problems += ([f"{result.id}: {result.error}"] if result.error else []) + result.warnings

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_ui(args: argparse.Namespace) -> int:
    """Serve the web UI; an empty index is filled from corpus/ first so the page has something to answer from."""
    from rag.ingest.ingestor import IngestLocked

    settings = load(args)
    try:
        from ui.app import auth_from_env, build_ui
    except ImportError as exc:
        raise UserError(f"the web interface needs gradio ({exc}); install the project with 'pip install -e .'") from exc
    try:
        auth = auth_from_env()
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    pipeline = open_pipeline(settings)
    if pipeline.store.count() == 0:
        corpus = settings.ingest.corpus_dir
        if corpus.is_dir():
            print(f"The index is empty: ingesting {corpus}/ first (once; later starts are instant).", flush=True)
            try:
                report = pipeline.ingest([corpus], progress=_progress_bar(True))
            except IngestLocked as exc:
                raise UserError(str(exc)) from exc
            print(format_ingest_report(report), flush=True)
        else:
            print(f"The index is empty and {corpus}/ does not exist: add documents in the Documents tab.", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        print(f"warning: serving on {args.host} without a login; set RAG_UI_AUTH=user:password", file=sys.stderr)
    print("Loading models…", flush=True)
    pipeline.warm_up()
    build_ui(pipeline).launch(server_name=args.host, server_port=args.port, auth=auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
