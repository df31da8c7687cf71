"""The web UI without a browser: HTML rendering, upload names, login, and the ``/ask`` API over a real server.

Rendering and upload handling are pure functions, tested directly with
hostile inputs. The API tests start the real Gradio app on a free loopback
port over the seed article and call it with ``gradio_client``, the way a
script would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rag.types import Answer, AskOptions, Citation, Claim, Evidence
from ui.passage import passage_html
from ui.render import (
    Turn,
    answer_segments,
    badge_html,
    plain_answer,
    plan_html,
    render_charts,
    render_conversation,
)
from ui.sources import evidence_spans, highlight, render_sources, safe_link
from ui.uploads import UploadError, remove_upload, safe_upload_name, store_upload

from conftest import free_port

SCRIPT = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
QUESTION = "Which companies participated in OpenAI's latest financing round?"


def make_answer(
    passage: str = "Intro. Participants include: Amazon, Nvidia, SoftBank. Tail.", **changes: Any
) -> Answer:
    span = passage.find("Participants")
    end = passage.find(" Tail")
    data: dict[str, Any] = {
        "question": QUESTION,
        "answer": "Participants include Amazon, Nvidia and SoftBank [1]. Mars is red [2].",
        "abstained": False,
        "citations": [
            Citation(
                1,
                "d1",
                "c1",
                "seed.txt",
                "Seed <b>title</b>",
                None,
                10,
                10 + len(passage),
                passage,
                ["https://example.com/a"],
            ),
            Citation(2, "d2", "c2", "other.md", "Other", 3, 0, 5, "Other text", ["javascript:alert(1)"]),
        ],
        "claims": [
            Claim(
                "Participants include Amazon, Nvidia and SoftBank.",
                [1],
                "supported",
                0.93,
                [Evidence(1, span, end, passage[span:end])],
                "stated in the source",
            ),
            Claim("Mars is red.", [2], "unsupported", 0.1, [], "[2]: 'Mars' is not in the source"),
        ],
        "grounding": 0.5,
        "timings_ms": {"retrieve": 12.0, "generate": 30.0, "verify": 900.0, "total": 1242.0},
        "generator": "extractive",
        "standalone_question": QUESTION,
    }
    data.update(changes)
    data["claims"] = [c if c.start >= 0 else placed(data["answer"], c) for c in data["claims"]]
    return Answer(**data)


def placed(answer: str, claim: Claim) -> Claim:
    """``claim`` with the offsets the verifier gives it: its sentence, ``[n]`` markers included, in ``answer``."""
    stem = claim.text.rstrip(".")
    start = answer.find(stem)
    if start < 0:
        return claim  # not in this answer: no place on the page
    end = answer.index(".", start + len(stem)) + 1
    return replace(claim, start=start, end=end)


# -- rendering ------------------------------------------------------------------------------
def test_document_text_is_escaped_everywhere() -> None:
    hostile = f"Before {SCRIPT} after. Participants include: Amazon. Tail."
    answer = make_answer(
        hostile,
        answer=f"Participants include Amazon [1]. {SCRIPT}",
        question=SCRIPT,
        notes=[f"note {SCRIPT}"],
        standalone_question=f"{SCRIPT} rewritten",
    )
    turns = [Turn(SCRIPT, answer)]
    page = render_conversation(turns) + render_sources(turns)
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "onerror=&quot;window.__pwned=2&quot;" in page
    assert "Seed &lt;b&gt;title&lt;/b&gt;" in page  # titles too


def test_highlight_wraps_exact_offsets_and_escapes_inside() -> None:
    assert highlight("abcdef", [(1, 3)]) == "a<mark>bc</mark>def"
    assert highlight("a<b>c", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>c"
    assert highlight("abcdef", [(0, 2), (1, 4), (5, 6)]) == "<mark>abcd</mark>e<mark>f</mark>"
    assert highlight("abc", []) == "abc"


def test_evidence_spans_use_offsets_into_the_citation_text() -> None:
    answer = make_answer()
    passage = answer.citations[0].text
    [(start, end)] = evidence_spans(answer, 1)
    assert passage[start:end] == "Participants include: Amazon, Nvidia, SoftBank."
    card = render_sources([Turn(QUESTION, answer)])
    assert "<mark>Participants include: Amazon, Nvidia, SoftBank.</mark>" in card
    assert evidence_spans(answer, 2) == []  # unsupported: nothing to highlight...
    assert '<blockquote class="passage whole"><p>Other text</p>' in card  # ...so the whole passage is tinted


def test_evidence_with_wrong_offsets_falls_back_to_its_text() -> None:
    passage = "One. Two SoftBank. Three."
    claim = Claim("Two SoftBank.", [1], "supported", 0.9, [Evidence(1, 90, 99, "Two SoftBank.")])
    answer = make_answer(passage, claims=[claim])
    assert evidence_spans(answer, 1) == [(5, 18)]


def test_badges_name_the_verdict_and_carry_the_reason() -> None:
    for verdict in ("supported", "unsupported", "uncited", "miscited", "not_factual", "computed"):
        html = badge_html(Claim("x", [1], verdict, 0.5, [], reason=f"why {verdict} <b>"))
        assert f'class="badge badge-{verdict}"' in html
        assert f"why {verdict} &lt;b&gt;" in html
    repaired = badge_html(Claim("x", [3], "miscited", 0.8, [], "stated in [3], not in [2]", [2]))
    assert "corrected from [2] to [3]" in repaired


def test_each_sentence_gets_its_chips_and_its_own_badge() -> None:
    answer = make_answer()
    first, second = answer_segments(answer, 4)
    assert 'data-cite="t4-1"' in first
    assert "badge-supported" in first
    assert "badge-unsupported" not in first
    assert 'data-cite="t4-2"' in second
    assert "badge-unsupported" in second
    page = render_conversation([Turn(QUESTION, answer)])
    assert "grounded 50% (1 of 2 sentences)" in page


def test_badges_sit_where_the_claim_offsets_say_and_text_between_stays() -> None:
    text = "Two findings:\n\n- Participants include Amazon, Nvidia and SoftBank [1].\n- Mars is red [2]."
    first, second = answer_segments(make_answer(answer=text), 1)
    assert first.startswith('Two findings:\n\n- <span class="claim v-supported">Participants')
    assert second.startswith('\n- <span class="claim v-unsupported">Mars is red')
    # The same sentence twice: each badge goes to the sentence its claim's offsets name.
    twice = "Mars is red [2]. Mars is red [2]."
    claims = [
        Claim("Mars is red.", [2], "unsupported", 0.1, [], "", [], 0, 16),
        Claim("Mars is red.", [2], "supported", 0.9, [], "", [], 17, 33),
    ]
    one, two = answer_segments(make_answer(answer=twice, claims=claims[::-1]), 1)
    assert "badge-unsupported" in one
    assert "badge-supported" in two


def test_a_real_answer_shows_each_sentence_once_with_its_own_badge(seed_pipeline: Any) -> None:
    answer = seed_pipeline.answer(QUESTION, options=AskOptions(generator="extractive"))
    segments = answer_segments(answer, 1)
    assert answer.claims
    assert all(0 <= c.start < c.end <= len(answer.answer) for c in answer.claims)
    assert len(segments) == len(answer.claims)
    for segment, claim in zip(segments, sorted(answer.claims, key=lambda c: c.start), strict=True):
        assert segment.count('class="badge ') == 1
        assert f'class="badge badge-{claim.verdict}"' in segment
    assert "SoftBank" in "".join(segments)


def test_marker_for_a_source_that_was_not_returned_is_not_a_chip() -> None:
    answer = make_answer(answer="Participants include Amazon, Nvidia and SoftBank [7].")
    [segment] = answer_segments(answer, 1)
    assert "cite-missing" in segment
    assert "data-cite" not in segment


def test_notes_are_listed_once_and_abstentions_plain() -> None:
    note = "Sources disagree: [1] says $40 billion, [2] says $30 billion."
    answer = make_answer(notes=[note])  # notes are data beside the answer text, never in it
    page = render_conversation([Turn(QUESTION, answer)])
    body = "".join(answer_segments(answer, 1))
    assert "Sources disagree" not in body  # not repeated in the answer text...
    assert f"<li>{note}</li>" in page  # ...but listed with the other notes
    assert '<ul class="notes"' in page
    abstained = make_answer(answer="The documents do not contain the answer.", abstained=True, claims=[], citations=[])
    assert "v-abstained" in render_conversation([Turn("q", abstained)])


def test_rewritten_question_shown_only_when_it_differs() -> None:
    assert plan_html(make_answer()) == ""
    follow = make_answer(question="and Nvidia?", standalone_question="and Nvidia? (OpenAI financing round)")
    assert "Follow-up read as" in plan_html(follow)
    assert "(OpenAI financing round)" in plan_html(follow)


@pytest.mark.parametrize(
    "question",
    [
        "How much did Anthropic raise in its Series F?",
        "Did the firm that led OpenAI's October 2024 round also buy into the 2025 employee share sale?",
        "What is the Stargate joint venture and who funds it?",
    ],
)
def test_a_self_contained_question_is_not_read_as_a_follow_up(question: str) -> None:
    from rag.retrieval.followup import standalone_question

    assert standalone_question(question, ["Who is OpenAI's CEO?"]) == question


@pytest.mark.parametrize(
    "question",
    ["and how much did Nvidia put in?", "How much did they put in?", "How much did xAI raise in that round?"],
)
def test_a_question_that_leans_on_the_previous_one_is_completed(question: str) -> None:
    from rag.retrieval.followup import standalone_question

    assert "OpenAI" in standalone_question(question, [QUESTION])


def test_a_draft_is_shown_as_unchecked_text_until_the_answer_replaces_it() -> None:
    """Issue 16: an LLM's tokens are shown as they arrive, escaped and marked as a draft; no badges, no footer."""
    drafting = render_conversation([Turn(QUESTION, draft="Amazon <b>led</b> the round [1")])
    assert "Draft; its citations are checked" in drafting
    assert "Amazon &lt;b&gt;led&lt;/b&gt; the round [1" in drafting
    assert "answer-meta" not in drafting
    assert "badge" not in drafting
    answer = make_answer()
    assert "Mars" in render_conversation([Turn(QUESTION, answer)])
    assert "pending" in render_conversation([Turn(QUESTION)])


def test_the_chat_streams_the_draft_then_the_checked_answer(seed_pipeline: Any) -> None:
    """The chat handler yields the growing draft and ends with the verified answer (and its sources)."""
    from ui.chat_tab import chat_events

    answer = make_answer()

    def stream(*_: Any) -> Any:
        yield from ("Amazon, Nvidia ", "and SoftBank [1].")
        yield answer

    frames = list(chat_events(stream, QUESTION, [], "", 0.0))
    assert "Draft; its citations are checked" in frames[1][0]
    assert "Amazon, Nvidia" in frames[1][0]
    assert "Mars" in frames[-1][0]
    assert "Draft;" not in frames[-1][0]
    assert frames[-1][2][-1].answer is answer


def test_only_http_links_are_clickable() -> None:
    assert safe_link("https://example.com/a").startswith('<a href="https://example.com/a"')
    assert "<a" not in safe_link("javascript:alert(1)")
    assert 'rel="noopener noreferrer nofollow"' in safe_link("http://x.org/")


def test_chart_titles_and_uris_are_escaped() -> None:
    png = "data:image/png;base64,iVBORw0KGgo="
    html = render_charts([("hit@k curve", png), ('x" onerror="alert(1)', 'y" onload="alert(2)')])
    assert f'<img alt="hit@k curve" src="{png}">' in html
    assert html.count("<img") == 2
    assert 'onerror="' not in html
    assert 'onload="' not in html
    assert "No charts" in render_charts([])


PLAN = {
    "kind": "comparison",
    "entities": ["Anthropic", "xAI"],
    "slots": [
        {"entity": "Anthropic", "attribute": "amount", "qualifier": "Series E"},
        {"entity": "Anthropic", "attribute": "amount", "qualifier": "Series F"},
        {"entity": "xAI", "attribute": "amount", "qualifier": ""},
    ],
    "described": f"Comparison: amount of Anthropic and xAI {SCRIPT}",
}


def test_plan_coverage_missing_parts_and_computed_claims_are_shown() -> None:
    passage = "Anthropic raised $3.5 billion in its Series E and $13 billion in its Series F."
    text = "Anthropic raised $3.5 billion [1]. Together that is $16.5 billion (3.5 + 13 = 16.5, in billions) [1]."
    claims = [
        Claim("Anthropic raised $3.5 billion.", [1], "supported", 0.9, [Evidence(1, 0, 28, passage[:28])]),
        Claim("Together that is $16.5 billion (3.5 + 13 = 16.5, in billions).", [1], "computed", 1.0, [], "sum"),
    ]
    citation = Citation(1, "d", "c", "a.md", "A", None, 0, len(passage), passage)
    answer = make_answer(
        passage, answer=text, claims=claims, citations=[citation], grounding=0.5, plan=PLAN, coverage=2 / 3
    )
    answer = replace(answer, missing=[f"xAI's amount {SCRIPT}"])
    page = render_conversation([Turn(QUESTION, answer)])
    assert "Understood as: " in page
    assert "Comparison: amount of Anthropic and xAI" in page
    assert "answers 2 of 3 parts" in page
    assert "grounded 100% (2 of 2 sentences)" in page  # a computed sentence counts as grounded
    assert "The documents do not give: xAI&#x27;s amount" in page
    [computed] = [seg for seg in answer_segments(answer, 1) if "badge-computed" in seg]
    assert "computed from the cited figures" in computed
    assert '<span aria-hidden="true">=</span>' in computed
    assert "<script" not in page


def test_no_coverage_line_when_the_question_has_no_parts() -> None:
    page = render_conversation([Turn(QUESTION, make_answer(plan={"described": "Question: x", "slots": []}))])
    assert "answers " not in page
    assert "Understood as: <span" in page
    vague = make_answer(plan={"kind": "other", "described": "Question: the answer of Stargate", "slots": []})
    assert "Understood as" not in render_conversation([Turn(QUESTION, vague)])


def test_headings_quoted_as_sentences_are_not_shown() -> None:
    passage = "Stargate is a joint venture for AI data centres.\nStargate at a glance\nItem | Detail\nFounded | 2025"
    text = "Stargate is a joint venture for AI data centres [1]. Stargate at a glance [1]."
    claims = [
        Claim("Stargate is a joint venture for AI data centres.", [1], "supported", 0.9, []),
        Claim("Stargate at a glance.", [1], "supported", 0.9, []),
    ]
    citation = Citation(1, "d", "c", "s.html", "Stargate", None, 0, len(passage), passage)
    answer = make_answer(passage, answer=text, claims=claims, citations=[citation], grounding=1.0)
    segments = answer_segments(answer, 1)
    assert len(segments) == 1
    assert "at a glance" not in "".join(segments)
    page = render_conversation([Turn(QUESTION, answer)]) + render_sources([Turn(QUESTION, answer)])
    assert "Stargate at a glance." not in page  # not an answer sentence, nor "cited for"
    assert "grounded 100% (1 of 1 sentences)" in page
    assert "at a glance" not in plain_answer(answer)  # nor copied


def test_markdown_passage_is_formatted_and_marks_cover_only_its_text() -> None:
    passage = (
        "# OpenAI's round\n\nThree investors:\n\n| Investor | Amount |\n|---|---|\n| Amazon | $50 billion |\n"
        f"| **Total** | **$110 billion** |\n\n**Staged.** Amazon pays <b>later</b>.\n- first {SCRIPT}\n- second"
    )
    start = passage.index("| Amazon")
    end = passage.index("billion** |") + len("billion**")
    html = passage_html(passage, [(start, end)])
    assert '<div class="p-h p-h1">OpenAI&#x27;s round</div>' in html
    assert "<tr><th>Investor</th><th>Amount</th></tr>" in html
    assert "<td><mark>Amazon</mark></td><td><mark>$50 billion</mark></td>" in html
    assert "<td><strong><mark>Total</mark></strong></td><td><strong><mark>$110 billion</mark></strong></td>" in html
    assert "**" not in html
    assert "|" not in html
    assert "---" not in html
    assert "# " not in html
    assert "<strong>Staged.</strong> Amazon pays &lt;b&gt;later&lt;/b&gt;." in html
    assert '<ul class="p-list"><li>first &lt;script&gt;' in html
    assert "<script" not in html
    assert all(not mark.startswith(("|", "*", " ")) for mark in re.findall(r"<mark>(.*?)</mark>", html))


def test_loader_table_rows_become_a_table() -> None:
    html = passage_html("Stargate at a glance\nItem | Detail\nFounded | 2025\nAfter the table.", [])
    assert "<table><tr><td>Item</td><td>Detail</td></tr><tr><td>Founded</td><td>2025</td></tr></table>" in html
    assert "<p>After the table.</p>" in html


def test_an_over_long_question_is_cut_in_its_bubble() -> None:
    turn = Turn("y" * 20_000, error="The question is 20,000 characters long.", error_kind="notice")
    page = render_conversation([turn])
    assert len(page) < 2_000
    assert "… (20,000 characters)" in page
    assert '<div class="notice-msg" role="status">' in page


def test_refused_questions_are_notices_and_failures_are_errors() -> None:
    from ui.chat_tab import failed_turn

    notice = failed_turn("x", ValueError("'x' is too short to search the documents for"))
    assert notice.error_kind == "notice"
    assert notice.error == "'x' is too short to search the documents for."
    failure = failed_turn("q", RuntimeError("Chroma is down"))
    assert failure.error_kind == "error"
    assert failure.error == "Could not answer: Chroma is down"


def test_pipeline_refuses_over_long_and_meaningless_questions(seed_pipeline: Any) -> None:
    with pytest.raises(ValueError, match=r"20,000 characters long; the limit is 1,000"):
        seed_pipeline.answer("Who invested? " + "y" * 19_986)
    for vague in ("x", "??", "what?", "and it?"):
        with pytest.raises(ValueError, match="too short to search the documents for"):
            seed_pipeline.answer(vague, history=[QUESTION])
    assert seed_pipeline.answer("Who is xAI?", options=AskOptions(generator="extractive")).question == "Who is xAI?"


# -- uploads ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\..\\secrets.md",
        "notes/../../x.md",
        "..",
        ".",
        "",
        "/",
        "\x00",
        "report.exe",
    ],
)
def test_unsafe_upload_names_are_refused(name: str) -> None:
    with pytest.raises(UploadError):
        safe_upload_name(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/etc/cron.d/job.md", "job.md"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("evil\x00.md", "evil.md"),
        (".hidden.md", "hidden.md"),
        ("bad\nname\r\t.txt", "badname.txt"),
        ("a<b>|c?.md", "a_b__c_.md"),
        ("Résumé 2024.DOCX", "Résumé 2024.docx"),
        ("x" * 400 + ".md", "x" * 147 + ".md"),
    ],
)
def test_upload_names_are_made_safe(name: str, expected: str) -> None:
    assert safe_upload_name(name) == expected


def test_store_upload_stays_inside_the_uploads_folder(tmp_path: Path) -> None:
    source = tmp_path / "incoming"
    source.write_text("Zephyr Capital invested $12 million.", encoding="utf-8")
    folder = tmp_path / "data" / "uploads"
    stored = store_upload(source, folder, 1.0, name="/var/tmp/zephyr.md")
    assert stored == (folder / "zephyr.md").resolve()
    assert stored.read_text(encoding="utf-8").startswith("Zephyr")
    with pytest.raises(UploadError):
        store_upload(source, folder, 1.0, name="../../etc/passwd.md")
    outside = tmp_path / "outside.md"
    outside.write_text("do not overwrite", encoding="utf-8")
    (folder / "planted.md").symlink_to(outside)
    with pytest.raises(UploadError):
        store_upload(source, folder, 1.0, name="planted.md")
    assert outside.read_text(encoding="utf-8") == "do not overwrite"
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(UploadError, match="limit"):
        store_upload(big, folder, 0.001, name="big.txt")
    assert sorted(p.name for p in folder.iterdir()) == ["planted.md", "zephyr.md"]  # no temp files left
    assert not remove_upload(str(outside), folder)
    assert outside.exists()
    assert remove_upload(str(stored), folder)


def test_failed_uploads_are_named_by_file_not_by_server_path(tmp_path: Path) -> None:
    from rag.types import FileFailure, IngestReport
    from ui.documents_tab import ingest_status, public_failure

    folder = tmp_path / "data" / "uploads"
    path = str(folder / "fake.pdf")
    failure = FileFailure(path, f"could not parse: PdfiumError: {path} is not a PDF (in {folder})")
    shown = public_failure(failure, folder)
    assert shown == "fake.pdf: could not parse: PdfiumError: fake.pdf is not a PDF (in the uploads folder)"
    assert str(tmp_path) not in shown
    nothing = ingest_status(IngestReport(files=1, failed=[failure]), [], folder)
    assert "Nothing was added:" in nothing
    assert "<li>fake.pdf: could not parse" in nothing
    assert str(tmp_path) not in nothing
    some = ingest_status(IngestReport(files=2, added=3, failed=[failure]), ["x.exe: unsupported file type"], folder)
    assert "Indexed 1 file: 3 chunks added" in some
    assert "Not indexed:" in some
    assert "x.exe: unsupported file type" in some


def test_a_documents_facts_are_listed_with_the_sentence_they_come_from(seed_pipeline: Any) -> None:
    from ui.documents_tab import document_facts, facts_html

    [record] = seed_pipeline.documents()
    facts = document_facts(seed_pipeline, record.path)
    assert facts
    assert {f.path for f in facts} == {record.path}
    assert [f.sentence_start for f in facts] == sorted(f.sentence_start for f in facts)
    nvidia = next(f for f in facts if f.counterparty == "Nvidia")
    page = facts_html(facts, record.source)
    assert f"{len(facts)} financing facts extracted from {record.source}" in page
    assert "<th>Counterparty</th>" in page
    assert "<th>Stated as</th>" in page
    [row] = [r for r in page.split("<tr>") if "<td>Nvidia</td>" in r]
    assert f"<td>{nvidia.subject}</td><td>investor</td><td>Nvidia</td>" in row
    assert "<mark>Nvidia</mark>" in row  # the name is marked in the sentence it was read from
    assert document_facts(seed_pipeline, "corpus/not-indexed.md") == []
    assert "No financing facts were extracted from empty.md" in facts_html([], "empty.md")


def test_facts_from_a_hostile_document_are_shown_as_text() -> None:
    from rag.financing.model import FinancingFact
    from ui.documents_tab import facts_html

    sentence = f"{SCRIPT} raised $7 million from Basalt Ventures."
    fact = FinancingFact(
        "d", "docs/x.md", "x.md", SCRIPT, "investment", 7e6, "USD", "$7 million", f"Basalt {SCRIPT}",
        "Seed", "2023", 0, 0, 0, len(sentence), sentence,
    )  # fmt: skip
    page = facts_html([fact], f"x{SCRIPT}.md")
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "<mark>$7 million</mark>" in page


def test_generators_that_cannot_run_are_offered_disabled_with_a_hint() -> None:
    from rag.config import GeneratorSettings
    from ui.generators import generator_choices, unavailable_generators, unavailable_html

    missing = GeneratorSettings(local_model_path="/nonexistent/model.gguf")
    off = unavailable_generators(missing)
    assert set(off) == {"local", "openai"}
    assert "RAG_OPENAI_BASE_URL" in off["openai"]
    assert "RAG_LOCAL_MODEL" in off["local"]
    offered, selected, hints = generator_choices(missing)
    assert offered == ["auto", "extractive"]
    assert selected == "auto"
    html = unavailable_html(hints)
    assert html.count('aria-disabled="true"') == 2
    assert "not available here" in html
    hosted = GeneratorSettings(name="openai", openai_base_url="http://127.0.0.1:9/v1")
    assert "openai" not in unavailable_generators(hosted)
    configured_but_broken = GeneratorSettings(name="local", local_model_path="/nonexistent/model.gguf")
    assert "local" in generator_choices(configured_but_broken)[0]  # the server's own setting stays visible


def test_auth_from_env() -> None:
    from ui.app import auth_from_env

    assert auth_from_env({}) is None
    assert auth_from_env({"RAG_UI_AUTH": "alice:pa:ss"}) == ("alice", "pa:ss")
    for bad in ("alice", ":pw", "alice:"):
        with pytest.raises(ValueError, match="user:password"):
            auth_from_env({"RAG_UI_AUTH": bad})


def test_library_does_not_import_the_ui() -> None:
    pattern = re.compile(r"^\s*(?:from|import)\s+ui\b", re.MULTILINE)
    root = Path(__file__).resolve().parents[1] / "rag"
    offenders = [
        p.name for p in root.glob("*.py") if p.name != "cli.py" and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


# -- the running app ------------------------------------------------------------------------------
@pytest.fixture
def served(seed_pipeline: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[str]:
    """The app over the seed article on a free loopback port; ``RAG_UI_AUTH`` from the test's param."""
    from ui.app import build_ui

    auth = getattr(request, "param", "")
    if auth:
        monkeypatch.setenv("RAG_UI_AUTH", auth)
    else:
        monkeypatch.delenv("RAG_UI_AUTH", raising=False)
    demo = build_ui(seed_pipeline)
    port = free_port()
    demo.launch(server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def test_ask_endpoint_returns_the_answer_json(served: str) -> None:
    from gradio_client import Client

    client = Client(served, verbose=False)
    result = client.predict(QUESTION, generator="extractive", api_name="/ask")
    assert result["question"] == QUESTION
    assert "SoftBank" in result["answer"]
    assert not result["abstained"]
    assert {c["n"] for c in result["citations"]} >= {int(n) for n in re.findall(r"\[(\d+)\]", result["answer"])}
    assert all(c["verdict"] in ("supported", "miscited", "not_factual") for c in result["claims"])
    follow = client.predict(
        "and how much did Nvidia put in?",
        history=[result["standalone_question"]],
        generator="extractive",
        api_name="/ask",
    )
    assert follow["standalone_question"] != follow["question"]
    assert "OpenAI" in follow["standalone_question"]


def test_ask_endpoint_errors_are_typed_and_readable(
    served: str, seed_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradio_client import Client

    from rag.index.chroma_client import StoreError

    client = Client(served, verbose=False)
    with pytest.raises(Exception, match=r"^invalid_request: 'x' is too short"):
        client.predict("x", api_name="/ask")
    with pytest.raises(Exception, match=r"^invalid_request: the question is 20,000 characters long"):
        client.predict("y" * 20_000, api_name="/ask")
    with pytest.raises(Exception, match=r"^generator_unavailable: .*RAG_OPENAI_BASE_URL"):
        client.predict(QUESTION, generator="openai", api_name="/ask")

    def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("cannot reach the Chroma server at http://127.0.0.1:9")

    monkeypatch.setattr(seed_pipeline.retriever, "retrieve", down)
    with pytest.raises(Exception, match=r"^store_unavailable: cannot reach the Chroma server"):
        client.predict(QUESTION, generator="extractive", api_name="/ask")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(seed_pipeline.retriever, "retrieve", broken)
    with pytest.raises(Exception, match=r"^internal_error: the server failed while answering \(KeyError"):
        client.predict(QUESTION, generator="extractive", api_name="/ask")


def test_ask_endpoint_documents_its_return_schema(served: str) -> None:
    import httpx

    info = httpx.get(served + "gradio_api/info", timeout=10).json()
    ask = info["named_endpoints"]["/ask"]
    [returned] = ask["returns"]
    schema = returned["type"]
    assert schema["type"] == "object"
    assert {"answer", "claims", "citations", "grounding", "plan", "coverage", "missing"} <= set(schema["properties"])
    verdicts = schema["properties"]["claims"]["items"]["properties"]["verdict"]["enum"]
    assert "computed" in verdicts
    assert "generator_unavailable" in ask["description"]


def test_api_schema_lists_every_answer_field() -> None:
    from dataclasses import fields

    from rag.types import Answer, Citation, Claim, Evidence
    from ui.api import AnswerJSON, CitationJSON, ClaimJSON, EvidenceJSON

    pairs: list[tuple[Any, Any]] = [(AnswerJSON, Answer), (CitationJSON, Citation), (ClaimJSON, Claim)]
    for declared, data in [*pairs, (EvidenceJSON, Evidence)]:
        assert list(declared.__annotations__) == [f.name for f in fields(data)]


CONCURRENT_QUESTIONS = (
    QUESTION,
    "What are Google's advantages in AI?",
    "What does xAI rely on to form a data closed loop?",
    "What is Anthropic's capital structure reliant on?",
    "What strategy does Meta pursue with its LLaMA models?",
    "When was OpenAI established?",
    "When did OpenAI establish its capped-profit structure?",
    "What are OpenAI's current commercialization paths?",
    "What may training a cutting-edge model require?",
    "What could OpenAI face if profitability falls below capital expectations?",
    "How does Google fund its large model research?",
    "What does Anthropic emphasize compared to OpenAI?",
    "What are the two paths in AI competition?",
    "How might the AI industry structure evolve?",
    "What did Microsoft's early strategic investment do for OpenAI?",
    "What is OpenAI's disadvantage compared with xAI?",
    "What does the conclusion say about capital and the future of AI?",
    "What will the next five years determine?",
    "What kind of platform is OpenAI becoming?",
    "What does the capital structure of the latest round provide besides funds?",
)


def test_twenty_concurrent_users_get_their_own_answers(served: str, seed_pipeline: Any) -> None:
    """20 API users at once: each gets exactly the answer it gets alone (the extractive path is deterministic)."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    alone = {
        q: seed_pipeline.answer(q, options=AskOptions(generator="extractive")).answer for q in CONCURRENT_QUESTIONS
    }

    def ask(question: str) -> dict[str, Any]:
        result: dict[str, Any] = Client(served, verbose=False).predict(
            question, generator="extractive", api_name="/ask"
        )
        return result

    with ThreadPoolExecutor(max_workers=len(CONCURRENT_QUESTIONS)) as pool:
        results = list(pool.map(ask, CONCURRENT_QUESTIONS))
    assert [r["question"] for r in results] == list(CONCURRENT_QUESTIONS)
    assert [r["answer"] for r in results] == [alone[q] for q in CONCURRENT_QUESTIONS]
    assert len({r["answer"] for r in results}) > len(CONCURRENT_QUESTIONS) // 2


@pytest.mark.parametrize("served", ["alice:s3cret"], indirect=True)
def test_login_is_required_when_rag_ui_auth_is_set(served: str) -> None:
    import httpx
    from gradio_client import Client

    assert os.environ["RAG_UI_AUTH"] == "alice:s3cret"
    assert httpx.get(served + "config", timeout=10).status_code == 401
    with pytest.raises(Exception, match=r"(?i)login|auth|401|unauthori"):
        Client(served, verbose=False)
    with pytest.raises(Exception, match=r"(?i)login|auth|401|unauthori|incorrect"):
        Client(served, auth=("alice", "wrong"), verbose=False)
    client = Client(served, auth=("alice", "s3cret"), verbose=False)
    result = client.predict(QUESTION, generator="extractive", api_name="/ask")
    assert "SoftBank" in result["answer"]


def test_per_request_settings_do_not_touch_the_shared_pipeline(seed_pipeline: Any) -> None:
    from ui.app import Assistant

    before = seed_pipeline.settings
    assistant = Assistant(seed_pipeline)
    answer = assistant.answer(QUESTION, strict=True, generator="extractive", top_k=3, hybrid=False, rerank=True)
    assert "SoftBank" in answer.answer
    assert len(answer.retrieved_ids) == 3
    assert seed_pipeline.settings is before
    with pytest.raises(ValueError, match="unknown generator"):
        assistant.answer(QUESTION, generator="gpt-17")
    with pytest.raises(ValueError, match="top_k"):  # issue 16: -5 was clamped to 1 and answered
        assistant.answer(QUESTION, top_k=-5)


def test_evaluation_tab_runs_a_question_set_into_a_run_dir(seed_pipeline: Any, tmp_path: Path) -> None:
    import json

    from ui.evaluation_tab import run_evaluation, view_run

    questions = tmp_path / "mini.jsonl"
    rows = [
        {
            "id": "panews-founded",
            "question": "When was OpenAI established, according to PANews?",
            "answer": "In 2015.",
            "evidence": [{"source": "panews-openai-super-financing.txt", "quote": "Since its establishment in 2015"}],
            "tags": ["txt"],
        },
        {"id": "none", "question": "What did Zorblax Corp raise in 1850?", "answer": None, "unanswerable": True},
    ]
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ticks: list[tuple[Any, ...]] = []
    run_dir, metrics = run_evaluation(
        seed_pipeline, questions, progress=lambda *a, **k: ticks.append(a), generator="extractive"
    )
    assert run_dir.is_relative_to(seed_pipeline.settings.store.data_dir)
    assert metrics["n.questions"] == 2
    assert (run_dir / "report.html").is_file()
    table, charts, report = view_run(run_dir)
    assert "2 questions" in table
    assert "Right passage first" in table
    assert "How often the passage that holds the answer was the first one found." in table
    assert "Right to decline" in table  # the set has an unanswerable question
    assert "<img" in charts
    assert report == str(run_dir / "report.html")
    assert ticks[-1][0] == (2, 2)


def test_metrics_that_do_not_apply_are_left_out() -> None:
    from ui.metrics import left_out, metric_rows

    measured = {"overall.correct": 0.7, "abstention.precision": 1.0, "abstention.recall": 1.0, "retrieval.mrr": 0.5}
    only_answerable = {**measured, "n.questions": 10, "n.answerable": 10, "n.unanswerable": 0}
    labels = [label for label, _, _ in metric_rows(only_answerable)]
    assert labels == ["Correct", "Rank of the first right passage"]
    assert "not measured" in left_out(only_answerable)
    mixed = {**measured, "n.questions": 10, "n.answerable": 8, "n.unanswerable": 2}
    assert "Right to decline" in [label for label, _, _ in metric_rows(mixed)]
    assert left_out(mixed) == ""


def test_evaluation_tab_starts_with_what_to_do(tmp_path: Path) -> None:
    from ui.evaluation_tab import empty_state

    questions = tmp_path / "mine.jsonl"
    questions.write_text('{"question": "a?"}\n{"question": "b?"}\n', encoding="utf-8")
    run = (tmp_path / "runs" / "20260101-mine").resolve()
    html = empty_state([questions], [run])
    assert "No evaluation open yet" in html
    assert "mine.jsonl (2 questions)" in html
    assert str(run) in html
    assert "No question set was found" in empty_state([], [])
