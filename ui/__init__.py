"""The Gradio web interface (``rag ui``): chat with cited, verified answers; documents; evaluation.

It is a thin layer over :class:`rag.pipeline.Pipeline`: no storage or settings
code lives here, so the CLI, the evaluator and the UI give the same answers.
The library (``rag``) never imports this package; only ``rag ui`` does, lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ui.app import RagBlocks

__all__ = ["build_ui"]


def build_ui(pipeline: Any) -> RagBlocks:
    """Build the app for ``pipeline``; imported lazily so ``import ui`` does not load Gradio."""
    from ui.app import build_ui as build

    return build(pipeline)
