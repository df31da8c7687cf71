"""The ``openai`` chat backend: any OpenAI-compatible endpoint through the official ``openai`` SDK.

The SDK is used rather than hand-written HTTP because it already does what a
client of a hosted model must: retries with exponential backoff and jitter on
connection errors, 408, 409, 429 and 5xx (``generator.max_retries``), one
timeout per request (``generator.timeout_s``), and server-sent-event streaming.
What is ours is the wording of failures (every one becomes one
:class:`GeneratorUnavailable` sentence naming the server and what to check,
because the CLI and UI show it to the user) and the token limit. Newer OpenAI
models reject ``max_tokens`` and want ``max_completion_tokens``; some
OpenAI-compatible servers reject the newer name, and others, llama.cpp's own
server among them, silently ignore it and generate until the context is full.
So both names are sent; a server that answers 400 naming one of them gets only
the other from then on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rag.generation.base import GeneratorUnavailable
from rag.generation.llm import CallStats, Messages
from rag.generation.prompts import Layout

if TYPE_CHECKING:
    import openai

NEW_LIMIT, OLD_LIMIT = "max_completion_tokens", "max_tokens"
BOTH_LIMITS = (NEW_LIMIT, OLD_LIMIT)


class OpenAIBackend:
    """Chat completions, whole or streamed, from an OpenAI-compatible server."""

    prompt_layout: Layout = "system"

    def __init__(
        self, base_url: str, model: str, api_key: str = "", timeout_s: float = 60.0, max_retries: int = 2
    ) -> None:
        from openai import OpenAI

        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.attempts = 1 + max_retries
        self.stats = CallStats()
        self.limit_names: tuple[str, ...] = BOTH_LIMITS  # narrowed to one when the server rejects the other
        # Local servers (llama.cpp, vLLM, Ollama) need no key, but the SDK refuses to start without one.
        self._client = OpenAI(
            base_url=self.base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=max_retries
        )

    def chat(self, messages: Messages, max_tokens: int, temperature: float) -> str:
        """The whole reply at once."""
        started = time.perf_counter()
        response = self._create(messages, max_tokens, temperature, stream=False)
        if not response.choices:
            raise GeneratorUnavailable(f"the {self._where} sent a reply with no choices")
        usage = response.usage
        self.stats = CallStats(
            seconds=time.perf_counter() - started,
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        )
        return str(response.choices[0].message.content or "")

    def stream(self, messages: Messages, max_tokens: int, temperature: float) -> Iterator[str]:
        """The reply as it is written, piece by piece; ``stats`` counts the pieces when the server sends no usage."""
        started = time.perf_counter()
        events = self._create(messages, max_tokens, temperature, stream=True)
        pieces = 0
        try:
            for event in events:
                if event.choices and event.choices[0].delta.content:
                    pieces += 1
                    yield event.choices[0].delta.content
        except Exception as exc:
            raise self._unavailable(exc) from exc
        finally:
            events.close()
        self.stats = CallStats(seconds=time.perf_counter() - started, completion_tokens=pieces)

    def close(self) -> None:
        self._client.close()

    @property
    def _where(self) -> str:
        return f"OpenAI-compatible server at {self.base_url}"

    def _create(self, messages: Messages, max_tokens: int, temperature: float, stream: bool) -> Any:
        """One completion request; a 400 naming one token-limit parameter narrows ``limit_names`` for good."""
        import openai

        create: Any = self._client.chat.completions.create  # the limit's names are chosen at run time
        request = {"model": self.model, "messages": messages, "temperature": temperature, "stream": stream}
        try:
            return create(**request, **dict.fromkeys(self.limit_names, max_tokens))
        except openai.BadRequestError as exc:
            rejected = [name for name in self.limit_names if re.search(rf"\b{name}\b", str(exc))]
            if len(self.limit_names) == 1 or not rejected:
                raise self._unavailable(exc) from exc
            # Rejecting max_tokens is what newer OpenAI models do, so when both are named keep the newer one.
            self.limit_names = (OLD_LIMIT,) if rejected == [NEW_LIMIT] else (NEW_LIMIT,)
            return self._create(messages, max_tokens, temperature, stream)
        except openai.OpenAIError as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: Exception) -> GeneratorUnavailable:
        return GeneratorUnavailable(describe_failure(exc, self._where, self.timeout_s, self.attempts))


def describe_failure(exc: Exception, where: str, timeout_s: float, attempts: int = 1) -> str:
    """One sentence for an SDK failure, saying which setting to check."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        tries = f" (each of {attempts} attempts; generator.timeout_s, generator.max_retries)" if attempts > 1 else ""
        return f"the {where} did not answer within {timeout_s:g} s{tries}"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        reason = _short(str(cause) or type(cause).__name__)
        return f"cannot connect to the {where} ({reason}); is it running? Check RAG_OPENAI_BASE_URL"
    if isinstance(exc, openai.APIStatusError):
        return f"the {where} answered HTTP {exc.status_code}: {_short(_body(exc))}.{_hint(exc)}"
    return f"the request to the {where} failed: {_short(str(exc) or type(exc).__name__)}"


def _hint(exc: openai.APIStatusError) -> str:
    if exc.status_code in (401, 403):
        return " Check RAG_OPENAI_API_KEY."
    if exc.status_code == 404:
        return " Does RAG_OPENAI_BASE_URL end in /v1, and does RAG_OPENAI_MODEL name a model it serves?"
    if exc.status_code == 429:
        return " The server is rate-limiting; retried with backoff (generator.max_retries) before giving up."
    return ""


def _body(exc: openai.APIStatusError) -> str:
    try:
        return exc.response.text
    except Exception:  # a streamed response whose body was never read
        return str(exc)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
