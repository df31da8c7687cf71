"""The one directory where derived model files live (the ONNX export, assembled GGUF weights).

Both the embedding stage and the generation stage write there, so it belongs to
neither: importing it costs nothing and pulls in no stage.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$RAG_MODEL_CACHE`` or ``~/.cache/rag-models``: outside the repo, shared by all checkouts."""
    configured = os.environ.get("RAG_MODEL_CACHE", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "rag-models"
