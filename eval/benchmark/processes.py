"""Child processes and local servers: a clean environment, the ``rag`` command, a port to listen on.

Used by the benchmark's measurements and by ``eval/bench_ui_concurrency.py``, which start
``chroma run`` and ``rag ui`` the same way: on a free loopback port, logged to a file, waited for
until they listen, and stopped however the measurement ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def child_env(**extra: str) -> dict[str, str]:
    """This environment without ``RAG_*`` settings (but with the model cache), offline, plus ``extra``:
    a measured child reads the defaults, not whatever the person running the benchmark configured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", RAG_CONFIG=os.devnull)
    if "RAG_MODEL_CACHE" in os.environ:
        env["RAG_MODEL_CACHE"] = os.environ["RAG_MODEL_CACHE"]
    env.update(extra)
    return env


def rag_command() -> list[str]:
    """The ``rag`` console script next to this Python, as a user runs it; ``python -m rag.cli`` without one."""
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "rag.cli"]


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(name: str, port: int, timeout: float, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once ``process`` listens on ``port``; raise, with its log's end, if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with code {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{name} did not listen on port {port} within {timeout:.0f} s; see {log}")


@contextlib.contextmanager
def background_server(
    name: str,
    command: list[str],
    port: int,
    log: Path,
    env: dict[str, str],
    start_timeout: float,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` running, its output in ``log``, listening on ``port``; terminated (killed after
    30 s) when the block ends, however it ends."""
    with log.open("wb") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        wait_for_port(name, port, start_timeout, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
