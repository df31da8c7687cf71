"""Which generators can answer on this server, and one line on how to enable each one that cannot.

The Settings panel offers only generators that can run with this install and
these settings, and lists the others greyed out with what to do, instead of
letting a user pick one and get an installation error as an answer. The
checks are cheap (no model is loaded, no package imported): they look for the
runtime packages and the model weights the generators would load.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

from rag.config import GeneratorSettings
from rag.generation.registry import GENERATOR_NAMES, resolve_name

INSTALL_LOCAL = 'PIP=".venv/bin/python -m pip" bash .ci/install_llm.sh'


def unavailable_generators(settings: GeneratorSettings) -> dict[str, str]:
    """Generator name -> how to enable it, for each generator that cannot answer here."""
    off: dict[str, str] = {}
    if not settings.openai_base_url:
        off["openai"] = (
            "needs an OpenAI-compatible endpoint: set RAG_OPENAI_BASE_URL (and RAG_OPENAI_API_KEY if it asks "
            "for one), then restart rag ui"
        )
    if problem := _local_problem(settings):
        off["local"] = problem
    return off


def _local_problem(settings: GeneratorSettings) -> str:
    """Why the in-process model cannot run ("" when it can): no runtime, or no weights."""
    runtime = _installed("llama_cpp") or (_installed("transformers") and _installed("gguf"))
    if settings.local_model_path:
        if not Path(settings.local_model_path).expanduser().is_file():
            return "RAG_LOCAL_MODEL does not name a file: set it to a GGUF chat model, then restart rag ui"
        weights = True
    else:
        weights = _bundled_weights()
    if runtime and weights:
        return ""
    return f"needs the local model runtime and weights: run {INSTALL_LOCAL}, then restart rag ui"


def _bundled_weights() -> bool:
    """The default model's weights: assembled in the cache already, or all their packages installed."""
    from rag.generation.weights import QWEN_FILENAME, QWEN_PARTS
    from rag.model_cache import cache_dir

    return (cache_dir() / QWEN_FILENAME).is_file() or all(_installed(part) for part in QWEN_PARTS)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def generator_choices(settings: GeneratorSettings) -> tuple[list[str], str, dict[str, str]]:
    """The names to offer, the one selected at start, and the unavailable ones with their hints.

    The configured generator stays selectable even when it cannot run, so the
    page shows the server's real setting (its questions then report why).
    """
    off = unavailable_generators(settings)
    configured = settings.name if settings.name in GENERATOR_NAMES else "auto"
    offered = [name for name in GENERATOR_NAMES if name not in off or name == configured]
    return offered, configured, {name: hint for name, hint in off.items() if name not in offered}


def auto_means(settings: GeneratorSettings) -> str:
    """What "auto" resolves to on this server, for the dropdown's help line."""
    return resolve_name(replace(settings, name="auto"))


def unavailable_html(off: dict[str, str]) -> str:
    """The generators that cannot run here, greyed out, each with its one line on how to enable it."""
    if not off:
        return ""
    from ui.render import esc

    items = "".join(
        f'<li><span class="gen-name" aria-disabled="true">{esc(name)}</span>not available here: {esc(hint)}</li>'
        for name, hint in off.items()
    )
    return f'<ul class="gen-off" aria-label="Generators not available on this server">{items}</ul>'
