"""Settings: one frozen object built from defaults, ``rag.toml`` and ``RAG_*`` variables.

Precedence, lowest first: built-in defaults, ``rag.toml`` (in the working
directory, or the file named by ``RAG_CONFIG``), environment variables, then
explicit ``--set section.key=value`` overrides. Settings are built when a
program starts, never at import time, so tests can point them anywhere.

Environment variables are ``RAG_<SECTION>_<KEY>`` (``RAG_RETRIEVAL_TOP_K=8``),
plus the short forms listed in :data:`ENV_ALIASES` (``RAG_DATA_DIR``,
``RAG_CHROMA_URL``, ``RAG_GENERATOR`` ...).

Every value is validated when it is loaded, whatever its source: ranges and
choices are annotations on the fields below (checked by :mod:`rag.validation`,
the same checker :class:`~rag.types.AskOptions` uses), and rules that involve
two settings, a path or a URL are in :func:`_check_consistency`. A bad value
stops the program at start-up with one line naming the setting, instead of
misbehaving later (``top_k = -3`` used to slice the results to ``[:-3]``).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Interval

from rag.types import GeneratorName, TopK

Positive = Annotated[int, Ge(1)]
PositiveFloat = Annotated[float, Gt(0)]
Probability = Annotated[float, Interval(ge=0.0, le=1.0)]


class SettingsError(ValueError):
    """A setting has an unknown name, a value of the wrong type, or a value outside its range."""


@dataclass(frozen=True)
class StoreSettings:
    data_dir: Path = Path(".rag")
    chroma_url: str = ""
    collection: str = "rag_chunks"
    timeout_s: PositiveFloat = 10.0


@dataclass(frozen=True)
class EmbeddingSettings:
    model: str = "all-MiniLM-L6-v2"
    batch_size: Positive = 32
    device: str = "cpu"
    # "onnx": the same weights exported once to INT8 ONNX (rag/index/onnx_embed.py): about twice as fast
    # on CPU, no PyTorch import at start-up, equal hit@5; "torch": sentence-transformers in fp32.
    # eval/bench_results/bench.md has the measurements behind the default.
    backend: Literal["onnx", "torch"] = "onnx"
    # Word pieces of a text the model reads (the rest is cut off; BM25 still indexes the whole chunk).
    # all-MiniLM-L6-v2 was trained on 128; it accepts 256, but reading past 128 cost the 19 FinanceBench
    # filings 57 s of a 214 s ingest and bought nothing: dense page hit@5 0.41 at 256, 0.47 at 128, hybrid
    # the same (eval/filings.py). Capped by the model's own limit.
    max_tokens: Annotated[int, Ge(8)] = 128


@dataclass(frozen=True)
class ChunkingSettings:
    chunk_size: Annotated[int, Ge(16)] = 200
    chunk_overlap: Annotated[int, Ge(0)] = 30


@dataclass(frozen=True)
class IngestSettings:
    # Larger files are skipped with their size as the reason, before a byte is read (a 200 MB text file).
    max_file_mb: PositiveFloat = 50.0
    corpus_dir: Path = Path("corpus")
    # Processes that embed (and, against a Chroma server, write) batches in parallel; see rag/ingest/ingestor.py.
    workers: Positive = 1
    # Per-file parse limits (rag/ingest/limits.py): cheap checks before parsing (pages, unpacked size),
    # then the parse runs in a child process that is stopped past the time or address-space limit.
    parse_timeout_s: PositiveFloat = 120.0
    parse_memory_mb: Annotated[int, Ge(256)] = 2048
    max_pages: Positive = 3000
    max_unpacked_mb: PositiveFloat = 200.0


@dataclass(frozen=True)
class RetrievalSettings:
    top_k: TopK = 6
    candidates: Positive = 30
    hybrid: bool = True
    rerank: bool = False
    rrf_k: Annotated[int, Ge(0)] = 60


@dataclass(frozen=True)
class GeneratorSettings:
    name: GeneratorName = "auto"
    local_model_path: str = ""
    local_max_tokens: Positive = 256
    local_threads: Positive = 2
    openai_base_url: str = ""
    openai_model: str = "gpt-4o-mini"
    openai_api_key: str = ""
    timeout_s: PositiveFloat = 60.0
    # 429 and 5xx answers are retried this many times, with exponential backoff (the openai SDK's own).
    max_retries: Annotated[int, Interval(ge=0, le=10)] = 2
    temperature: Annotated[float, Interval(ge=0.0, le=2.0)] = 0.0
    max_context_chars: Annotated[int, Ge(200)] = 6000
    # The plan and a cited table of financing facts in the LLM's prompt. "auto": for the hosted (openai) backend
    # only; measured on 15 analyst questions, the 0.5B local model answered 0.33 -> 0.20 with it (it refused more).
    facts_table: Literal["auto", "on", "off"] = "auto"


@dataclass(frozen=True)
class UISettings:
    """The web app under load and attack (ui/app.py, ui/login.py)."""

    # Questions answered at once; of those, at most llm_concurrency by an LLM, so extractive answers
    # always have a slot however slow the LLM is. queue_size more may wait; beyond that "busy, retry".
    concurrency: Positive = 4
    llm_concurrency: Positive = 2
    queue_size: Positive = 64
    # Wrong passwords from one client address before it is refused for login_lockout_s seconds.
    login_max_failures: Positive = 5
    login_lockout_s: PositiveFloat = 300.0


@dataclass(frozen=True)
class VerifySettings:
    """Citation checker. The weights and cut-offs are fitted by ``python -m rag.verification.calibrate``
    on the dev split of tests/data/claims.jsonl; eval/verify_report.md records how."""

    strict: bool = False
    # Stage one (coverage + embedding similarity); the cross-encoder runs only in [reject, accept).
    screen_bias: float = -7.2628
    screen_weight_coverage: float = 1.5167
    screen_weight_similarity: float = 10.152
    screen_accept: Probability = 0.7448
    screen_reject: Probability = 0.3022
    screen_threshold: Probability = 0.6662
    # Stage two adds the cross-encoder logit.
    bias: float = -8.201
    weight_coverage: float = 0.3432
    weight_similarity: float = 6.6485
    weight_cross: float = 0.5583
    threshold: Probability = 0.5356
    # Without an embedding model: lexical coverage alone.
    lexical_threshold: Probability = 0.6125
    cache_size: Annotated[int, Ge(0)] = 4096


@dataclass(frozen=True)
class Settings:
    store: StoreSettings = field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    generator: GeneratorSettings = field(default_factory=GeneratorSettings)
    verify: VerifySettings = field(default_factory=VerifySettings)
    ui: UISettings = field(default_factory=UISettings)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A validated copy with dotted keys (``retrieval.top_k``) replaced, values coerced to the field's type."""
        return _check_consistency(_merge(self, _sections(overrides)))

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
    """Build the effective settings; see the module docstring for precedence. Raises :class:`SettingsError`."""
    env = os.environ if environ is None else environ
    settings = Settings()
    path = config_file or Path(env.get("RAG_CONFIG", "rag.toml"))
    if path.is_file():
        try:
            settings = _merge(settings, tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    settings = _merge(settings, _sections(_from_environment(settings, env)))
    return _check_consistency(_merge(settings, _sections(overrides or {})))


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


def _sections(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"retrieval.top_k": 3}`` -> ``{"retrieval": {"top_k": 3}}``."""
    sections: dict[str, dict[str, Any]] = {}
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        sections.setdefault(section, {})[key] = value
    return sections


def _merge(settings: Settings, sections: Mapping[str, Any]) -> Settings:
    """``settings`` with the given values, each validated against its field's rule (one line on failure)."""
    from rag.validation import check_value, field_hints

    changes: dict[str, Any] = {}
    for section_name, values in sections.items():
        if section_name not in {f.name for f in fields(settings)}:
            raise SettingsError(f"unknown settings section {section_name!r}")
        if not isinstance(values, Mapping):
            raise SettingsError(f"settings section {section_name!r} must be a table")
        section = getattr(settings, section_name)
        hints = field_hints(type(section))
        updates: dict[str, Any] = {}
        for key, raw in values.items():
            if key not in hints:
                raise SettingsError(f"unknown setting {section_name}.{key}")
            try:
                value = check_value(f"{section_name}.{key}", raw, hints[key])
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
            updates[key] = value.expanduser() if isinstance(value, Path) else value
        changes[section_name] = replace(section, **updates)
    return replace(settings, **changes)


def _check_consistency(settings: Settings) -> Settings:
    """Rules across settings, and paths and URLs, which a field's own annotation cannot state."""
    problems = []
    if settings.chunking.chunk_overlap >= settings.chunking.chunk_size:
        problems.append(
            f"chunking.chunk_overlap ({settings.chunking.chunk_overlap}) must be smaller than "
            f"chunking.chunk_size ({settings.chunking.chunk_size})"
        )
    if settings.ui.llm_concurrency >= settings.ui.concurrency and settings.ui.concurrency > 1:
        problems.append(
            f"ui.llm_concurrency ({settings.ui.llm_concurrency}) must be smaller than ui.concurrency "
            f"({settings.ui.concurrency}), so extractive answers keep a slot while LLMs write"
        )
    if settings.verify.screen_reject > settings.verify.screen_accept:
        problems.append("verify.screen_reject must not exceed verify.screen_accept")
    for name, url in (
        ("store.chroma_url", settings.store.chroma_url),
        ("generator.openai_base_url", settings.generator.openai_base_url),
    ):
        if url and not url.startswith(("http://", "https://")):
            problems.append(f"{name} must start with http:// or https://, got {url!r}")
    data_dir = settings.store.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        problems.append(f"store.data_dir {str(data_dir)!r} is a file, not a directory")
    model = settings.generator.local_model_path
    if model and not Path(model).expanduser().is_file():
        problems.append(f"generator.local_model_path (RAG_LOCAL_MODEL) {model!r} is not a file")
    if problems:
        raise SettingsError("; ".join(problems))
    return settings
