"""The Documents tab: upload (confined to the uploads folder), ingest with progress, list and delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from rag.ingest.loaders import SUPPORTED_SUFFIXES
from rag.pipeline import Pipeline
from ui.render import render_status
from ui.uploads import UploadError, remove_upload, store_upload, uploads_dir


def count(n: int, noun: str) -> str:
    """ "1 file", "3 files"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


# -- documents tab -----------------------------------------------------------------------
def documents_tab(pipeline: Pipeline, demo: gr.Blocks) -> None:
    settings = pipeline.settings
    folder = uploads_dir(settings.store.data_dir)
    gr.Markdown(
        f"Upload {', '.join(s.lstrip('.') for s in SUPPORTED_SUFFIXES)} files up to "
        f"{settings.ingest.max_file_mb:g} MB each. They are stored in `{folder}` and indexed at once; "
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
                delete = gr.Button("Delete from index", variant="stop", scale=1, min_width=150, elem_id="delete")

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
        refused: list[str] = []
        stored: list[Path] = []
        progress(0, desc="Saving uploads")
        for path in paths:
            try:
                stored.append(store_upload(Path(path), folder, settings.ingest.max_file_mb))
            except UploadError as exc:
                refused.append(str(exc))
        report = None
        if stored:

            def tick(done: int, total: int, source: str) -> None:
                progress((done, total), desc=f"Embedding {source}", unit="chunks")

            try:
                report = pipeline.ingest(stored, progress=tick)
            except IngestLocked as exc:
                refused.append(str(exc))
        details = refused + ([f"{f.path}: {f.error}" for f in report.failed] if report else [])
        if report and not report.failed and report.files:
            message = (
                f"Indexed {count(report.files, 'file')}: {count(report.added, 'chunk')} added, "
                f"{report.skipped} unchanged ({report.seconds:.1f} s)."
            )
            html = render_status("warn" if refused else "ok", message, refused or None)
        elif report and report.files:
            html = render_status("warn", f"Indexed {count(report.added, 'chunk')}; some files were skipped:", details)
        else:
            html = render_status("error", "Nothing was added:", details)
        return (html, *listing(), None)

    def remove(path: str | None) -> tuple[Any, ...]:
        if not path:
            return (render_status("warn", "Choose a document to delete first."), *listing())
        removed = pipeline.delete_document(path)
        deleted_file = remove_upload(path, folder)
        name = Path(path).name
        extra = " and its uploaded file" if deleted_file else ""
        return (render_status("ok", f"Deleted {name}: {count(removed, 'chunk')} left the index{extra}."), *listing())

    files.upload(
        add,
        [files],
        [status, summary, table, chosen, files],
        api_visibility="private",
        show_progress="full",
        show_progress_on=[status],
        concurrency_limit=1,
        concurrency_id="ingest",
    )
    delete.click(
        remove,
        [chosen],
        [status, summary, table, chosen],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="ingest",
    )
    demo.load(listing, None, [summary, table, chosen], api_visibility="private", show_progress="hidden")


# -- evaluation tab ----------------------------------------------------------------------
