"""End to end through the pipeline object and the ``rag`` CLI, real models and real Chroma."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SEED, make_settings

QUESTION = "Which companies participated in OpenAI's latest financing round?"


def test_answer_names_the_participants_with_a_seed_citation(seed_pipeline) -> None:
    answer = seed_pipeline.answer(QUESTION)
    assert not answer.abstained
    for company in ("Amazon", "Nvidia", "SoftBank"):
        assert company in answer.answer
    assert "[" in answer.answer
    assert answer.citations
    assert all(c.source == SEED.name for c in answer.citations)
    cited = next(c for c in answer.citations if "SoftBank" in c.text)
    seed_text = SEED.read_text(encoding="utf-8")
    assert seed_text[cited.start : cited.end] == cited.text
    assert answer.claims
    assert answer.grounding > 0.5
    assert set(answer.timings_ms) == {"retrieve", "generate", "verify", "total"}


def test_abstains_when_the_documents_do_not_say(seed_pipeline) -> None:
    answer = seed_pipeline.answer("What was xAI's valuation in its latest round according to the corpus?")
    assert answer.abstained
    assert answer.citations == []
    assert "do not contain" in answer.answer


def test_follow_up_question_uses_the_previous_turn(seed_pipeline) -> None:
    first = seed_pipeline.answer("What are Google's advantages compared to OpenAI?")
    follow = seed_pipeline.answer("And what about xAI's path?", history=[first.standalone_question])
    assert "xAI" in follow.standalone_question
    assert follow.standalone_question != follow.question


def _run_cli(
    args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    rag = Path(sys.executable).with_name("rag")
    return subprocess.run(
        [str(rag), *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory) -> tuple[dict[str, str], Path]:
    root = tmp_path_factory.mktemp("cli")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    env = {**os.environ, "RAG_DATA_DIR": str(root / "data"), "HF_HUB_OFFLINE": "1", "RAG_CONFIG": os.devnull}
    return env, docs


def test_cli_ingest_ask_and_check(cli_env) -> None:
    env, docs = cli_env
    ingest = _run_cli(["ingest", str(docs), "--json"], env, docs.parent)
    assert ingest.returncode == 3, ingest.stderr  # broken.pdf failed: the gate's exit status, report still printed
    report = json.loads(ingest.stdout)
    assert set(report) >= {"files", "chunks", "added", "skipped", "failed"}
    assert report["files"] == 2
    assert report["failed"][0]["path"].endswith("broken.pdf")
    assert report["added"] > 0

    again = json.loads(_run_cli(["ingest", str(docs), "--json"], env, docs.parent).stdout)
    assert again["added"] == 0
    assert again["skipped"] == 1

    ask = _run_cli(["ask", "--json", QUESTION], env, docs.parent)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert set(answer) >= {"question", "answer", "abstained", "citations", "claims", "grounding", "timings_ms"}
    assert {"Amazon", "Nvidia", "SoftBank"} <= set(answer["answer"].replace(",", " ").replace(".", " ").split())
    assert answer["citations"][0]["source"] == SEED.name
    assert {"n", "doc_id", "source", "title", "page", "start", "end", "text"} <= set(answer["citations"][0])

    plain = _run_cli(["ask", QUESTION], env, docs.parent)
    assert "Sources:" in plain.stdout
    assert "[1]" in plain.stdout or "[2]" in plain.stdout

    seed_paragraph = SEED.read_text(encoding="utf-8")
    start = seed_paragraph.index("Microsoft's early strategic")
    passage = seed_paragraph[start : seed_paragraph.index("SoftBank", start) + len("SoftBank")]
    bad = {"answer": "OpenAI's latest round was led by Alphabet [1].", "sources": [{"n": 1, "text": passage}]}
    checked = json.loads(_run_cli(["check", "-"], env, docs.parent, stdin=json.dumps(bad)).stdout)
    assert checked["claims"][0]["verdict"] == "unsupported"
    good = {**bad, "answer": "Amazon, Nvidia and SoftBank participated [1]."}
    checked = json.loads(_run_cli(["check", "-"], env, docs.parent, stdin=json.dumps(good)).stdout)
    assert checked["claims"][0]["verdict"] == "supported"
    assert checked["claims"][0]["evidence"]


def test_cli_errors_are_one_line(cli_env, tmp_path: Path) -> None:
    env, docs = cli_env
    empty = {**env, "RAG_DATA_DIR": str(tmp_path / "empty")}
    result = _run_cli(["ask", "anything"], empty, docs.parent)
    assert result.returncode == 2
    assert "run 'rag ingest' first" in result.stderr
    assert "Traceback" not in result.stderr
    bad_setting = _run_cli(["--set", "retrieval.top_k=lots", "config"], env, docs.parent)
    assert bad_setting.returncode == 2
    assert "retrieval.top_k: input should be a valid integer" in bad_setting.stderr
    assert bad_setting.stderr.count("\n") == 1


def test_help_lists_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "--help"], capture_output=True, text=True, check=True, cwd=REPO
    )
    for command in ("ingest", "ask", "chat", "check", "config"):
        assert command in result.stdout


def test_ingest_and_ask_against_a_chroma_server(chroma_server: str, tmp_path: Path, pipeline_factory) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    settings = make_settings(
        tmp_path / "data", **{"store.chroma_url": chroma_server, "store.collection": "server_test"}
    )
    pipeline = pipeline_factory(settings)
    assert pipeline.store.client.__class__.__name__ != "PersistentClient"
    report = pipeline.ingest([docs])
    assert report.added > 0
    assert not (tmp_path / "data" / "chroma").exists()
    answer = pipeline.answer(QUESTION)
    assert "SoftBank" in answer.answer
    assert pipeline.ingest([docs]).added == 0


def test_unreachable_chroma_server_is_a_clear_error(tmp_path: Path) -> None:
    from rag.index.chroma_client import StoreError
    from rag.index.store import ChromaStore

    from conftest import free_port

    settings = make_settings(tmp_path, **{"store.chroma_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        ChromaStore(settings.store)
