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
from rag.terminal import EvalProgress, format_answer, format_fact, format_ingest_report, on_terminal
from rag.types import AskOptions

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.index.store import ChromaStore
    from rag.pipeline import Pipeline
    from rag.types import Answer


class UserError(Exception):
    """A problem the user can fix; printed without a traceback."""


EXIT_CODES = """exit codes:
  0    success
  1    an unexpected error (one line on stderr; RAG_DEBUG=1 shows the traceback)
  2    a usage or input error: a bad flag or setting, an unreadable file, an empty index
  3    the command ran but its result fails the gate: 'rag ingest' could not ingest
       every file (the report is still printed), 'rag check --strict' found a claim
       that is not supported or computed
  130  interrupted (Ctrl-C)"""
EXIT_GATE = 3


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


class _Version(argparse.Action):
    """``--version``, reading the installed distribution's version only when asked (``rag --help`` stays fast)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"rag {version('rag-cited')}")
        except PackageNotFoundError:
            print("rag (not installed as a package: run 'pip install -e .')")
        parser.exit()


def _common_options(late: bool) -> argparse.ArgumentParser:
    """Options every command accepts, before or after its name (``rag --set k=v ask`` = ``rag ask --set k=v``).

    After the command they go to their own destinations (argparse would let the
    subcommand's defaults overwrite values given before it); :func:`load` merges both.
    """
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("settings (before or after the command)")
    group.add_argument(
        "--set",
        dest="set_late" if late else "set",
        action="append",
        default=[] if not late else argparse.SUPPRESS,
        metavar="SECTION.KEY=VALUE",
        help="override one setting for this run, e.g. --set retrieval.top_k=8 (repeatable; see 'rag config')",
    )
    group.add_argument(
        "--config",
        dest="config_late" if late else "config",
        type=Path,
        default=None if not late else argparse.SUPPRESS,
        metavar="FILE",
        help="settings file to read instead of ./rag.toml (default: $RAG_CONFIG, else rag.toml)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Citation-checked question answering over your documents.",
        epilog=f"Settings come from rag.toml, RAG_* variables and --set; 'rag config' prints them.\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options(late=False)],
    )
    parser.add_argument("--version", action=_Version, help="print the installed version and exit")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    late = [_common_options(late=True)]

    def command(name: str, summary: str, epilog: str | None = None) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=summary,
            parents=late,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    _index_commands(command)
    _question_commands(command)
    return parser


Command = Callable[..., argparse.ArgumentParser]


def _index_commands(command: Command) -> None:
    """Commands that fill or read the index: ingest, docs, facts, config."""
    ingest = command(
        "ingest",
        "add documents (default: the bundled corpus/) to the index",
        "exit status 3 when any file could not be ingested (the report still lists what was).",
    )
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

    config = command("config", "print the effective settings")
    config.add_argument("--json", action="store_true", help="print the settings as JSON")
    config.set_defaults(handler=cmd_config)

    docs = command("docs", "list ingested documents")
    docs.add_argument("--json", action="store_true", help="print the list as JSON")
    docs.set_defaults(handler=cmd_docs)

    facts = command("facts", "list the financing facts extracted at ingest (rounds, valuations, investors ...)")
    facts.add_argument("--entity", metavar="NAME", help="only facts about NAME, as the company or the investor")
    facts.add_argument("--json", action="store_true", help="print the facts as JSON")
    facts.set_defaults(handler=cmd_facts)


def _question_commands(command: Command) -> None:
    """Commands that answer or check questions: ask, chat, check, ui, eval."""
    ask = command("ask", "answer one question with verified citations")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--json", action="store_true", help="print the full answer object as JSON")
    _answer_options(ask)
    ask.add_argument(
        "--stream",
        action="store_true",
        help="print an LLM's draft as it is written, then the verified answer (no effect on the extractive answerer)",
    )
    ask.set_defaults(handler=cmd_ask)

    chat = command("chat", "interactive questions with follow-ups, in the terminal")
    _answer_options(chat)
    chat.set_defaults(handler=cmd_chat)

    check = command(
        "check",
        "verify the citations of any answer: JSON {answer, sources} from FILE or -",
        "exit status 3 with --strict when any claim is unsupported, uncited or miscited.",
    )
    check.add_argument("file", help="JSON file, or - for standard input")
    check.add_argument(
        "--strict",
        action="store_true",
        help="drop unsupported sentences, and exit with status 3 unless every claim is supported or computed",
    )
    check.set_defaults(handler=cmd_check)

    ui = command("ui", "open the web interface (chat, documents, evaluation) on a local port")
    ui.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, this machine only)")
    ui.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    ui.set_defaults(handler=cmd_ui)

    evaluate = command("eval", "score the pipeline on a question set, or compare two runs")
    evaluate.add_argument("questions", nargs="?", type=Path, help="question set (JSONL), e.g. eval/questions.jsonl")
    evaluate.add_argument(
        "--out", type=Path, help="run directory (default: eval/runs/<time>); with --compare: where compare.md goes"
    )
    evaluate.add_argument("--compare", nargs=2, type=Path, metavar=("RUN_A", "RUN_B"), help="compare two run dirs")
    evaluate.add_argument("--limit", type=_positive_int, metavar="N", help="only the first N questions")
    evaluate.add_argument(
        "--split", help='only questions of this split (e.g. "dev"; hold "heldout" back until the end)'
    )
    evaluate.add_argument("--generator", choices=GENERATOR_NAMES, help="answer with this generator")
    evaluate.add_argument("--json", action="store_true", help="print the metrics (or the comparison) as JSON")
    evaluate.set_defaults(handler=cmd_eval)


def _answer_options(command: argparse.ArgumentParser) -> None:
    """The per-question flags of ``ask`` and ``chat``."""
    command.add_argument("--strict", action="store_true", help="drop sentences the sources do not support")
    command.add_argument(
        "--generator", choices=GENERATOR_NAMES, help="answer with this generator (default: generator.name, auto)"
    )


# -- helpers -------------------------------------------------------------------
def load(args: argparse.Namespace, **overrides: str) -> Settings:
    """The settings for this run: files and variables, then ``--set`` given before and after the command."""
    from rag.config import SettingsError, load_settings, parse_assignments

    config = getattr(args, "config_late", None) or args.config
    if config is not None and not config.is_file():
        raise UserError(f"--config {config}: no such file")
    try:
        assignments = parse_assignments([*args.set, *getattr(args, "set_late", [])])
        return load_settings({**assignments, **overrides}, config_file=config)
    except SettingsError as exc:
        raise UserError(str(exc)) from exc


def open_pipeline(settings: Settings) -> Pipeline:
    from rag.index.chroma_client import StoreError
    from rag.pipeline import Pipeline

    try:
        return Pipeline.from_settings(settings)
    except StoreError as exc:
        raise UserError(str(exc)) from exc


def _open_store(settings: Settings) -> ChromaStore:
    """The index alone, for commands that read it without asking questions (no models loaded)."""
    from rag.index.chroma_client import StoreError
    from rag.index.store import ChromaStore

    try:
        return ChromaStore(settings.store)
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
    return EXIT_GATE if report.failed else 0


def _progress_bar(enabled: bool) -> Callable[[int, int, str], None] | None:
    """A tqdm bar on stderr that advances as chunks are embedded; None when stderr is not a terminal."""
    if not enabled or not on_terminal():
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


def cmd_ask(args: argparse.Namespace) -> int:
    settings = load(args)
    pipeline = open_pipeline(settings)
    _require_documents(pipeline)
    if args.stream and not args.json:
        answer = _streamed(pipeline, args.question, _options(args))
    else:
        answer = pipeline.answer(args.question, options=_options(args))
    if args.json:
        _print_json(answer.to_dict())
    else:
        print(format_answer(answer))
    return 0


def _streamed(pipeline: Pipeline, question: str, options: AskOptions) -> Answer:
    """Print the draft as the LLM writes it, then return the verified answer (printed below it, with verdicts)."""
    from rag.types import Answer

    drafted = False
    for item in pipeline.stream(question, options=options):
        if isinstance(item, Answer):
            if drafted:
                print("\n\n--- verified answer ---", flush=True)
            return item
        if not drafted:
            print("draft (not yet checked): ", end="", flush=True)
            drafted = True
        print(item, end="", flush=True)
    raise AssertionError("Pipeline.stream ends with an Answer")


def _require_documents(pipeline: Pipeline) -> None:
    if pipeline.store.count() == 0:
        raise UserError("the index is empty: run 'rag ingest' first (it ingests corpus/ by default)")


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
        result = check_payload(payload, verifier)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    _print_json(result)
    failing = [claim for claim in result["claims"] if claim["verdict"] not in PASSING_VERDICTS]
    if args.strict and failing:
        print(f"rag check: {len(failing)} of {len(result['claims'])} claims are not supported", file=sys.stderr)
        return EXIT_GATE
    return 0


# What 'rag check --strict' lets through: claims the sources support or arithmetic re-checked from them,
# and sentences that state no fact ("Here is what the documents say:").
PASSING_VERDICTS = frozenset({"supported", "computed", "not_factual"})


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


def cmd_facts(args: argparse.Namespace) -> int:
    """The financing facts stored at ingest, optionally about one company or investor."""
    from rag.financing.lookup import FactIndex

    index = FactIndex(_open_store(load(args)))
    if args.entity:
        found = {f.id: f for f in [*index.find(subject=args.entity), *index.find(counterparty=args.entity)]}
        facts = list(found.values())
    else:
        facts = index.facts()
    facts.sort(key=lambda f: (f.subject.lower(), f.date, f.attribute, f.counterparty.lower()))
    if args.json:
        _print_json([fact.to_dict() for fact in facts])
        return 0
    for fact in facts:
        print(format_fact(fact))
    about = f" about {args.entity}" if args.entity else ""
    print(f"{len(facts)} facts{about}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Run a question set through the pipeline into a run directory, or compare two run directories."""
    from datetime import datetime

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
        questions = load_questions(args.questions)
        if args.split:
            questions = [q for q in questions if q.split == args.split]
            if not questions:
                raise UserError(f"no question of {args.questions} is in split {args.split!r}")
    except (QuestionSetError, EvalError) as exc:
        raise UserError(str(exc)) from exc
    settings = load(args, **({"generator.name": args.generator} if args.generator else {}))
    out = args.out or Path("eval/runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    pipeline = open_pipeline(settings)
    if pipeline.store.count() == 0:
        corpus = settings.ingest.corpus_dir
        print(f"the index in {settings.store.data_dir} is empty: ingesting {corpus}/ first", file=sys.stderr)
        report = pipeline.ingest([corpus], progress=_progress_bar(not args.json))
        print(format_ingest_report(report), file=sys.stderr)
    print(f"loading models; then {len(questions[: args.limit])} questions go to {out}/", file=sys.stderr)
    progress = EvalProgress()
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
