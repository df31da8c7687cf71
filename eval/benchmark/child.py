"""One measurement in one child process: the parent's :class:`Runner` and the child's :func:`run_worker`.

A child is ``python eval/bench.py --worker NAME SPEC``: it runs the measurement ``WORKERS[NAME]``
on the JSON ``SPEC`` (or ``@file`` holding it, past the argument list's size limit) and prints
its JSON result on one line starting with ``RESULT_PREFIX``; everything else it prints, and its
stderr, goes to the run's log. Its peak RSS is then its own, read from ``getrusage``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmark import ENTRY, REPO
from benchmark.processes import child_env
from benchmark.workers.encode import measure_encode
from benchmark.workers.ingest import measure_ingest
from benchmark.workers.llama import measure_llama_ingest, measure_llama_queries
from benchmark.workers.pdf import measure_pdf
from benchmark.workers.quality import measure_quality
from benchmark.workers.query import measure_queries
from benchmark.workers.startup import measure_startup

RESULT_PREFIX = "BENCH_RESULT "
SPEC_ARGUMENT_LIMIT = 50_000  # longer specs go through a file: the argument list has a size limit

WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "quality": measure_quality,
    "encode": measure_encode,
    "ingest": measure_ingest,
    "query": measure_queries,
    "llama_ingest": measure_llama_ingest,
    "llama_query": measure_llama_queries,
    "pdf": measure_pdf,
    "startup": measure_startup,
}


def run_worker(name: str, spec_json: str) -> int:
    """The child's side: run one measurement and print its result for the parent."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if spec_json.startswith("@"):
        spec_json = Path(spec_json[1:]).read_text()
    result = WORKERS[name](json.loads(spec_json))
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


class Runner:
    """Runs workers as child processes; their stderr goes to one log file."""

    def __init__(self, log: Path) -> None:
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")

    def say(self, message: str) -> None:
        """Progress, on stderr and in the log."""
        line = f"[bench {time.strftime('%H:%M:%S')}] {message}"
        print(line, file=sys.stderr, flush=True)
        self._append(line + "\n")

    def worker(self, name: str, spec: dict[str, Any], timeout: float = 1800) -> dict[str, Any]:
        """Measurement ``name`` on ``spec`` in a child process: its result, plus the child's wall time
        and the load average after it (the machine may be shared: the results say how busy it was)."""
        payload = json.dumps(spec)
        spec_file = self.log.parent / f".spec-{name}-{os.getpid()}.json"
        if len(payload) > SPEC_ARGUMENT_LIMIT:
            spec_file.write_text(payload)
            payload = "@" + str(spec_file)
        command = [sys.executable, str(ENTRY), "--worker", name, payload]
        started = time.perf_counter()
        try:
            self._append(f"\n$ worker {name} {json.dumps(spec)[:400]}\n")
            with self.log.open("a") as handle:
                done = subprocess.run(
                    command, stdout=subprocess.PIPE, stderr=handle, text=True, env=child_env(), cwd=REPO,
                    timeout=timeout,
                )  # fmt: skip
        finally:
            spec_file.unlink(missing_ok=True)
        lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"worker {name} failed with code {done.returncode}; see {self.log}")
        result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
        result["process_s"] = round(time.perf_counter() - started, 2)
        result["load_1m_after"] = round(os.getloadavg()[0], 2)
        self._append(f"= {name}: {json.dumps({k: v for k, v in result.items() if not k.startswith('profile')})}\n")
        return result

    def _append(self, text: str) -> None:
        with self.log.open("a") as handle:
            handle.write(text)
