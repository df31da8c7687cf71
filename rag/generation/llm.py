"""LLM generators: one prompt, three interchangeable chat backends.

A backend implements a single method, :meth:`ChatBackend.chat` (messages in,
reply text out); :class:`LLMGenerator` does everything else (prompt, parsing,
abstention) on top of it, so the ``local`` and ``openai`` generators give the
same kind of :class:`~rag.generation.registry.Draft` and differ only in where tokens come
from:

- :class:`LlamaCppBackend`: llama-cpp-python on a GGUF file; loads in about a
  second and runs the 0.5B model at interactive speed on 2 cores.
- :class:`TransformersBackend`: the fallback when llama_cpp is not installed;
  transformers dequantises GGUF to fp32, so it loads slowly and uses more memory,
  but it needs no compiler.
- :class:`~rag.generation.openai_chat.OpenAIBackend`: any OpenAI-compatible
  endpoint (OpenAI, vLLM, llama.cpp's server, Ollama ...) through the official
  ``openai`` SDK, with retries, timeouts and streaming.

A backend that also has ``stream`` (the same arguments, the reply in pieces)
lets :meth:`LLMGenerator.stream` show the reply while it is written.

Local models are cached per file in this process (:data:`_MODEL_CACHE`), so the
UI and the evaluator build generators freely without reloading weights.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rag.config import GeneratorSettings
from rag.generation.base import Draft, GeneratorUnavailable
from rag.generation.completion import parse_completion
from rag.generation.evidence import Evidence
from rag.generation.prompts import SENTINEL, Layout, build_messages, fit_passages
from rag.generation.streaming import token_sink
from rag.types import Hit

Messages = list[dict[str, str]]
LLAMA_N_CTX = 4096


class ChatBackend(Protocol):
    """Anything that can answer a chat: the one method a new backend must implement."""

    def chat(self, messages: Messages, max_tokens: int, temperature: float) -> str: ...


@runtime_checkable
class StreamingBackend(ChatBackend, Protocol):
    """A backend that can also hand over its reply piece by piece, as the model writes it."""

    def stream(self, messages: Messages, max_tokens: int, temperature: float) -> Iterator[str]: ...


@dataclass
class CallStats:
    """What the last :meth:`chat` call cost; read by the eval report and the tests."""

    seconds: float = 0.0
    completion_tokens: int = 0
    prompt_tokens: int = 0


# ---------------------------------------------------------------------------
# In-process model cache


@dataclass
class _Loaded:
    """A loaded model plus the lock that serialises calls into it (neither runtime is re-entrant)."""

    model: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    load_seconds: float = 0.0
    extra: Any = None


_MODEL_CACHE: dict[tuple[str, str], _Loaded] = {}
_CACHE_LOCK = threading.Lock()


def _cached(kind: str, path: Path, load: Callable[[], tuple[Any, Any]]) -> _Loaded:
    """Load a model once per (runtime, resolved path) for the life of the process.

    The global lock is held while loading so two threads asking for the same
    model at start-up (Gradio serves requests concurrently) load it once.
    """
    key = (kind, str(path.resolve()))
    with _CACHE_LOCK:
        loaded = _MODEL_CACHE.get(key)
        if loaded is None:
            started = time.perf_counter()
            model, extra = load()
            loaded = _Loaded(model=model, load_seconds=time.perf_counter() - started, extra=extra)
            _MODEL_CACHE[key] = loaded
        return loaded


# ---------------------------------------------------------------------------
# Backends


class LlamaCppBackend:
    """llama-cpp-python on a GGUF file, using the chat template stored in the file."""

    # Small local models follow the rules only when they sit next to the question
    # (rag.generation.prompts.build_messages).
    prompt_layout: Layout = "inline"

    def __init__(self, model_path: Path, threads: int, n_ctx: int = LLAMA_N_CTX) -> None:
        self.model_path = model_path
        self.stats = CallStats()

        def load() -> tuple[Any, Any]:
            # llama.cpp's OpenMP workers spin while they wait. When other work shares
            # the cores (the UI, embeddings, an eval run), spinning threads starve each
            # other: measured on 2 busy cores, 48 tokens took 83 s spinning, 17 s passive.
            # Must be set before the library (and its libgomp) loads; a value the user
            # set wins.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from llama_cpp import Llama

            try:
                return Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=threads, verbose=False), None
            except (ValueError, RuntimeError, OSError) as exc:
                raise GeneratorUnavailable(f"llama.cpp could not load {model_path}: {exc}") from exc

        self._loaded = _cached("llama_cpp", model_path, load)
        self.load_seconds = self._loaded.load_seconds

    def chat(self, messages: Messages, max_tokens: int, temperature: float) -> str:
        started = time.perf_counter()
        with self._loaded.lock:
            try:
                result = self._loaded.model.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature
                )
            except ValueError as exc:  # e.g. "Requested tokens (5000) exceed context window of 4096"
                raise _unreadable_prompt(exc) from exc
        usage = result.get("usage") or {}
        self.stats = CallStats(
            seconds=time.perf_counter() - started,
            completion_tokens=int(usage.get("completion_tokens", 0)),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
        )
        return str(result["choices"][0]["message"].get("content") or "")

    def stream(self, messages: Messages, max_tokens: int, temperature: float) -> Iterator[str]:
        """The reply piece by piece; the model stays locked until the last piece (or until the reader stops)."""
        started = time.perf_counter()
        pieces = 0
        with self._loaded.lock:
            try:
                for event in self._loaded.model.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True
                ):
                    piece = event["choices"][0]["delta"].get("content")
                    if piece:
                        pieces += 1
                        yield str(piece)
            except ValueError as exc:
                raise _unreadable_prompt(exc) from exc
        self.stats = CallStats(seconds=time.perf_counter() - started, completion_tokens=pieces)


def _unreadable_prompt(exc: ValueError) -> GeneratorUnavailable:
    return GeneratorUnavailable(f"the local model could not read the prompt: {exc}; lower generator.max_context_chars")


class TransformersBackend:
    """transformers on a GGUF file (dequantised to fp32); greedy when temperature is 0."""

    prompt_layout: Layout = "inline"

    def __init__(self, model_path: Path) -> None:
        # No thread setting: torch's pool is process-wide and shared with the embedder.
        self.model_path = model_path
        self.stats = CallStats()

        def load() -> tuple[Any, Any]:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            try:
                tokenizer = AutoTokenizer.from_pretrained(str(model_path.parent), gguf_file=model_path.name)
                model = AutoModelForCausalLM.from_pretrained(str(model_path.parent), gguf_file=model_path.name)
            except (ImportError, ValueError, OSError, RuntimeError) as exc:
                raise GeneratorUnavailable(
                    f"transformers could not load {model_path}: {exc}. "
                    "Install llama-cpp-python (see .ci/install_llm.sh), or gguf and accelerate."
                ) from exc
            model.eval()
            return model, tokenizer

        self._loaded = _cached("transformers", model_path, load)
        self.load_seconds = self._loaded.load_seconds

    def chat(self, messages: Messages, max_tokens: int, temperature: float) -> str:
        import torch

        model, tokenizer = self._loaded.model, self._loaded.extra
        started = time.perf_counter()
        with self._loaded.lock, torch.inference_mode():
            encoded = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
            )
            input_ids = encoded["input_ids"]
            sampling: dict[str, Any] = (
                {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
            )
            output = model.generate(
                input_ids,
                attention_mask=encoded.get("attention_mask"),
                max_new_tokens=max_tokens,
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                **sampling,
            )
        new_tokens = output[0, input_ids.shape[1] :]
        self.stats = CallStats(
            seconds=time.perf_counter() - started,
            completion_tokens=int(new_tokens.shape[0]),
            prompt_tokens=int(input_ids.shape[1]),
        )
        return str(tokenizer.decode(new_tokens, skip_special_tokens=True))


# ---------------------------------------------------------------------------
# Factory and generator


def llama_cpp_available() -> bool:
    """Whether llama-cpp-python is installed, checked without importing it (import loads a shared library)."""
    return importlib.util.find_spec("llama_cpp") is not None


def local_model_path(settings: GeneratorSettings) -> Path:
    """The configured GGUF (``RAG_LOCAL_MODEL``), else the packaged Qwen2.5-Coder-0.5B."""
    if settings.local_model_path:
        path = Path(settings.local_model_path).expanduser()
        if not path.is_file():
            raise GeneratorUnavailable(
                f"RAG_LOCAL_MODEL / generator.local_model_path points to {path}, which is not a file"
            )
        return path
    from rag.generation.weights import default_local_model

    return default_local_model()


def make_chat_backend(name: str, settings: GeneratorSettings) -> ChatBackend:
    """The backend for generator ``name`` ("local" or "openai"), configured from ``settings``."""
    if name == "openai":
        if not settings.openai_base_url:
            raise GeneratorUnavailable(
                "the openai generator needs an endpoint: set RAG_OPENAI_BASE_URL (e.g. https://api.openai.com/v1 "
                "or http://127.0.0.1:8080/v1) and, if the server wants one, RAG_OPENAI_API_KEY"
            )
        from rag.generation.openai_chat import OpenAIBackend

        return OpenAIBackend(
            settings.openai_base_url,
            settings.openai_model,
            settings.openai_api_key,
            settings.timeout_s,
            settings.max_retries,
        )
    if name == "local":
        path = local_model_path(settings)
        if llama_cpp_available():
            return LlamaCppBackend(path, threads=settings.local_threads)
        return TransformersBackend(path)
    raise GeneratorUnavailable(f"no chat backend called {name!r}: use local or openai")


class LLMGenerator:
    """Prompt a chat backend with numbered passages and parse its reply into a :class:`Draft`."""

    def __init__(self, backend: ChatBackend, settings: GeneratorSettings, name: str = "llm") -> None:
        self.backend = backend
        self.settings = settings
        self.name = name
        self.last_raw = ""

    def generate(self, question: str, hits: list[Hit], evidence: Evidence | None = None) -> Draft:
        """A cited draft, or the abstaining draft when there is nothing to answer from.

        With no passages the model is not called at all: anything it wrote could
        only come from its own memory, which is exactly what must not be shown.
        Inside :meth:`rag.pipeline.Pipeline.stream` (a token sink is set) the
        reply is streamed and each piece handed to the sink as it is written.
        With ``evidence`` the prompt also carries the plan and the facts table.
        """
        sink = token_sink()
        if sink is None or not isinstance(self.backend, StreamingBackend):
            if not hits:
                return parse_completion(SENTINEL, 0)
            messages, shown = self._prompt(question, hits, evidence)
            self.last_raw = self.backend.chat(messages, self.settings.local_max_tokens, self.settings.temperature)
            return parse_completion(self.last_raw, len(shown), passages=shown)
        for item in self.stream(question, hits, evidence):
            if isinstance(item, Draft):
                return item
            sink(item)
        raise AssertionError("LLMGenerator.stream ends with a Draft")

    def stream(self, question: str, hits: list[Hit], evidence: Evidence | None = None) -> Iterator[str | Draft]:
        """The reply's pieces as the model writes them, then the parsed :class:`Draft` as the last item.

        The pieces are the raw, unchecked reply: show them as a draft to be
        replaced. A backend that cannot stream gives its whole reply as one piece.
        """
        if not hits:
            yield parse_completion(SENTINEL, 0)
            return
        messages, shown = self._prompt(question, hits, evidence)
        limit, temperature = self.settings.local_max_tokens, self.settings.temperature
        if isinstance(self.backend, StreamingBackend):
            pieces = self.backend.stream(messages, limit, temperature)
        else:
            pieces = iter([self.backend.chat(messages, limit, temperature)])
        written: list[str] = []
        for piece in pieces:
            written.append(piece)
            yield piece
        self.last_raw = "".join(written)
        yield parse_completion(self.last_raw, len(shown), passages=shown)

    def _prompt(self, question: str, hits: list[Hit], evidence: Evidence | None) -> tuple[Messages, list[str]]:
        """The chat messages for ``hits`` and the passage texts they show (what markers can cite)."""
        layout: Layout = getattr(self.backend, "prompt_layout", "system")
        messages = build_messages(question, hits, self.settings.max_context_chars, layout=layout, evidence=evidence)
        return messages, fit_passages(hits, self.settings.max_context_chars)
