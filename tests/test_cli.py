"""The ``rag`` command line's conventions: options anywhere, --version, help on every flag, exit codes, progress.

Commands run in-process through :func:`rag.cli.main` against real stores in
temporary directories and the real models (the session's, where a pipeline is
needed); pytest's captured stderr is not a terminal, like a CI log.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from rag.cli import EXIT_GATE, build_parser, main

from conftest import REPO, SEED


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("rag has no subcommands")


def test_settings_options_work_after_the_command_too(capsys: pytest.CaptureFixture[str]) -> None:
    """'rag ask --set ...' used to fail with 'unrecognized arguments' although an error message suggested it."""
    code = main(["--set", "retrieval.top_k=4", "config", "--json", "--set", "retrieval.rerank=true"])
    settings = json.loads(capsys.readouterr().out)
    assert code == 0
    assert settings["retrieval"]["top_k"] == 4  # before the command
    assert settings["retrieval"]["rerank"] is True  # after it


def test_config_file_option_after_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "team.toml"
    config.write_text("[retrieval]\ntop_k = 9\n")
    assert main(["config", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["retrieval"]["top_k"] == 9
    assert main(["config", "--config", str(tmp_path / "missing.toml")]) == 2


@pytest.mark.parametrize("argv", [["--set", "retrieval.top_k=-3", "config"], ["config", "--set", "retrieval.top_k=-3"]])
def test_an_invalid_setting_is_refused_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "rag: error: retrieval.top_k: input should be greater than or equal to 1, got '-3'\n"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("rag 0.")


def test_every_flag_of_every_command_has_help() -> None:
    parser = build_parser()
    commands = _subcommands(parser)
    assert {"ingest", "ask", "chat", "check", "config", "docs", "facts", "ui", "eval"} <= set(commands)
    for name, command in {"rag": parser, **commands}.items():
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            where = f"{name} {action.option_strings or action.dest}"
            assert action.help, where
            assert action.help != argparse.SUPPRESS, where


def test_exit_codes_are_documented_in_help_and_readme(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for code, meaning in [("0", "success"), ("2", "usage or input error"), ("3", "fails the gate")]:
        assert f"  {code}  " in text, code
        assert meaning in text, code
        assert f"| {code} |" in readme, code
    assert "rag check --strict" in readme
    assert "rag ingest" in readme


def test_ingest_exits_3_when_a_file_fails_and_still_prints_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CI job can gate on 'rag ingest': it used to exit 0 with files skipped. No tqdm bar goes into the log."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7 this is not a PDF body")
    code = main(["ingest", str(docs), "--set", f"store.data_dir={tmp_path / 'data'}"])
    captured = capsys.readouterr()
    assert code == EXIT_GATE
    assert "2 files:" in captured.out
    assert "1 files skipped:" in captured.out
    assert "broken.pdf" in captured.out
    assert "embedding" not in captured.err
    assert "chunk/s" not in captured.err
    assert main(["ingest", str(docs / SEED.name), "--set", f"store.data_dir={tmp_path / 'data'}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["failed"] == []


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.cli

    monkeypatch.setattr(rag.cli, "on_terminal", lambda: False)
    assert rag.cli._progress_bar(True) is None
    monkeypatch.setattr(rag.cli, "on_terminal", lambda: True)
    assert callable(rag.cli._progress_bar(True))
    assert rag.cli._progress_bar(False) is None  # --json: never


SOURCE = "Acme Robotics raised $12 million in March 2024. The round was led by Blue Fund."


@pytest.mark.parametrize(
    ("answer", "strict", "expected"),
    [
        ("Acme Robotics raised $12 million in March 2024 [1].", True, 0),
        ("Acme Robotics raised $90 million in March 2024 [1].", True, EXIT_GATE),
        ("Acme Robotics raised $90 million in March 2024 [1].", False, 0),  # without --strict: a report, not a gate
    ],
)
def test_check_strict_gates_on_the_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], answer: str, strict: bool, expected: int
) -> None:
    payload = tmp_path / "answer.json"
    payload.write_text(json.dumps({"answer": answer, "sources": [{"n": 1, "text": SOURCE}]}))
    code = main(["check", str(payload), *(["--strict"] if strict else [])])
    captured = capsys.readouterr()
    verdicts = [claim["verdict"] for claim in json.loads(captured.out)["claims"]]
    assert code == expected, verdicts
    assert verdicts == (["supported"] if "$12" in answer else ["unsupported"])
    if expected:
        assert "1 of 1 claims are not supported" in captured.err


def test_facts_lists_the_stored_financing_facts(seed_pipeline: Any, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = f"store.data_dir={seed_pipeline.settings.store.data_dir}"
    assert main(["facts", "--json", "--set", data_dir]) == 0
    every = json.loads(capsys.readouterr().out)
    assert every
    assert {"id", "subject", "attribute", "value", "counterparty", "round", "source"} <= set(every[0])
    assert main(["facts", "--entity", "SoftBank", "--json", "--set", data_dir]) == 0
    about = json.loads(capsys.readouterr().out)
    assert about
    assert all("SoftBank" in (f["subject"], f["counterparty"]) for f in about)
    assert len(about) < len(every)
    assert main(["facts", "--entity", "SoftBank", "--set", data_dir]) == 0
    text = capsys.readouterr().out
    assert text.rstrip().endswith(f"{len(about)} facts about SoftBank")
