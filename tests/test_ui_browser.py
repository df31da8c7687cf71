"""The web UI in a real headless Chromium, against a real ``rag ui`` process.

What a user does: ask, read the badges, click a citation and see the supporting
words highlighted, ask a follow-up, upload a document and get answers citing
it, and upload a hostile document that must be shown as text, never run.
Screenshots of every step go to tests/artifacts/ (gitignored).

Chromium is Debian's (``.ci/install_browser.sh``); the tests fail rather than
skip without it, because CI must run them. Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, SEED, free_port, wait_for_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "tests" / "artifacts"
QUESTION = "Which companies participated in OpenAI's latest financing round?"
ANSWER_TIMEOUT_MS = 180_000
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``rag ui`` in a fresh folder whose corpus/ is the seed article; it ingests that on start."""
    root = tmp_path_factory.mktemp("ui-browser")
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    env = {
        **os.environ,
        "RAG_DATA_DIR": str(root / "data"),
        "RAG_CONFIG": os.devnull,
        "RAG_GENERATOR": "extractive",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
    }
    for name in ("RAG_UI_AUTH", "RAG_CHROMA_URL"):
        env.pop(name, None)
    port = free_port()
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "ui", "--port", str(port)],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_for_port(port, 300, process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{log_path.read_text(errors='replace')[-3000:]}") from exc
        assert "ingesting corpus/" in log_path.read_text(errors="replace")
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/install_browser.sh (or deselect with -m 'not browser')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh session (own conversation) on the app, failing on any JavaScript error."""
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(server)
    tab.wait_for_selector("#question textarea", timeout=60_000)
    yield tab
    context.close()
    assert errors == []


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def ask(page: Any, question: str) -> Any:
    """Type a question, send it, and wait until its answer is complete (footer shown)."""
    done = "#conversation .turn .answer-meta, #conversation .turn .error-msg"
    before = page.locator(done).count()
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(
        f"document.querySelectorAll({done!r}).length > {before}", timeout=ANSWER_TIMEOUT_MS, polling=200
    )
    turn = page.locator("#conversation .turn").last
    assert turn.locator(".error-msg").count() == 0, turn.inner_text()
    return turn


def open_citation(page: Any, turn: Any, containing: str) -> Any:
    """Click the first chip of the sentence containing ``containing``; returns the visible source card."""
    turn.locator(".claim", has_text=containing).first.locator(".cite-chip").first.click()
    card = page.locator("#source-panel .src-card:not([hidden])")
    card.wait_for(state="visible", timeout=10_000)
    return card


def upload(page: Any, path: Path) -> str:
    page.get_by_role("tab", name="Documents").click()
    page.set_input_files("#upload input[type=file]", str(path))
    status = page.locator("#ingest-status .status")
    status.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    page.locator("#doc-table", has_text=path.name).wait_for(timeout=30_000)
    return str(status.inner_text())


def test_answer_shows_chips_badges_and_the_highlighted_span(page: Any) -> None:
    turn = ask(page, QUESTION)
    assert "SoftBank" in turn.inner_text()
    assert turn.locator(".cite-chip").count() >= 1
    assert turn.locator(".badge-supported").count() >= 1
    assert turn.locator(".grounding").inner_text().startswith("grounding")
    shot(page, "1-answer.png")
    card = open_citation(page, turn, "SoftBank")
    marks = card.locator("mark")
    assert marks.count() >= 1
    assert any("SoftBank" in marks.nth(i).inner_text() for i in range(marks.count()))
    assert "panews-openai-super-financing.txt" in card.inner_text()
    shot(page, "2-source-highlighted.png")


def test_follow_up_is_understood_in_context(page: Any) -> None:
    ask(page, QUESTION)
    follow = ask(page, "And how much did Nvidia put in?")
    rewritten = follow.locator(".standalone-q")
    assert rewritten.count() == 1
    text = rewritten.inner_text()
    assert "Nvidia" in text
    assert text.strip('“”"') != "And how much did Nvidia put in?"
    assert "OpenAI" in text
    shot(page, "3-follow-up.png")


def test_uploaded_document_is_answered_from(page: Any, tmp_path: Path) -> None:
    doc = tmp_path / "zephyr-acme.md"
    doc.write_text(
        "# Acme Robotics seed round\n\nZephyr Capital invested $12 million in Acme Robotics in May 2024.\n",
        encoding="utf-8",
    )
    status = upload(page, doc)
    assert "Indexed 1 file" in status
    shot(page, "4-uploaded.png")
    page.get_by_role("tab", name="Chat").click()
    turn = ask(page, "Who invested in Acme Robotics?")
    assert "Zephyr Capital" in turn.inner_text()
    card = open_citation(page, turn, "Zephyr")
    assert "zephyr-acme.md" in card.inner_text()
    assert "Zephyr Capital" in card.locator("mark").first.inner_text()
    shot(page, "5-upload-answered.png")

    page.get_by_role("tab", name="Documents").click()
    page.locator("#doc-choice input").click()
    page.get_by_role("option", name=doc.name, exact=False).click()
    page.click("#delete")
    page.locator("#ingest-status", has_text="Deleted zephyr-acme.md: 1 chunk left the index").wait_for(timeout=60_000)
    assert doc.name not in page.locator("#doc-table").inner_text()
    shot(page, "6-deleted.png")
    page.get_by_role("tab", name="Chat").click()
    again = ask(page, "Who invested in Acme Robotics?")
    assert "zephyr-acme.md" not in page.locator("#source-panel").inner_text()
    assert "Zephyr Capital" not in again.inner_text()


def test_hostile_document_is_shown_as_text(page: Any, tmp_path: Path) -> None:
    doc = tmp_path / "hostile.md"
    doc.write_text(
        f"# Quarry Labs {HOSTILE}\n\nQuarry Labs raised $7 million from Basalt Ventures in 2023. {HOSTILE}\n",
        encoding="utf-8",
    )
    upload(page, doc)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    shot(page, "7-hostile-listed.png")
    page.get_by_role("tab", name="Chat").click()
    turn = ask(page, "How much did Quarry Labs raise from Basalt Ventures?")
    card = open_citation(page, turn, "Basalt")
    assert "<script>window.__pwned=1</script>" in card.inner_text()  # shown as text...
    assert page.evaluate("typeof window.__pwned") == "undefined"  # ...and never run
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("#conversation script, #source-panel script").count() == 0
    shot(page, "8-hostile-as-text.png")
