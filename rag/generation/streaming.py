"""Streaming a draft out of the middle of ``Pipeline.answer`` without a second copy of the pipeline.

An answer is retrieve -> generate -> verify, and only the middle step has
anything to show early. Rather than re-write the pipeline as a generator,
:func:`stream_with_tokens` runs the ordinary call in a worker thread with a
*token sink* set in its context; an LLM generator that finds a sink
(:func:`token_sink`) streams from its backend and hands each piece to it; the
caller's iterator yields those pieces as they arrive, then the call's result.
Everything else (planning, composition, verification) runs exactly as in a
non-streamed answer, so the two cannot drift apart.

When the caller stops reading (a closed browser tab, Ctrl-C), the next piece
raises :class:`StreamCancelled` inside the worker, which abandons the model's
stream: the server stops generating and the worker's thread ends.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
TokenSink = Callable[[str], None]

_SINK: contextvars.ContextVar[TokenSink | None] = contextvars.ContextVar("rag_token_sink", default=None)


class StreamCancelled(Exception):
    """The reader of a stream went away; raised in the generating thread to stop the model."""


def token_sink() -> TokenSink | None:
    """The sink of the stream this call is part of, or None when nobody is reading tokens."""
    return _SINK.get()


def stream_with_tokens(run: Callable[[], T]) -> Iterator[str | T]:
    """Pieces handed to the token sink while ``run()`` works, then its result (the last item).

    An exception from ``run`` is raised to the reader after the pieces before it.
    """
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def sink(piece: str) -> None:
        if stop.is_set():
            raise StreamCancelled("the reader stopped reading")
        events.put(("piece", piece))

    def work() -> None:
        _SINK.set(sink)
        try:
            events.put(("result", run()))
        except BaseException as exc:  # handed to the reader, who raises it
            events.put(("error", exc))

    worker = threading.Thread(target=contextvars.copy_context().run, args=(work,), name="rag-stream", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = events.get()
            if kind == "error":
                raise value
            yield value
            if kind == "result":
                return
    finally:
        stop.set()
