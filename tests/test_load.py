"""Many users on one server: a bounded queue answers overflow with "busy, retry", and a slow LLM
cannot starve extractive answers.

Both run the real app (``build_ui`` over a real pipeline, launched on loopback) and real
``gradio_client`` users. The 50-user figure on a 10k-chunk index is a benchmark, not a test:
``eval/bench_ui_concurrency.py --users 50 --chunks 10000``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from helpers_servers import silent_llm_server

from rag.config import UISettings
from rag.types import AskOptions

from conftest import free_port

QUESTIONS = (
    "Which companies participated in OpenAI's latest financing round?",
    "When was OpenAI established?",
    "What are Google's advantages in AI?",
    "What does xAI rely on to form a data closed loop?",
    "What is Anthropic's capital structure reliant on?",
    "What strategy does Meta pursue with its LLaMA models?",
    "When did OpenAI establish its capped-profit structure?",
    "How does Google fund its large model research?",
)


@contextmanager
def serving(pipeline: Any) -> Iterator[str]:
    """The real app over ``pipeline`` on a free loopback port."""
    from ui.app import build_ui

    demo = build_ui(pipeline)
    port = free_port()
    demo.launch(server_port=port, prevent_thread_lock=True, quiet=True, auth=None)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def test_a_full_queue_tells_overflow_users_to_retry_and_answers_the_rest(
    seed_pipeline: Any, pipeline_factory: Any
) -> None:
    """One answer at a time and two waiting: of eight users released together, the overflow is told
    the queue is full, and every user that is answered gets the answer it gets alone."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    settings = replace(seed_pipeline.settings, ui=UISettings(concurrency=1, llm_concurrency=1, queue_size=2))
    pipeline = pipeline_factory(settings)
    alone = {q: pipeline.answer(q, options=AskOptions(generator="extractive")).answer for q in QUESTIONS}
    with serving(pipeline) as url:
        clients = [Client(url, verbose=False) for _ in QUESTIONS]
        start = threading.Barrier(len(QUESTIONS))

        def ask(i: int) -> dict[str, Any] | str:
            start.wait()
            try:
                result: dict[str, Any] = clients[i].predict(QUESTIONS[i], generator="extractive", api_name="/ask")
            except (QueueError, AppError) as exc:
                return f"{type(exc).__name__}: {exc}"
            return result

        with ThreadPoolExecutor(len(QUESTIONS)) as pool:
            outcomes = list(pool.map(ask, range(len(QUESTIONS))))
    answered = {q: o for q, o in zip(QUESTIONS, outcomes, strict=True) if isinstance(o, dict)}
    refused = [o for o in outcomes if isinstance(o, str)]
    print(f"\n{len(answered)} answered, {len(refused)} refused: {sorted(set(refused))}")
    assert refused, "eight users at once with one slot and two places in the queue: some must be turned away"
    assert all(message == "QueueError: Queue is full! Please try again." for message in refused), refused
    assert len(answered) >= 1
    for question, result in answered.items():
        assert result["question"] == question
        assert result["answer"] == alone[question]


@pytest.fixture
def silent_llm() -> Iterator[tuple[str, list[socket.socket]]]:
    with silent_llm_server() as server:
        yield server


def test_a_slow_llm_holds_only_its_own_slots(seed_pipeline: Any, pipeline_factory: Any, silent_llm: Any) -> None:
    """Two LLM answers hang on a server that never replies: a third LLM request is told to retry at once,
    and an extractive question is answered while the two are still waiting."""
    from gradio_client import Client

    llm_url, held = silent_llm
    settings = replace(
        seed_pipeline.settings,
        ui=UISettings(concurrency=3, llm_concurrency=2),
        generator=replace(seed_pipeline.settings.generator, openai_base_url=llm_url, timeout_s=600, max_retries=0),
    )
    pipeline = pipeline_factory(settings)
    expected = pipeline.answer(QUESTIONS[0], options=AskOptions(generator="extractive")).answer
    with serving(pipeline) as url:
        writing = [
            Client(url, verbose=False).submit(QUESTIONS[1], generator="openai", api_name="/ask") for _ in range(2)
        ]
        deadline = time.monotonic() + 300
        while len(held) < 2:  # until both LLM requests have reached the LLM and wait there
            assert not any(job.done() for job in writing), [job.exception() for job in writing if job.done()]
            assert time.monotonic() < deadline, "the LLM requests never reached the LLM"
            time.sleep(0.1)
        with pytest.raises(Exception, match=r"^busy: all 2 LLM slots are writing answers; retry in a moment"):
            Client(url, verbose=False).predict(QUESTIONS[2], generator="openai", api_name="/ask")
        result = Client(url, verbose=False).predict(QUESTIONS[0], generator="extractive", api_name="/ask")
        assert result["answer"] == expected
        assert not any(job.done() for job in writing), "the LLM requests were still waiting on the LLM"
        for connection in list(held):
            connection.close()  # the LLM goes away: its requests end with a generator error, their slots free
        for job in writing:
            with pytest.raises(Exception, match=r"^generator_unavailable"):
                job.result(timeout=120)
