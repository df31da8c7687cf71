"""The ``rag`` command's arguments: global options, commands and their flags, help text and exit codes.

Kept apart from :mod:`rag.cli`, which runs the commands, so the whole interface
reads in one place. Every command accepts the settings options before or after
its name; every flag has help; the exit codes are part of ``rag --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.generation.registry import GENERATOR_NAMES

EXIT_CODES = """exit codes:
  0    success
  1    an unexpected error (one line on stderr; RAG_DEBUG=1 shows the traceback)
  2    a usage or input error: a bad flag or setting, an unreadable file, an empty index
  3    the command ran but its result fails the gate: 'rag ingest' could not ingest
       every file (the report is still printed), 'rag check --strict' found a claim
       that is not supported or computed
  130  interrupted (Ctrl-C)"""
EXIT_GATE = 3


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
    ingest.set_defaults(command="ingest")

    config = command("config", "print the effective settings")
    config.add_argument("--json", action="store_true", help="print the settings as JSON")
    config.set_defaults(command="config")

    docs = command("docs", "list ingested documents")
    docs.add_argument("--json", action="store_true", help="print the list as JSON")
    docs.set_defaults(command="docs")

    facts = command("facts", "list the financing facts extracted at ingest (rounds, valuations, investors ...)")
    facts.add_argument("--entity", metavar="NAME", help="only facts about NAME, as the company or the investor")
    facts.add_argument("--json", action="store_true", help="print the facts as JSON")
    facts.set_defaults(command="facts")


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
    ask.set_defaults(command="ask")

    chat = command("chat", "interactive questions with follow-ups, in the terminal")
    _answer_options(chat)
    chat.set_defaults(command="chat")

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
    check.set_defaults(command="check")

    ui = command("ui", "open the web interface (chat, documents, evaluation) on a local port")
    ui.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, this machine only)")
    ui.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    ui.set_defaults(command="ui")

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
    evaluate.set_defaults(command="eval")


def _answer_options(command: argparse.ArgumentParser) -> None:
    """The per-question flags of ``ask`` and ``chat``."""
    command.add_argument("--strict", action="store_true", help="drop sentences the sources do not support")
    command.add_argument(
        "--generator", choices=GENERATOR_NAMES, help="answer with this generator (default: generator.name, auto)"
    )


def _positive_int(text: str) -> int:
    """argparse type for counts: a readable error instead of a traceback for 0 or -1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value
