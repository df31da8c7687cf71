"""The Documents tab: upload (confined to the uploads folder), ingest with progress, list, inspect and delete.

Messages name files as the user knows them (``report.pdf``), never by their
path on the server, and an upload the index refused is removed again, so the
uploads folder holds only files the table lists. Deleting asks first.
Choosing a document shows the financing facts extracted from it at ingest,
each with the sentence it was read from, so a user can see what the answerer
will look up (and spot a misread figure) before asking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from rag.config import Settings
from rag.financing.model import FinancingFact
from rag.generation.evidence import fact_cells
from rag.ingest.loaders import SUPPORTED_SUFFIXES
from rag.pipeline import Pipeline
from rag.types import FileFailure, IngestReport
from ui.render import esc, render_status
from ui.uploads import UploadError, inside, remove_upload, store_upload, uploads_dir


def count(n: int, noun: str) -> str:
    """ "1 file", "3 files"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class DocumentsTab:
    """The components of the Documents tab that its events read and write."""

    files: gr.File
    status: gr.HTML
    summary: gr.Markdown
    table: gr.Dataframe
    chosen: gr.Dropdown
    facts: gr.HTML
    delete: gr.Button
    confirm_box: gr.Group
    confirm_text: gr.HTML
    confirm: gr.Button
    cancel: gr.Button


def documents_tab(pipeline: Pipeline, demo: gr.Blocks) -> None:
    """Lay out and wire the Documents tab inside the current ``gr.Tab``; the listing loads with the page.

    Uploads and deletions share one concurrency slot ("ingest"), so two users
    never write the index at once.
    """
    settings = pipeline.settings
    folder = uploads_dir(settings.store.data_dir)
    tab = _layout(settings)

    def listing() -> tuple[Any, Any, Any]:
        records = pipeline.documents()
        rows = [[r.title or r.source, r.source, r.n_chunks] for r in records]
        choices = [(f"{r.title or r.source} ({r.source})", r.path) for r in records]
        total = sum(r.n_chunks for r in records)
        text = f"**{len(records)} documents, {total} chunks** in the index."
        return text, rows, gr.update(choices=choices, value=None)

    def add(paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Store the uploads safely, then ingest them with a progress bar."""
        from rag.ingest.ingestor import IngestLocked

        if not paths:
            return (gr.skip(), *listing(), gr.skip())
        progress(0, desc="Saving uploads")
        stored, refused = _store_all(paths, folder, settings.ingest.max_file_mb)
        report = None
        if stored:

            def tick(done: int, total: int, source: str) -> None:
                progress((done, total), desc=f"Embedding {source}", unit="chunks")

            try:
                report = pipeline.ingest(stored, progress=tick)
            except IngestLocked as exc:
                refused.append(str(exc))
        unindexed = [f.path for f in report.failed] if report else [str(p) for p in stored]
        for path in unindexed:  # a file the index refused must not linger, unlisted, on disk
            remove_upload(path, folder)
        return (ingest_status(report, refused, folder), *listing(), None)

    listed = [tab.summary, tab.table, tab.chosen]
    tab.files.upload(
        add,
        [tab.files],
        [tab.status, *listed, tab.files],
        api_visibility="private",
        show_progress="full",
        show_progress_on=[tab.status],
        concurrency_limit=1,
        concurrency_id="ingest",
    )
    _wire_delete(tab, pipeline, folder, listing)
    tab.chosen.change(
        lambda path: facts_html(document_facts(pipeline, path), Path(path).name) if path else "",
        [tab.chosen],
        [tab.facts],
        api_visibility="private",
        show_progress="hidden",
    )
    demo.load(listing, None, listed, api_visibility="private", show_progress="hidden")


def _wire_delete(tab: DocumentsTab, pipeline: Pipeline, folder: Path, listing: Callable[[], tuple[Any, ...]]) -> None:
    """Delete asks first (naming the file and what goes with it); only "Yes, delete" removes anything."""

    def ask_first(path: str | None) -> tuple[Any, ...]:
        """The first click on Delete only asks, naming what will go; nothing is removed yet."""
        if not path:
            return render_status("warn", "Choose a document to delete first."), gr.update(visible=False), ""
        record = next((r for r in pipeline.documents() if r.path == path), None)
        chunks = count(record.n_chunks, "chunk") if record else "its chunks"
        uploaded = " and the uploaded file" if inside(Path(path), folder) else ""
        question = (
            f"Delete <b>{esc(Path(path).name)}</b>? Its {chunks}{uploaded} will be removed; this cannot be "
            "undone (upload the file again to restore it)."
        )
        return "", gr.update(visible=True), question

    def remove(path: str | None) -> tuple[Any, ...]:
        """Remove the document's chunks, and its file when it was uploaded here."""
        hide = gr.update(visible=False)
        if not path:
            return (render_status("warn", "Choose a document to delete first."), hide, *listing())
        removed = pipeline.delete_document(path)
        extra = " and its uploaded file" if remove_upload(path, folder) else ""
        message = f"Deleted {Path(path).name}: {count(removed, 'chunk')} left the index{extra}."
        return (render_status("ok", message), hide, *listing())

    listed = [tab.summary, tab.table, tab.chosen]
    tab.delete.click(ask_first, [tab.chosen], [tab.status, tab.confirm_box, tab.confirm_text], api_visibility="private")
    tab.chosen.change(lambda: gr.update(visible=False), None, [tab.confirm_box], api_visibility="private")
    tab.cancel.click(lambda: gr.update(visible=False), None, [tab.confirm_box], api_visibility="private")
    tab.confirm.click(
        remove,
        [tab.chosen],
        [tab.status, tab.confirm_box, *listed],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="ingest",
    )


def _layout(settings: Settings) -> DocumentsTab:
    """The upload box and its status on the left; the document table and the delete control on the right."""
    gr.Markdown(
        f"Upload {', '.join(s.lstrip('.') for s in SUPPORTED_SUFFIXES)} files up to "
        f"{settings.ingest.max_file_mb:g} MB each. They are stored on the server and indexed at once; "
        "uploading a file of the same name again replaces it."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            files = gr.File(
                label="Upload documents",
                file_count="multiple",
                file_types=list(SUPPORTED_SUFFIXES),
                elem_id="upload",
                height=150,
            )
            status = gr.HTML(elem_id="ingest-status")
        with gr.Column(scale=3):
            summary = gr.Markdown(elem_id="doc-summary")
            table = gr.Dataframe(
                headers=["Document", "File", "Chunks"],
                datatype=["str", "str", "number"],
                interactive=False,
                wrap=True,
                elem_id="doc-table",
                max_height=420,
                column_widths=["55%", "33%", "12%"],
            )
            with gr.Row(equal_height=True):
                chosen = gr.Dropdown(
                    label="Choose a document: its facts show below", choices=[], scale=4, elem_id="doc-choice"
                )
                delete = gr.Button("Delete from index…", variant="stop", scale=1, min_width=150, elem_id="delete")
            with gr.Group(visible=False, elem_id="delete-confirm-box", elem_classes="confirm-box") as confirm_box:
                confirm_text = gr.HTML(elem_id="delete-question")
                with gr.Row():
                    confirm = gr.Button("Yes, delete", variant="stop", size="sm", elem_id="delete-confirm")
                    cancel = gr.Button("Cancel", size="sm", elem_id="delete-cancel")
    facts = gr.HTML(elem_id="doc-facts")
    return DocumentsTab(
        files, status, summary, table, chosen, facts, delete, confirm_box, confirm_text, confirm, cancel
    )


def _store_all(paths: list[str], folder: Path, max_mb: float) -> tuple[list[Path], list[str]]:
    """Copy each upload into ``folder``; returns the stored paths and why the others were refused."""
    stored: list[Path] = []
    refused: list[str] = []
    for path in paths:
        try:
            stored.append(store_upload(Path(path), folder, max_mb))
        except UploadError as exc:
            refused.append(str(exc))
    return stored, refused


def ingest_status(report: IngestReport | None, refused: list[str], folder: Path) -> str:
    """The status box after an upload: what was indexed, and every refused or failed file with its reason,
    each named by its file name (the server's folders are no business of the page's users)."""
    details = refused + ([public_failure(f, folder) for f in report.failed] if report else [])
    if report is None or report.files <= len(report.failed):
        return render_status("error", "Nothing was added:", details)
    indexed = report.files - len(report.failed)
    message = (
        f"Indexed {count(indexed, 'file')}: {count(report.added, 'chunk')} added, "
        f"{report.skipped} unchanged ({report.seconds:.1f} s)."
    )
    if details:
        return render_status("warn", message + " Not indexed:", details)
    return render_status("ok", message)


def public_failure(failure: FileFailure, folder: Path) -> str:
    """``name: reason`` for a file that failed to ingest, with the uploads folder's path cut from the reason."""
    name = Path(failure.path).name
    reason = failure.error.replace(failure.path, name)
    for shown in {str(folder.resolve()), str(folder)}:
        reason = reason.replace(shown + "/", "").replace(shown, "the uploads folder")
    return f"{name}: {reason}"


FACT_COLUMNS = ("Subject", "Role", "Counterparty", "Attribute", "Value", "Round", "Date", "Stated as")


def document_facts(pipeline: Pipeline, path: str) -> list[FinancingFact]:
    """The financing facts extracted from the document at ``path``, in the order the document states them."""
    found = [f for f in pipeline.fact_index.facts() if f.path == path]
    return sorted(found, key=lambda f: (f.sentence_start, f.start))


def facts_html(facts: list[FinancingFact], name: str) -> str:
    """The facts of document ``name`` as a table, each with its sentence and the figure or name marked in it.

    Every cell is document text, so every cell is escaped.
    """
    if not facts:
        return f'<p class="muted doc-facts-none">No financing facts were extracted from {esc(name)}.</p>'
    head = "".join(f"<th>{esc(column)}</th>" for column in FACT_COLUMNS)
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{esc(cell)}</td>" for cell in fact_cells(f))
        + f'<td class="fact-quote">{_quote(f)}</td></tr>'
        for f in facts
    )
    caption = f"{count(len(facts), 'financing fact')} extracted from {esc(name)}"
    return (
        f'<table class="facts"><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _quote(fact: FinancingFact) -> str:
    """The fact's sentence, escaped, with its figure (or, for a fact without one, its counterparty) marked."""
    stated = fact.value_text if fact.has_value else fact.counterparty
    at = fact.sentence.find(stated) if stated else -1
    if at < 0:
        return esc(fact.sentence)
    end = at + len(stated)
    return f"{esc(fact.sentence[:at])}<mark>{esc(stated)}</mark>{esc(fact.sentence[end:])}"
