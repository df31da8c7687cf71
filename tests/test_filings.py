"""Real-filing retrieval (issue 15): contextual headers, synonyms, routing, page grouping, the measurement script.

The filings are small 10-K-like PDFs drawn here with reportlab (a cover page naming the
registrant, form and fiscal year, then statement pages), so the tests need none of the
FinanceBench files; ingestion and retrieval use the real embedding model and a real Chroma.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from rag.ingest.context import CONTEXT_KEY, FILER_KEY, DocumentContext, indexed_text, page_heading
from rag.ingest.loaders import LoadError, load_file
from rag.retrieval.expansion import SYNONYMS, expand_query, expansions
from rag.retrieval.hybrid import boost_documents, collapse_pages, page_key, reciprocal_rank_fusion
from rag.retrieval.routing import Router, name_tokens, years_in
from rag.types import Chunk, Hit

from conftest import make_settings

REPO = Path(__file__).resolve().parent.parent

FILLER = (
    "The Company designs, manufactures and sells products through its retail and wholesale channels. "
    "Management reviews performance by segment and allocates resources accordingly. "
)


def _cover(company: str, year: int) -> list[str]:
    return [
        "UNITED STATES",
        "SECURITIES AND EXCHANGE COMMISSION",
        "FORM 10-K",
        f"For the fiscal year ended December 31, {year}",
        company,
        "(Exact name of registrant as specified in its charter)",
    ]


def _cash_flow_page(company: str, year: int, capex: int) -> list[str]:
    return [
        f"{company.upper()} AND SUBSIDIARIES",
        "CONSOLIDATED STATEMENTS OF CASH FLOWS",
        "(Amounts in millions)",
        f"Net income {capex * 3} {capex * 2}",
        f"Purchases of property, plant and equipment ({capex}) ({capex - 7})",
        f"Net cash used in investing activities ({capex + 40}) ({capex + 12})",
        *(f"Other operating item {n} {capex + n} {capex - n}" for n in range(1, 30)),
    ]


def write_pdf(path: Path, pages: list[list[str]], encrypt_user: str | None = None) -> Path:
    """One PDF page per list of lines (reportlab); optionally RC4-encrypted with pypdf (no AES library needed)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    drawing = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    for lines in pages:
        y = 740
        for line in lines:
            drawing.drawString(60, y, line)
            y -= 16
        drawing.showPage()
    drawing.save()
    if encrypt_user is not None:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(str(path)))
        writer.encrypt(user_password=encrypt_user, owner_password="owner-secret", algorithm="RC4-128")
        writer.write(str(path))
    return path


def write_filing(folder: Path, stem: str, company: str, year: int, capex: int) -> Path:
    lines = [FILLER[i : i + 90] for i in range(0, len(FILLER), 90)]
    filler = [[f"Item {n}. Business overview", *lines * 12] for n in (1, 2, 3)]
    return write_pdf(folder / f"{stem}.pdf", [_cover(company, year), *filler, _cash_flow_page(company, year, capex)])


# -- loading --------------------------------------------------------------------------------
def test_pdf_encrypted_with_an_empty_password_opens_with_its_pages(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "locked.pdf", [["Cover page"], [], ["Statement page"]], encrypt_user="")
    assert b"/Encrypt" in path.read_bytes()
    document = load_file(path)
    assert len(document.page_starts) == 3  # the empty second page keeps its number
    assert document.page_at(document.text.index("Statement page")) == 3
    secret = write_pdf(tmp_path / "secret.pdf", [["Private"]], encrypt_user="hunter2")
    with pytest.raises(LoadError, match="password-protected"):
        load_file(secret)


def test_docx_tables_stay_where_they_are_in_the_body(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Revenue by segment is shown below.")
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Segment", (0, 1): "Revenue", (1, 0): "Retail", (1, 1): "120"}.items():
        table.cell(r, c).text = text
    document.add_paragraph("Retail grew fastest.")
    document.save(str(tmp_path / "memo.docx"))
    text = load_file(tmp_path / "memo.docx").text
    assert text.index("shown below") < text.index("Segment | Revenue") < text.index("Retail | 120")
    assert text.index("Retail | 120") < text.index("Retail grew fastest")


# -- contextual headers ---------------------------------------------------------------------
def test_headers_name_the_filer_and_the_statement_without_touching_the_text(tmp_path: Path) -> None:
    path = write_filing(tmp_path, "ZEPHYR_2021_10K", "Zephyr Widgets, Inc.", 2021, 412)
    context = DocumentContext(load_file(path))
    assert context.filer == "Zephyr Widgets, Inc. | Form 10-K | December 31, 2021"
    header = context.header(5)
    assert "ZEPHYR 2021 10K" in header
    assert "CONSOLIDATED STATEMENTS OF CASH FLOWS" in header
    assert page_heading("Table of Contents\nBALANCE SHEETS\n(in millions)\n" + "x" * 200) == (
        "BALANCE SHEETS | (in millions)"
    )
    chunk = Chunk("c", "d", "Purchases 412", "p", "s", "t", 5, 0, 13, extra={CONTEXT_KEY: header})
    assert indexed_text(chunk) == f"{header}\nPurchases 412"
    assert indexed_text(Chunk("c", "d", "plain", "p", "s", "t", None, 0, 5)) == "plain"


def test_plain_documents_get_no_header(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text("# Note\n\nThe ferry leaves at nine.\n")
    assert DocumentContext(load_file(tmp_path / "note.md")).header(None) == ""
    brief = DocumentContext(load_file(write_pdf(tmp_path / "brief.pdf", [["OpenAI raised"], ["SoftBank led"]])))
    assert not brief.paged
    assert brief.header(2) == ""


# -- query side -----------------------------------------------------------------------------
def test_synonyms_expand_the_keyword_query() -> None:
    assert "purchases of property, plant and equipment" in expansions("What was FY2021 capital expenditure?")
    assert "earnings per share" in expansions("How did EPS change?")
    assert "cost of sales" in expansions("What is the COGS?")
    assert expansions("Who is on the board?") == []
    assert expand_query("Who is on the board?") == "Who is on the board?"
    assert expansions("capexes and revenuesharing") == []  # whole words only
    assert all(len(group) >= 2 and all(name == name.lower() for name in group) for group in SYNONYMS)


def _chunk(chunk_id: str, doc: str, page: int | None, filer: str = "", source: str = "f.pdf") -> Chunk:
    """A chunk of a filing or long PDF when it has a page (those carry a header), else of a plain document."""
    extra = {FILER_KEY: filer} if filer else {}
    if page is not None:
        extra[CONTEXT_KEY] = "header"
    return Chunk(chunk_id, doc, "text", "p", source, "t", page, 0, 4, extra=extra)


def test_router_restricts_to_the_named_filer_and_prefers_its_year() -> None:
    chunks = [
        _chunk("a1", "A19", 1, "Activision Blizzard, Inc. | Form 10-K | 2019", "ACTIVISIONBLIZZARD_2019_10K.pdf"),
        _chunk("j1", "J21", 1, "JPMorgan Chase & Co. | Form 10-Q", "JPMORGAN_2021Q1_10Q.pdf"),
        _chunk("j2", "J22", 1, "JPMorgan Chase & Co. | Form 10-Q", "JPMORGAN_2022Q2_10Q.pdf"),
        _chunk("n1", "brief", None),
    ]  # fmt: skip
    router = Router.build(chunks)
    assert router.doc_of["j2"] == "J22"
    assert router.unrouted == {"brief"}
    route = router.route("What is the FY2019 fixed asset turnover ratio for Activision Blizzard?")
    assert route.allowed == {"A19", "brief"}
    assert route.preferred == {"A19"}
    route = router.route("In 2022 Q2, which of JPM's business segments had the highest net income?")
    assert route.allowed == {"J21", "J22", "brief"}
    assert route.preferred == {"J22"}
    assert router.route("Which segment grew fastest?").allowed is None
    assert Router.build(chunks[:1]).route("Activision Blizzard revenue?").allowed is None  # one filer: no choice
    assert "americanwaterworks" in name_tokens("American Water Works Company, Inc.")
    assert "inc" not in name_tokens("Adobe Inc.")
    assert years_in("FY22 and 2019") == {"2022", "2019"}


def test_pages_count_once_in_fusion_and_named_years_rise() -> None:
    a1, a2, b1, c = _chunk("a1", "A", 1), _chunk("a2", "A", 1), _chunk("b1", "B", 3), _chunk("c", "C", None)
    assert page_key(a1) == page_key(a2) != page_key(c)
    short_pdf = Chunk("s", "S", "text", "p", "brief.pdf", "t", 1, 0, 4)  # a two-page brief: no header, no grouping
    assert page_key(short_pdf) == "s"
    assert [x.id for x, _ in collapse_pages([(a1, 0.9), (a2, 0.8), (b1, 0.7), (c, 0.6)])] == ["a1", "b1", "c"]
    fused = reciprocal_rank_fusion({"dense": [(a1, 0.9), (b1, 0.8)], "bm25": [(a2, 5.0), (c, 4.0)]}, k=60, key=page_key)
    assert [x.id for x, _, _ in fused] == ["a1", "b1", "c"]  # a2 is a1's page: fused into it
    weighted = reciprocal_rank_fusion({"dense": [(a1, 0.9)], "bm25": [(c, 4.0)]}, weights={"dense": 0.5})
    assert [x.id for x, _, _ in weighted] == ["c", "a1"]
    assert [x.id for x, _, _ in boost_documents(fused, frozenset({"C"}), 0.5)] == ["a1", "c", "b1"]


# -- end to end -----------------------------------------------------------------------------
@pytest.fixture
def filings(tmp_path: Path) -> Path:
    folder = tmp_path / "filings"
    folder.mkdir()
    write_filing(folder, "ZEPHYR_2021_10K", "Zephyr Widgets, Inc.", 2021, 412)
    write_filing(folder, "BOREALIS_2021_10K", "Borealis Freight Corporation", 2021, 977)
    write_filing(folder, "ZEPHYR_2020_10K", "Zephyr Widgets, Inc.", 2020, 388)
    return folder


def test_capex_question_finds_the_named_filers_cash_flow_page(filings: Path, pipeline_factory, tmp_path: Path) -> None:
    pipeline = pipeline_factory(make_settings(tmp_path / "data"))
    report = pipeline.ingest([filings])
    assert not report.failed
    chunks = list(pipeline.store.iter_chunks())
    for chunk in chunks:  # headers sit beside the text, never in it
        assert chunk.extra[CONTEXT_KEY]
        assert chunk.extra[CONTEXT_KEY] not in chunk.text
        document = load_file(Path(chunk.path))
        assert document.text[chunk.start : chunk.end] == chunk.text
    for mode in ("hybrid", "bm25", "dense"):
        hits = pipeline.retriever.retrieve("What was Zephyr's FY2021 capital expenditure?", top_k=5, mode=mode)
        assert (hits[0].chunk.source, hits[0].chunk.page) == ("ZEPHYR_2021_10K.pdf", 5), mode
        assert {hit.chunk.source for hit in hits} <= {"ZEPHYR_2021_10K.pdf", "ZEPHYR_2020_10K.pdf"}
        assert len({page_key(hit.chunk) for hit in hits}) == len(hits)


def test_filings_script_measures_both_systems_in_one_run(filings: Path, tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "eval"))
    import filings as script

    questions = tmp_path / "questions.jsonl"
    rows: list[dict[str, Any]] = [
        {"id": "q1", "question": "What was Borealis Freight's FY2021 capital expenditure?",
         "doc_name": "BOREALIS_2021_10K", "evidence": [{"doc_name": "BOREALIS_2021_10K", "page": 5}]},
        {"id": "q2", "question": "What is Zephyr Widgets' fiscal year end in its 2020 annual report?",
         "doc_name": "ZEPHYR_2020_10K", "evidence": [{"doc_name": "ZEPHYR_2020_10K", "page": 1}]},
    ]  # fmt: skip
    questions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out"
    assert script.main(["--pdfs", str(filings), "--questions", str(questions), "--out", str(out)]) == 0
    payload = json.loads((out / "filings.json").read_text())
    names = [system["name"] for system in payload["systems"]]
    assert names == ["llama-index (plain)", "ours: hybrid", "ours: dense", "ours: bm25", "ours: hybrid+rerank"]
    ours = payload["systems"][1]
    assert ours["metrics"]["page_hit@5"] == 1.0
    assert ours["metrics"]["doc_hit@5"] == 1.0
    assert "| llama-index (plain) |" in (out / "filings.md").read_text()


def test_scores_are_page_and_document_hits() -> None:
    sys.path.insert(0, str(REPO / "eval"))
    import filings as script

    question = script.Question("q", "?", "A", frozenset({("A", 3)}))
    result = script.score("x", 10, 1.0, [question], [[("B", 3), ("A", 2), ("A", 3)]], [5.0])
    assert result.metrics == {"page_hit@1": 0.0, "page_hit@5": 1.0, "page_hit@10": 1.0,
                              "doc_hit@5": 1.0, "doc_hit@10": 1.0}  # fmt: skip
    assert result.first_gold_rank == {"q": 3}


def test_rag_eval_reads_financebench_page_evidence(tmp_path: Path) -> None:
    from rag.evaluation.gold import CorpusTexts, locate_gold
    from rag.evaluation.questions import parse_question

    write_pdf(tmp_path / "ACME_2021_10K.pdf", [["Cover"], ["Balance sheet", "Total assets 100"]])
    line = {"id": "fb1", "question": "What are Acme's total assets?", "answer": "$100", "doc_name": "ACME_2021_10K",
            "evidence": [{"doc_name": "ACME_2021_10K", "page": 2, "evidence_text": "Total assets 100"}]}  # fmt: skip
    question = parse_question(line)
    assert question.evidence[0].source == "ACME_2021_10K.pdf"
    assert question.evidence[0].page == 2
    texts = CorpusTexts(tmp_path)
    gold, warnings = locate_gold([question], texts)
    text = texts.text("ACME_2021_10K.pdf") or ""
    assert text[gold["fb1"][0].start : gold["fb1"][0].end].strip() == "Balance sheet\nTotal assets 100"
    assert not warnings
    line["evidence"] = [{"doc_name": "ACME_2021_10K", "page": 9}]
    assert locate_gold([parse_question(line)], texts)[1] == {"fb1": ["evidence page 9 not found in ACME_2021_10K.pdf"]}
    with pytest.raises(ValueError, match="page number"):
        parse_question({**line, "evidence": [{"doc_name": "ACME_2021_10K", "page": 0}]})


# -- metric answers from statement rows -------------------------------------------------------
# Activision Blizzard's 2019 10-K, pages 69, 70 and 73, as the PDF loader reads them (shortened).
BALANCE_SHEET = """Table of Contents
ACTIVISION BLIZZARD, INC. AND SUBSIDIARIES
CONSOLIDATED BALANCE SHEETS
(Amounts in millions, except share data)
At December 31, 2019 At December 31, 2018
Assets
Current assets:
Cash and cash equivalents $ 5,794 $ 4,225
Inventories, net 32 43
Total current assets 7,292 6,106
Property and equipment, net 253 282
Total assets $ 19,845 $ 17,890
Total current liabilities 2,915 2,642"""
INCOME_STATEMENT = """Table of Contents
ACTIVISION BLIZZARD, INC. AND SUBSIDIARIES
CONSOLIDATED STATEMENTS OF OPERATIONS
(Amounts in millions, except per share data)
For the Years Ended December 31,
2019 2018 2017
Net revenues
Product sales $ 1,975 $ 2,255 $ 2,110
Total net revenues 6,489 7,500 7,017
Operating income 1,607 1,988 1,309
Interest and other expense (income), net (Note 18) (26) 71 146"""
CASH_FLOWS = """ACTIVISION BLIZZARD, INC. AND SUBSIDIARIES
CONSOLIDATED STATEMENTS OF CASH FLOWS
(Amounts in millions)
For the Years Ended December 31,
2019 2018 2017
Depreciation and amortization 328 509 888
Amortization of capitalized software development costs and intellectual property licenses (1) 225 489 311
Net cash provided by operating activities 1,831 1,790 2,213
Capital expenditures (116) (131) (155)"""


def _statement_pages(*texts: str) -> list[Chunk]:
    filer = "ACTIVISION BLIZZARD, INC. | Form 10-K | December 31, 2019"
    return [
        Chunk(
            f"p{n}", "D", text, "A.pdf", "ACTIVISIONBLIZZARD_2019_10K.pdf", "10-K", n, 0, len(text), {FILER_KEY: filer}
        )
        for n, text in enumerate(texts, start=69)
    ]


def test_statement_page_reads_rows_by_year_column_with_its_unit() -> None:
    from rag.financing.statements import read_statement

    cash = read_statement(CASH_FLOWS)
    assert cash is not None
    assert (cash.kind, cash.scale, cash.years) == ("cash", 1e6, (2019, 2018, 2017))
    capex = re.compile("capital expenditures")
    assert cash.value(capex, 2018) is not None
    assert cash.value(capex, 2018)[0] == -131
    assert cash.value(capex, 2016) is None  # no column for that year
    footnoted = [r for r in cash.rows if r.label.startswith("amortization of capitalized")]
    assert footnoted[0].values == (225, 489, 311)  # "(1)" is a footnote mark, not a figure
    balance = read_statement(BALANCE_SHEET)
    assert balance is not None
    assert (balance.kind, balance.years) == ("balance", (2019, 2018))
    income = read_statement(INCOME_STATEMENT)
    assert income is not None
    assert income.rows[-1].values == (-26, 71, 146)
    assert read_statement("Item 7. Management's discussion\nRevenue grew 5% in 2019 and 3% in 2018.") is None


def test_capex_question_is_answered_from_the_cash_flow_row_in_millions() -> None:
    from rag.generation.metric import answer_metric

    pages = _statement_pages(BALANCE_SHEET, INCOME_STATEMENT, CASH_FLOWS)
    question = "What is the FY2018 capital expenditure of Activision Blizzard, in USD millions?"
    answer = answer_metric(question, [Hit(pages[0], 1.0, 1)], lambda chunk: pages)
    assert answer is not None
    assert not answer.declined
    assert answer.value == 131
    assert [hit.chunk.page for hit in answer.hits] == [71]
    assert "131" in answer.text
    assert answer.text.endswith("[1].")


def test_a_ratio_the_question_defines_is_computed_and_passes_the_arithmetic_check() -> None:
    from rag.generation.metric import answer_metric
    from rag.text.claims import split_claims
    from rag.types import Claim
    from rag.verification.computed import check_computed

    pages = _statement_pages(BALANCE_SHEET, INCOME_STATEMENT, CASH_FLOWS)
    question = (
        "What is Activision Blizzard's FY2019 working capital ratio? Define working capital ratio as total "
        "current assets divided by total current liabilities. Round your answer to two decimal places."
    )
    answer = answer_metric(question, [Hit(pages[0], 1.0, 1)], lambda chunk: pages)
    assert answer is not None
    assert answer.value == pytest.approx(7292 / 2915, abs=0.005)
    assert "(7292 / 2915 = 2.50)" in answer.text
    (sentence,) = split_claims(answer.text)
    cited = [hit.chunk.text for hit in answer.hits]
    checked = check_computed(Claim(sentence.text, sentence.citations, "unsupported", 0.0), cited)
    assert checked.verdict == "computed"
    wrong = check_computed(Claim(sentence.text.replace("2915", "2951"), [1], "unsupported", 0.0), cited)
    assert wrong.verdict == "unsupported"  # an operand no page prints


def test_a_metric_whose_row_is_missing_abstains_and_other_questions_are_left_alone() -> None:
    from rag.generation.metric import answer_metric

    pages = _statement_pages(BALANCE_SHEET, INCOME_STATEMENT)  # no cash flow statement
    ranked = [Hit(pages[0], 1.0, 1)]
    declined = answer_metric("What is Activision Blizzard's FY2019 free cash flow?", ranked, lambda chunk: pages)
    assert declined is not None
    assert declined.declined
    assert not declined.text
    cagr = answer_metric("What is the FY2017-FY2019 revenue CAGR of Activision Blizzard?", ranked, lambda c: pages)
    assert cagr is not None
    assert cagr.declined
    assert answer_metric("Who is Activision Blizzard's CEO in 2019?", ranked, lambda chunk: pages) is None
    brief = Chunk("b", "B", "Anthropic revenue 2024", "b.md", "b.md", "Brief", None, 0, 10)
    assert answer_metric("What was Anthropic's 2024 revenue?", [Hit(brief, 1.0, 1)], lambda c: [brief]) is None


def _statement_filing(folder: Path) -> Path:
    company = "Zephyr Widgets, Inc."
    lines = [FILLER[i : i + 90] for i in range(0, len(FILLER), 90)]
    income = [
        "ZEPHYR WIDGETS, INC. AND SUBSIDIARIES", "CONSOLIDATED STATEMENTS OF OPERATIONS",
        "(In thousands, except per share data)", "Year Ended December 31,", "2021 2020 2019",
        "Total net revenue 9,497,578 4,713,500 3,298,177", "Operating income 218,815 126,557 96,614",
    ]  # fmt: skip
    cash = [
        "ZEPHYR WIDGETS, INC. AND SUBSIDIARIES", "CONSOLIDATED STATEMENTS OF CASH FLOWS", "(In thousands)",
        "Year Ended December 31,", "2021 2020 2019", "Net income 213,105 375,446 38,453",
        "Net cash provided by operating activities 381,603 465,699 295,815",
        "Purchase of property and equipment (138,402) (62,498) (61,203)",
    ]  # fmt: skip
    pages = [_cover(company, 2021), ["Item 1. Business overview", *lines * 12], income, cash]
    return write_pdf(folder / "ZEPHYR_2021_10K.pdf", pages)


def test_metric_questions_on_a_real_pdf_are_answered_with_the_page_or_abstain(pipeline_factory, tmp_path: Path) -> None:
    folder = tmp_path / "filings"
    folder.mkdir()
    _statement_filing(folder)
    write_filing(folder, "BOREALIS_2021_10K", "Borealis Freight Corporation", 2021, 977)
    pipeline = pipeline_factory(make_settings(tmp_path / "data"))
    assert not pipeline.ingest([folder]).failed
    answer = pipeline.answer(
        "According to the cash flow statement, what is Zephyr Widgets' FY2021 free cash flow? "
        "FCF is cash from operations minus capex. Answer in USD millions."
    )
    assert not answer.abstained
    assert "is 243.20 million ((381603 − 138402) / 1000 = 243.20)" in answer.answer
    assert [(c.source, c.page) for c in answer.citations] == [("ZEPHYR_2021_10K.pdf", 4)]
    assert [c.verdict for c in answer.claims] == ["computed"]
    growth = pipeline.answer("What is Zephyr Widgets' FY2020 - FY2021 total revenue growth rate in percent?")
    assert "101.50%" in growth.answer
    assert growth.citations[0].page == 3
    assert [c.verdict for c in growth.claims] == ["computed"]
    average = pipeline.answer("What is Zephyr Widgets' FY2019 - FY2021 3 year average capex as a % of revenue?")
    assert "(138402 / 9497578 × 100 + 62498 / 4713500 × 100 + 61203 / 3298177 × 100) / 3 = 1.55)" in average.answer
    missing = pipeline.answer("What is Zephyr Widgets' FY2021 inventory turnover ratio?")  # no balance sheet
    assert missing.abstained
    assert not missing.citations


def test_an_average_the_question_defines_is_written_with_parentheses_and_rechecked() -> None:
    from rag.generation.metric import answer_metric
    from rag.types import Claim
    from rag.verification.arithmetic import evaluate
    from rag.verification.computed import check_computed

    assert evaluate("(177866 − 135987) / 135987 × 100")[0] == pytest.approx(30.797, abs=1e-3)  # precedence
    assert [o.count for o in evaluate("6489 / ((253 + 282) / 2)")[1]] == [False, False, False, True]
    pages = _statement_pages(BALANCE_SHEET, INCOME_STATEMENT, CASH_FLOWS)
    question = (
        "What is the FY2019 fixed asset turnover ratio for Activision Blizzard? Fixed asset turnover ratio is "
        "defined as: FY2019 revenue / (average PP&E between FY2018 and FY2019). Round your answer to two decimal "
        "places."
    )
    answer = answer_metric(question, [Hit(pages[0], 1.0, 1)], lambda chunk: pages)
    assert answer is not None
    assert "is 24.26 (6489 / ((253 + 282) / 2) = 24.26)" in answer.text
    assert sorted(hit.chunk.page for hit in answer.hits) == [69, 70]
    cited = [hit.chunk.text for hit in answer.hits]
    assert check_computed(Claim(answer.text, [1, 2], "unsupported", 0.0), cited).verdict == "computed"
    unstated = answer.text.replace("/ 2)", "/ 2.5)").replace("= 24.26)", "= 19.40)")
    assert check_computed(Claim(unstated, [1, 2], "unsupported", 0.0), cited).verdict == "unsupported"


def test_a_routed_keyword_search_looks_deeper_when_the_filer_ranks_low(
    filings: Path, pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.retrieval import hybrid

    pipeline = pipeline_factory(make_settings(tmp_path / "data"))
    assert not pipeline.ingest([filings]).failed
    question = "What was Borealis Freight's FY2021 capital expenditure and net income?"

    def ranked(depth: int) -> list[tuple[str, int | None]]:
        monkeypatch.setattr(hybrid, "ROUTED_DEPTH", depth)
        hits = pipeline.retriever.retrieve(question, top_k=8, mode="bm25")
        return [(hit.chunk.source, hit.chunk.page) for hit in hits]

    deep = ranked(1000)
    assert {source for source, _ in deep} == {"BOREALIS_2021_10K.pdf"}
    assert ranked(1) == deep  # a first look too shallow for eight of Borealis' pages is widened, not cut short
