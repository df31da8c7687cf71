"""SEC-filing-like PDFs for the PDF-parsing measurement, and what each page must contain.

Each filing is rendered by reportlab (``invariant=1``: the same bytes every time) from content
drawn like the synthetic articles, with a heading, three or four paragraphs, a footer and, on
every fifth page, a table. Each paragraph opens with a sentence unique to its page, which is how
:func:`benchmark.workers.pdf.page_fidelity` checks that a reader put the text on the right page
and in order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmark.corpus import article_facts, build_once, paragraph

PDF_VERSION = "bench-pdf-v1"
_ITEMS = (
    "Item 1. Business", "Item 1A. Risk Factors", "Item 2. Properties", "Item 3. Legal Proceedings",
    "Item 5. Market for Registrant's Common Equity", "Item 7. Management's Discussion and Analysis",
    "Item 7A. Quantitative and Qualitative Disclosures About Market Risk",
    "Item 8. Financial Statements and Supplementary Data", "Item 9A. Controls and Procedures",
)  # fmt: skip


def pdf_pages_content(doc: int, pages: int) -> list[dict[str, Any]]:
    """Per page: a heading, 3-4 paragraphs (each opening with a page-unique sentence), sometimes a table."""
    rng, facts, year = article_facts(100_000 + doc)
    content = []
    for page in range(1, pages + 1):
        paragraphs = []
        for k in range(rng.randint(3, 4)):
            opener = (
                f"Section {doc + 1}.{page}.{k + 1} reports that {facts['co']} recorded item {rng.randint(100, 999)}."
            )
            paragraphs.append(f"{opener} {paragraph(rng, facts, year, 3, 4)}")
        table = None
        if page % 5 == 0:
            table = [["Quarter", "Revenue ($M)", "Capex ($M)", "Headcount"]] + [
                [f"Q{q} {year}", str(rng.randint(50, 9000)), str(rng.randint(10, 4000)), str(rng.randint(40, 9000))]
                for q in range(1, 5)
            ]
        content.append(
            {"heading": f"{_ITEMS[(page - 1) * len(_ITEMS) // pages]} (continued, page {page})",
             "paragraphs": paragraphs, "table": table}
        )  # fmt: skip
    return content


def ensure_pdfs(cache: Path, n_docs: int, pages: int) -> tuple[list[Path], list[list[list[str]]]]:
    """PDFs made with reportlab once; returns them and, per page, the paragraph openers in order."""
    contents = [pdf_pages_content(d, pages) for d in range(n_docs)]
    markers = [[[p.split(". ")[0] + "." for p in page["paragraphs"]] for page in content] for content in contents]
    names = [f"filing-{d + 1:02d}.pdf" for d in range(n_docs)]

    def write_filings(folder: Path) -> None:
        for d, (name, content) in enumerate(zip(names, contents, strict=True)):
            _write_filing_pdf(folder / name, d, content)

    folder = build_once(cache / f"pdf-{n_docs}x{pages}", PDF_VERSION, write_filings)
    return [folder / name for name in names], markers


def _write_filing_pdf(path: Path, doc: int, content: list[dict[str, Any]]) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _, facts, year = article_facts(100_000 + doc)
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    story: list[Any] = []
    for page in content:
        story.append(Paragraph(page["heading"], styles["Heading2"]))
        for text in page["paragraphs"]:
            story.append(Paragraph(text.replace("&", "&amp;"), body))
            story.append(Spacer(1, 4))
        if page["table"]:
            table = Table(page["table"])
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
            story.append(table)
        story.append(PageBreak())

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(72, 40, f"{facts['co']} | Form 10-K | Fiscal {year} | Page {document.page}")
        canvas.restoreState()

    SimpleDocTemplate(
        str(path), pagesize=letter, title=f"{facts['co']} Form 10-K {year}", invariant=1,
        topMargin=54, bottomMargin=60,
    ).build(story, onFirstPage=footer, onLaterPages=footer)  # fmt: skip
