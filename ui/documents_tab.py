"""The Documents tab: upload (confined to the uploads folder), ingest with progress, list and delete.

Messages name files as the user knows them (``report.pdf``), never by their
path on the server, and an upload the index refused is removed again, so the
uploads folder holds only files the table lists. Deleting asks first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from rag.config import Settings
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
                chosen = gr.Dropdown(label="Remove a document", choices=[], scale=4, elem_id="doc-choice")
                delete = gr.Button("Delete from index…", variant="stop", scale=1, min_width=150, elem_id="delete")
            with gr.Group(visible=False, elem_id="delete-confirm-box", elem_classes="confirm-box") as confirm_box:
                confirm_text = gr.HTML(elem_id="delete-question")
                with gr.Row():
                    confirm = gr.Button("Yes, delete", variant="stop", size="sm", elem_id="delete-confirm")
                    cancel = gr.Button("Cancel", size="sm", elem_id="delete-cancel")
    return DocumentsTab(files, status, summary, table, chosen, delete, confirm_box, confirm_text, confirm, cancel)


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
