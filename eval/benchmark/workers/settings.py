"""The project's settings a measurement runs under, from its spec."""

from __future__ import annotations

from typing import Any


def settings_for(spec: dict[str, Any]) -> Any:
    """The defaults (no config file, no environment) with the spec's data folder and, where it names
    them, its embedding backend, collection and Chroma server; extractive answers, so no language
    model's time is in any figure."""
    from rag.config import load_settings

    overrides = {"store.data_dir": spec["data_dir"], "generator.name": "extractive"}
    if spec.get("backend"):
        overrides["embedding.backend"] = spec["backend"]
    if spec.get("collection"):
        overrides["store.collection"] = spec["collection"]
    if spec.get("chroma_url"):
        overrides["store.chroma_url"] = spec["chroma_url"]
        overrides["store.timeout_s"] = "120"
    return load_settings(overrides, environ={})
