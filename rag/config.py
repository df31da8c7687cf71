"""Settings: one frozen object built from defaults, ``rag.toml`` and ``RAG_*`` variables.

Precedence, lowest first: built-in defaults, ``rag.toml`` (in the working
directory, or the file named by ``RAG_CONFIG``), environment variables, then
explicit ``--set section.key=value`` overrides. Settings are built when a
program starts, never at import time, so tests can point them anywhere.

Environment variables are ``RAG_<SECTION>_<KEY>`` (``RAG_RETRIEVAL_TOP_K=8``),
plus the short forms listed in :data:`ENV_ALIASES` (``RAG_DATA_DIR``,
``RAG_CHROMA_URL``, ``RAG_GENERATOR`` ...).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints


class SettingsError(ValueError):
    """A setting has an unknown name or a value of the wrong type."""


@dataclass(frozen=True)
class StoreSettings:
    data_dir: Path = Path(".rag")
    chroma_url: str = ""
    collection: str = "rag_chunks"
    timeout_s: float = 10.0


@dataclass(frozen=True)
class EmbeddingSettings:
    model: str = "all-MiniLM-L6-v2"
    batch_size: int = 32
    device: str = "cpu"
    # "onnx": the same weights exported once to INT8 ONNX (rag/index/onnx_embed.py): about twice as fast
    # on CPU, no PyTorch import at start-up, equal hit@5; "torch": sentence-transformers in fp32.
    # eval/bench_results/bench.md has the measurements behind the default.
    backend: str = "onnx"


@dataclass(frozen=True)
class ChunkingSettings:
    chunk_size: int = 200
    chunk_overlap: int = 30


@dataclass(frozen=True)
class IngestSettings:
    max_file_mb: float = 50.0
    corpus_dir: Path = Path("corpus")
    # Processes that embed (and, against a Chroma server, write) batches in parallel; see rag/ingest/ingestor.py.
    workers: int = 1


@dataclass(frozen=True)
class RetrievalSettings:
    top_k: int = 6
    candidates: int = 30
    hybrid: bool = True
    rerank: bool = False
    rrf_k: int = 60


@dataclass(frozen=True)
class GeneratorSettings:
    name: str = "auto"
    local_model_path: str = ""
    local_max_tokens: int = 256
    local_threads: int = 2
    openai_base_url: str = ""
    openai_model: str = "gpt-4o-mini"
    openai_api_key: str = ""
    timeout_s: float = 60.0
    temperature: float = 0.0
    max_context_chars: int = 6000


@dataclass(frozen=True)
class VerifySettings:
    """Citation checker. The weights and cut-offs are fitted by ``python -m rag.verification.calibrate``
    on the dev split of tests/data/claims.jsonl; eval/verify_report.md records how."""

    strict: bool = False
    # Stage one (coverage + embedding similarity); the cross-encoder runs only in [reject, accept).
    screen_bias: float = -7.2628
    screen_weight_coverage: float = 1.5167
    screen_weight_similarity: float = 10.152
    screen_accept: float = 0.7448
    screen_reject: float = 0.3022
    screen_threshold: float = 0.6662
    # Stage two adds the cross-encoder logit.
    bias: float = -8.201
    weight_coverage: float = 0.3432
    weight_similarity: float = 6.6485
    weight_cross: float = 0.5583
    threshold: float = 0.5356
    # Without an embedding model: lexical coverage alone.
    lexical_threshold: float = 0.6125
    cache_size: int = 4096


@dataclass(frozen=True)
class Settings:
    store: StoreSettings = field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    generator: GeneratorSettings = field(default_factory=GeneratorSettings)
    verify: VerifySettings = field(default_factory=VerifySettings)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with dotted keys (``retrieval.top_k``) replaced, values coerced to the field's type."""
        sections: dict[str, dict[str, Any]] = {}
        for dotted, value in overrides.items():
            section, _, key = dotted.partition(".")
            sections.setdefault(section, {})[key] = value
        return _merge(self, sections)

    def to_dict(self) -> dict[str, Any]:
        """Effective settings as plain data, with secrets masked (for ``rag config``)."""
        data = dataclasses.asdict(self)
        for section in data.values():
            for key, value in section.items():
                if isinstance(value, Path):
                    section[key] = str(value)
                if "api_key" in key and value:
                    section[key] = "***"
        return data


ENV_ALIASES: dict[str, str] = {
    "RAG_DATA_DIR": "store.data_dir",
    "RAG_CHROMA_URL": "store.chroma_url",
    "RAG_GENERATOR": "generator.name",
    "RAG_LOCAL_MODEL": "generator.local_model_path",
    "RAG_OPENAI_BASE_URL": "generator.openai_base_url",
    "RAG_OPENAI_MODEL": "generator.openai_model",
    "RAG_OPENAI_API_KEY": "generator.openai_api_key",
    "OPENAI_API_KEY": "generator.openai_api_key",
    "RAG_STRICT": "verify.strict",
}


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build the effective settings; see the module docstring for precedence."""
    env = os.environ if environ is None else environ
    settings = Settings()
    path = config_file or Path(env.get("RAG_CONFIG", "rag.toml"))
    if path.is_file():
        try:
            settings = _merge(settings, tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    settings = settings.with_overrides(_from_environment(settings, env))
    return settings.with_overrides(overrides or {})


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """``["retrieval.rerank=true"]`` -> ``{"retrieval.rerank": "true"}``, for ``--set``."""
    parsed: dict[str, str] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise SettingsError(f"--set expects section.key=value, got {item!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def _from_environment(settings: Settings, env: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for section in fields(settings):
        for option in fields(getattr(settings, section.name)):
            name = f"RAG_{section.name}_{option.name}".upper()
            if name in env:
                found[f"{section.name}.{option.name}"] = env[name]
    for name, dotted in ENV_ALIASES.items():
        if env.get(name):
            found.setdefault(dotted, env[name])
    return found


def _merge(settings: Settings, sections: Mapping[str, Any]) -> Settings:
    changes: dict[str, Any] = {}
    for section_name, values in sections.items():
        if section_name not in {f.name for f in fields(settings)}:
            raise SettingsError(f"unknown settings section {section_name!r}")
        if not isinstance(values, Mapping):
            raise SettingsError(f"settings section {section_name!r} must be a table")
        section = getattr(settings, section_name)
        hints = get_type_hints(type(section))
        updates: dict[str, Any] = {}
        for key, raw in values.items():
            if key not in hints:
                raise SettingsError(f"unknown setting {section_name}.{key}")
            updates[key] = _coerce(f"{section_name}.{key}", raw, hints[key])
        changes[section_name] = replace(section, **updates)
    return replace(settings, **changes)


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind is Path:
            return Path(str(raw)).expanduser()
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: cannot use {raw!r} as {kind.__name__}") from exc
