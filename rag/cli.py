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

from rag.cli_args import EXIT_GATE, build_parser
from rag.terminal import EvalProgress, format_answer, format_fact, format_ingest_report, on_terminal
from rag.types import AskOptions

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.index.store import ChromaStore
    from rag.pipeline import Pipeline
    from rag.types import Answer


class UserError(Exception):
    """A problem the user can fix; printed without a traceback."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = COMMANDS.get(getattr(args, "command", ""))
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args) or 0)
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


# -- commands ------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.ingest.ingestor import IngestLocked, ingest_lock

    settings = load(args)
    paths = args.paths or [settings.ingest.corpus_dir]
    try:
        # Asked before the store is opened: opening an embedded Chroma waits on a write the other
        # ingest has in progress (for ever, if that process is stopped), and the user should hear at once.
        with ingest_lock(settings.store.data_dir):
            pass
        pipeline = open_pipeline(settings)
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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ingest": cmd_ingest,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "check": cmd_check,
    "config": cmd_config,
    "docs": cmd_docs,
    "facts": cmd_facts,
    "ui": cmd_ui,
    "eval": cmd_eval,
}


if __name__ == "__main__":
    sys.exit(main())
