"""The web UI in a real headless Chromium, against a real ``rag ui`` process.

What a user does: ask, read the badges, click a citation and see the supporting
words highlighted, ask a follow-up, upload a document and get answers citing
it, and upload a hostile document that must be shown as text, never run. Then
what confused or broke for a new user (issue 17), one test each: an over-long
question, a refused upload, markdown sources, a one-letter question, settings
that cannot run here, a citation tapped on a phone, the Evaluation tab, and
deleting a document. Then issue 13: a document's extracted facts, and a comparison answered with its
plan, coverage and computed ratio. Screenshots of every step go to tests/artifacts/ (gitignored).

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
PHONE_HEIGHT = 844
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": PHONE_HEIGHT}, "is_mobile": True, "has_touch": True}
# Two questions the seed article answers, none unanswerable: the Evaluation tab must hide abstention metrics.
ANSWERABLE_SET = (
    '{"id": "founded", "question": "When was OpenAI established?", "answer": "In 2015.", '
    '"evidence": [{"source": "panews-openai-super-financing.txt", "quote": "Since its establishment in 2015"}]}\n'
    '{"id": "round", "question": "Which companies participated in OpenAI\'s latest financing round?", '
    '"answer": "SoftBank, Nvidia and Amazon."}\n'
)


@pytest.fixture(scope="module")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``rag ui`` runs in: corpus/ (the seed article), eval/ (a small set), data/ (the index)."""
    root = tmp_path_factory.mktemp("ui-browser")
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    (root / "eval").mkdir()
    (root / "eval" / "answerable.jsonl").write_text(ANSWERABLE_SET, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def server(server_dir: Path) -> Iterator[str]:
    """``rag ui`` in ``server_dir``; it ingests corpus/ on start. No OpenAI-compatible endpoint is configured."""
    root = server_dir
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
    for name in ("RAG_UI_AUTH", "RAG_CHROMA_URL", "RAG_OPENAI_BASE_URL"):
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
    """A fresh desktop session (own conversation) on the app, failing on any JavaScript error."""
    yield from _session(browser, server, {"viewport": {"width": 1400, "height": 950}})


@pytest.fixture
def phone(browser: Any, server: str) -> Iterator[Any]:
    """The same on a phone-sized touch screen."""
    yield from _session(browser, server, PHONE)


def _session(browser: Any, server: str, options: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(**options)
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


def ask(page: Any, question: str, refused: bool = False) -> Any:
    """Type a question, send it, and wait until its turn is complete (footer shown, or why there is none).

    ``refused``: the question is expected to be refused with a notice rather than answered.
    """
    done = "#conversation .turn .answer-meta, #conversation .turn .error-msg, #conversation .turn .notice-msg"
    before = page.locator(done).count()
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(
        f"document.querySelectorAll({done!r}).length > {before}", timeout=ANSWER_TIMEOUT_MS, polling=200
    )
    turn = page.locator("#conversation .turn").last
    assert turn.locator(".error-msg").count() == 0, turn.inner_text()
    assert turn.locator(".notice-msg").count() == (1 if refused else 0), turn.inner_text()
    return turn


def open_citation(page: Any, turn: Any, containing: str) -> Any:
    """Click the first chip of the sentence containing ``containing``; returns the visible source card."""
    turn.locator(".claim", has_text=containing).first.locator(".cite-chip").first.click()
    card = page.locator("#source-panel .src-card:not([hidden])")
    card.wait_for(state="visible", timeout=10_000)
    return card


def upload(page: Any, path: Path, listed: bool = True) -> str:
    """Upload ``path`` on the Documents tab; returns the status text once it is shown (and the file listed)."""
    page.get_by_role("tab", name="Documents").click()
    page.set_input_files("#upload input[type=file]", str(path))
    status = page.locator("#ingest-status .status")
    status.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    if listed:
        page.locator("#doc-table", has_text=path.name).wait_for(timeout=30_000)
    return str(status.inner_text())


def delete(page: Any, name: str) -> None:
    """Delete a listed document: choose it, press Delete, confirm; waits until the table no longer lists it."""
    page.get_by_role("tab", name="Documents").click()
    page.locator("#doc-choice input").click()
    page.get_by_role("option", name=name, exact=False).click()
    page.click("#delete")
    page.locator("#delete-confirm").click()
    page.locator("#ingest-status", has_text=f"Deleted {name}").wait_for(timeout=60_000)
    assert name not in page.locator("#doc-table").inner_text()


def test_answer_shows_chips_badges_and_the_highlighted_span(page: Any) -> None:
    turn = ask(page, QUESTION)
    assert "SoftBank" in turn.inner_text()
    assert turn.locator(".cite-chip").count() >= 1
    assert turn.locator(".badge-supported").count() >= 1
    assert turn.locator(".grounding").inner_text().startswith("grounded")
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
    page.click("#delete")  # item 8: the first click only asks
    question = page.locator("#delete-question")
    question.wait_for(state="visible", timeout=10_000)
    assert "Delete zephyr-acme.md? Its 1 chunk and the uploaded file will be removed" in question.inner_text()
    shot(page, "6-delete-asks-first.png")
    assert doc.name in page.locator("#doc-table").inner_text()
    page.click("#delete-cancel")
    question.wait_for(state="hidden", timeout=10_000)
    assert doc.name in page.locator("#doc-table").inner_text()
    page.click("#delete")
    page.click("#delete-confirm")
    page.locator("#ingest-status", has_text="Deleted zephyr-acme.md: 1 chunk left the index").wait_for(timeout=60_000)
    assert doc.name not in page.locator("#doc-table").inner_text()
    assert not page.locator("#delete-question").is_visible()
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


# -- issue 17: the app as a new user meets it -------------------------------------------------
def test_an_over_long_question_is_refused_with_a_clear_message(page: Any) -> None:
    turn = ask(page, "Who invested in OpenAI? " + "y" * 20_000, refused=True)
    notice = turn.locator(".notice-msg").inner_text()
    assert "20,024 characters long; the limit is 1,000" in notice
    assert "Truncation" not in notice
    assert page.evaluate("document.body.scrollHeight") < 2_500  # the bubble is cut, the page stays short
    shot(page, "9-long-question.png")


def test_a_refused_upload_names_the_file_and_leaves_nothing_behind(page: Any, server_dir: Path, tmp_path: Path) -> None:
    fake = tmp_path / "quarterly-report.pdf"
    fake.write_text("This is plain text renamed to .pdf, not a PDF.", encoding="utf-8")
    status = upload(page, fake, listed=False)
    assert "quarterly-report.pdf" in status
    assert str(server_dir) not in status
    assert "uploads/" not in status
    assert not (server_dir / "data" / "uploads" / fake.name).exists()
    assert fake.name not in page.locator("#doc-table").inner_text()
    shot(page, "10-refused-upload.png")


def test_a_markdown_source_reads_as_formatted_text(page: Any, tmp_path: Path) -> None:
    names = ("openai-2026-110b-round-amazon-nvidia-softbank.md", "stargate-joint-venture.html")
    for name in names:
        shutil.copy(REPO / "corpus" / name, tmp_path / name)
        upload(page, tmp_path / name)
    page.get_by_role("tab", name="Chat").click()
    turn = ask(page, "How was OpenAI's $110 billion financing of February 2026 divided among the investors?")
    assert turn.locator(".plan").inner_text().startswith("Understood as:")
    assert "grounded" in turn.locator(".quality").inner_text()
    card = open_citation(page, turn, "Amazon")
    passage = card.locator(".passage")
    assert passage.locator("table th", has_text="Investor").count() == 1
    assert passage.locator("table td", has_text="$50 billion").count() >= 1
    text = passage.inner_text()
    assert "**" not in text
    assert "| " not in text
    assert not any(line.startswith("#") for line in text.splitlines())
    marks = [passage.locator("mark").nth(i).inner_text() for i in range(passage.locator("mark").count())]
    assert marks
    assert all("|" not in m and "**" not in m for m in marks)
    shot(page, "11-markdown-source.png")
    stargate = ask(page, "What is the Stargate joint venture?")
    assert "joint venture" in stargate.inner_text()
    assert "at a glance" not in stargate.locator(".answer-body").inner_text()
    for name in names:
        delete(page, name)


def test_a_one_letter_question_is_asked_to_be_completed_and_errors_stay(page: Any) -> None:
    """Item 4 and item 5's errors that stay: a refused question stays in the conversation."""
    first = ask(page, "x", refused=True)
    assert "too short to search the documents for" in first.inner_text()
    assert first.locator(".answer-meta").count() == 0
    ask(page, QUESTION)
    assert page.locator("#conversation .notice-msg").count() == 1  # the earlier notice is still there
    alone = ask(page, "How much did Microsoft invest in OpenAI in its early years?")
    assert alone.locator(".standalone-q").count() == 0  # names its subject: not completed from the turn before
    shot(page, "12-one-letter.png")


def test_generators_that_cannot_run_here_are_shown_disabled(page: Any) -> None:
    page.locator("#settings").get_by_text("Settings").click()
    hint = page.locator("#settings-hint")
    hint.wait_for(state="visible", timeout=10_000)
    assert "next question only" not in hint.inner_text()
    assert "until you change them" in hint.inner_text()
    # The server has no endpoint, so openai cannot run; local runs where the LLM extras are installed (CI).
    from rag.config import GeneratorSettings
    from ui.generators import unavailable_generators

    cannot = set(unavailable_generators(GeneratorSettings()))
    assert "openai" in cannot
    page.locator("#generator input").click()
    options = page.get_by_role("option")
    offered = [options.nth(i).inner_text().split()[-1] for i in range(options.count())]  # "✓ auto" when selected
    assert "extractive" in offered
    assert cannot.isdisjoint(offered)
    page.keyboard.press("Escape")
    off = page.locator("#generators-off")
    assert off.locator('[aria-disabled="true"]').count() == len(cannot)
    assert all(name in off.inner_text() for name in cannot)
    assert "not available here: needs an OpenAI-compatible endpoint: set RAG_OPENAI_BASE_URL" in off.inner_text()
    shot(page, "13-generators.png")


def test_a_citation_tapped_on_a_phone_opens_its_source_beside_the_answer(phone: Any) -> None:
    turn = ask(phone, QUESTION)
    chip = turn.locator(".claim", has_text="SoftBank").first.locator(".cite-chip").first
    chip.scroll_into_view_if_needed()
    chip.tap()
    inline = turn.locator(".inline-source .src-card")
    inline.wait_for(state="visible", timeout=10_000)
    box = inline.bounding_box()
    assert box is not None
    assert 0 <= box["y"] < PHONE_HEIGHT  # on screen, not 1,350 px below under the settings
    assert inline.locator("mark").count() >= 1
    shot(phone, "14-phone-source.png")
    turn.locator(".inline-close").tap()
    assert turn.locator(".inline-source").count() == 0


def test_the_evaluation_tab_explains_itself(page: Any) -> None:
    page.get_by_role("tab", name="Evaluation").click()
    status = page.locator("#eval-status")
    status.wait_for(state="visible", timeout=10_000)
    assert "No evaluation open yet" in status.inner_text()
    assert "answerable.jsonl (2 questions)" in status.inner_text()
    assert not page.locator("#eval-metrics").is_visible()  # no large blank boxes
    shot(page, "15-evaluation-empty.png")
    page.click("#eval-run")
    metrics = page.locator("#eval-metrics table.metrics")
    metrics.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    table = metrics.inner_text()
    assert "Right passage in top 5" in table
    assert "How often that passage was among the five passages" in table
    assert "Right to decline" not in table  # no unanswerable question in the set
    assert "not measured" in page.locator("#eval-metrics").inner_text()
    saved = page.locator("#eval-status").inner_text()
    assert "Saved in /" in saved  # an absolute path
    page.set_viewport_size({"width": 1400, "height": 1500})
    shot(page, "16-evaluation-run.png")


def test_the_api_page_documents_the_answer_schema_and_its_errors(page: Any) -> None:
    page.get_by_text("Use via API").click()
    docs = page.locator(".api-docs, body").first
    page.get_by_text("generator_unavailable", exact=False).first.wait_for(timeout=30_000)
    text = docs.inner_text()
    assert "generator_unavailable" in text  # the typed errors, from the endpoint's description
    assert "store_unavailable" in text
    assert "claims" in text  # the return schema, not "Any"
    shot(page, "17-api-docs.png")


# -- issue 13: what was read from a document, and an answer composed from it -----------------
def test_a_documents_facts_and_a_computed_comparison_are_shown(page: Any, tmp_path: Path) -> None:
    """The Documents tab lists a document's financing facts; a comparison question then shows how it was
    understood, how many of its parts the answer covers, and the ratio as a computed (re-checked) claim."""
    names = ("xai-series-e-2026.md", "anthropic-series-g-2026-and-later-rounds.md")
    for name in names:
        shutil.copy(REPO / "corpus" / name, tmp_path / name)
        assert "Indexed 1 file" in upload(page, tmp_path / name)
    page.locator("#doc-choice input").click()
    page.get_by_role("option", name=names[0], exact=False).click()
    facts = page.locator("#doc-facts table.facts")
    facts.wait_for(timeout=30_000)
    assert f"extracted from {names[0]}" in facts.locator("caption").inner_text()
    headers = [facts.locator("th").nth(i).inner_text() for i in range(facts.locator("th").count())]
    assert headers == ["Subject", "Role", "Counterparty", "Attribute", "Value", "Round", "Date", "Stated as"]
    row = facts.locator("tbody tr", has_text="$20 billion").first
    assert row.locator("td").first.inner_text() == "xAI"
    assert "$20 billion" in row.locator("td.fact-quote mark").first.inner_text()
    facts.scroll_into_view_if_needed()
    shot(page, "18-document-facts.png")

    page.get_by_role("tab", name="Chat").click()
    turn = ask(page, "How does Anthropic's funding compare with xAI's?")
    assert turn.locator(".plan").inner_text() == "Understood as: Comparison: amount of Anthropic and xAI"
    assert turn.locator(".coverage").inner_text() == "answers 2 of 2 parts"
    computed = turn.locator(".claim.v-computed")
    assert computed.count() == 1
    assert "times" in computed.inner_text()
    assert "≈" in computed.inner_text()  # the arithmetic is shown, not only its result
    assert computed.locator(".badge-computed").inner_text().strip() == "= computed"
    assert turn.locator(".claim.v-unsupported").count() == 0
    shot(page, "19-computed-comparison.png")
    for name in names:
        delete(page, name)
