"""Talking to Chroma: the client (embedded or a server) and the errors every call may raise.

A server that is down, dies mid-session or stops answering surfaces as one
:class:`StoreError` sentence naming the server, within ``store.timeout_s``
(chromadb's own HTTP client never times out); Chroma files cut mid-write by a
killed process surface as :class:`DamagedStoreError`, whose cure is a rebuild.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from rag.config import StoreSettings


class StoreError(RuntimeError):
    """Chroma is unreachable or refused an operation; the message says which and where."""


class EmbeddingMismatchError(StoreError):
    """The index was embedded by another model than the one configured now."""


class StoreFullError(StoreError):
    """The disk under the store is full: nothing is wrong with the documents; free space and ingest again."""


class DamagedStoreError(StoreError):
    """Chroma's own files are unreadable, typically after a process was killed while Chroma persisted
    its HNSW index (it writes ``index_metadata.pickle`` in place). Our write order keeps the *logical*
    index consistent, but cannot make Chroma's file writes atomic; the cure is a rebuild."""


# Seen after SIGKILLs in tests/test_crash_safety.py: "Error constructing hnsw segment reader: ... Error
# deserializing pickle file" and "Error sending backfill request to compactor: Failed to apply logs to the
# hnsw segment writer".
_DAMAGE_MARKERS = ("hnsw segment", "deserializing pickle", "error loading hnsw", "backfill request to compactor")
# How a full disk reads in SQLite's, the OS's and Chroma's (Rust) messages.
_FULL_MARKERS = ("disk is full", "no space left", "os error 28", "errno 28", "sqlite_full")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) says the disk is full."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if any(marker in str(seen).lower() for marker in _FULL_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def disk_full_message(location: object, detail: str) -> str:
    """The one line a full disk is reported with."""
    return (
        f"no space left on {location} ({detail}); free some space and run 'rag ingest' again: "
        "files already stored are kept and the rest are added"
    )


def make_client(settings: StoreSettings) -> Any:
    """Embedded Chroma in ``data_dir/chroma`` or, with ``chroma_url``, a Chroma server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise StoreError(f"RAG_CHROMA_URL must look like http://host:port, got {settings.chroma_url!r}")
        try:
            _probe(settings.chroma_url, settings.timeout_s)
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            _set_http_timeout(client, settings.timeout_s)
            client.heartbeat()
        except Exception as exc:  # chromadb raises several transport-specific types
            reason = f"no answer within {settings.timeout_s:g} s" if _is_timeout(exc) else _reason(exc)
            raise StoreError(f"cannot reach the Chroma server at {settings.chroma_url}: {reason}") from exc
        return client
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _set_http_timeout(client: Any, timeout_s: float) -> None:
    """Bound every request of a chromadb ``HttpClient``.

    chromadb builds its ``httpx.Client`` with ``timeout=None``, so a server that
    accepts connections but stops answering (stopped, overloaded, a dead network
    path) hangs every call forever; ``store.timeout_s`` was not applied anywhere.
    """
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout_s)


def _probe(url: str, timeout_s: float) -> None:
    """One bounded request first: ``chromadb.HttpClient()`` itself calls the server (user
    identity, tenant) before its timeout can be set, and would wait forever on a silent one."""
    import httpx

    httpx.get(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=timeout_s)


def _is_timeout(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TimeoutException)


def _reason(exc: BaseException) -> str:
    return str(exc) or exc.__class__.__name__


class Guarded:
    """A Chroma client or collection whose failures are raised as :class:`StoreError`.

    Without it a server that died mid-session surfaced as a bare
    ``[Errno 111] Connection refused`` (httpx.ConnectError) from deep inside
    chromadb, which names neither Chroma nor the server.
    """

    def __init__(self, target: Any, where: str, timeout_s: float, location: str = "") -> None:
        self._target = target
        self._where = where
        self._timeout_s = timeout_s
        self._location = location or where  # named when the disk is full: the store's folder, or the server

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr
        return self._guard(attr, name)

    def _guard(self, method: Callable[..., Any], operation: str) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = method(*args, **kwargs)
            except StoreError:
                raise
            except Exception as exc:
                raise self._error(exc, operation) from exc
            if operation == "get_or_create_collection":
                return Guarded(result, self._where, self._timeout_s, self._location)
            return result

        return call

    def _error(self, exc: Exception, operation: str) -> StoreError:
        import httpx

        if isinstance(exc, httpx.TimeoutException):
            return StoreError(f"{self._where} did not answer within {self._timeout_s:g} s ({operation})")
        if isinstance(exc, httpx.TransportError):
            return StoreError(
                f"lost the connection to {self._where} ({operation}: {_reason(exc)}); is it still running?"
            )
        reason = _reason(exc)
        if is_disk_full(exc):
            return StoreFullError(disk_full_message(self._location, f"{operation}: {reason}"))
        if any(marker in reason.lower() for marker in _DAMAGE_MARKERS):
            return DamagedStoreError(
                f"{self._where} is damaged ({operation}: {reason}); an interrupted write left Chroma's vector index "
                "unreadable: run 'rag ingest' to rebuild it from the documents"
            )
        return StoreError(f"{self._where} failed ({operation}): {exc.__class__.__name__}: {reason}")
