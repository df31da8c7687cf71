"""Ten users at once against a real ``rag ui``: are they all served, correctly and separately?

Starts ``rag ui`` itself on a free loopback port over the bundled corpus/ in a
temporary data directory (it ingests the corpus on start), answers one warm-up
question so model loading is not charged to the users, then releases N
``gradio_client`` users together, each asking a different question through the
``/ask`` endpoint. Every answer must echo its own question (no cross-talk
between sessions) and contain the expected keyword. Prints per-user latency,
p50/p95/max and the total wall time; ``--json`` prints the same as JSON.

Usage: python eval/bench_ui_concurrency.py [--users 10] [--data-dir DIR] [--json]
(``--data-dir`` reuses an index from an earlier run, skipping the ingest.)
Exit status 1 when any user got a wrong or failed answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmark import REPO
from benchmark.measure import percentile
from benchmark.processes import background_server, free_port

# (question, keyword the correct answer contains); all answerable from corpus/.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("Which companies participated in OpenAI's latest financing round?", "SoftBank"),
    ("How much did Amazon commit in OpenAI's 2026 round?", "$50 billion"),
    ("Who led Anthropic's Series F and at what valuation?", "ICONIQ"),
    ("Who is chairman of Stargate?", "Son"),
    ("At what price did CoreWeave price its IPO?", "$40"),
    ("How many investors took part in xAI's $6 billion raise of December 2024?", "97"),
    ("What is the exchange ratio in SpaceX's acquisition of xAI?", "0.1433"),
    ("Who led Perplexity's May 2025 round, and at what valuation?", "Accel"),
    ("What valuation did Thinking Machines Lab's seed round have?", "$12 billion"),
    ("When did OpenAI announce OpenAI LP, its capped-profit company?", "2019"),
    ("Who moved from Scale AI to Meta as part of Meta's investment?", "Wang"),
    ("How many gigawatts of AMD GPUs will OpenAI deploy?", "6"),
)
WARM_UP = "What is Stargate and who funds it?"


@dataclass
class UserResult:
    user: int
    question: str
    keyword: str
    latency_s: float
    ok: bool
    problem: str = ""
    answer: str = ""


def ask_as_user(url: str, user: int, question: str, keyword: str, start: threading.Barrier) -> UserResult:
    """One user: own client (own session), waits for the others, asks, checks the answer is theirs."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    start.wait()
    began = time.perf_counter()
    try:
        result: dict[str, Any] = client.predict(question, api_name="/ask")
    except Exception as exc:  # reported per user; the benchmark goes on
        return UserResult(user, question, keyword, time.perf_counter() - began, False, f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - began
    answer = str(result.get("answer", ""))
    problems = []
    if result.get("question") != question:
        problems.append(f"answer is for another question: {result.get('question')!r}")
    if result.get("abstained"):
        problems.append("abstained")
    if keyword.lower() not in answer.lower():
        problems.append(f"expected {keyword!r} in the answer")
    return UserResult(user, question, keyword, latency, not problems, "; ".join(problems), answer)


def ui_environment(data_dir: Path, generator: str) -> dict[str, str]:
    """This environment for ``rag ui`` over ``data_dir``: no config file, no login, offline, no analytics."""
    env = {
        **os.environ,
        "RAG_DATA_DIR": str(data_dir),
        "RAG_CONFIG": os.devnull,
        "RAG_GENERATOR": generator,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
    }
    env.pop("RAG_UI_AUTH", None)
    return env


def release_users(url: str, users: int) -> tuple[list[UserResult], float]:
    """``users`` clients, each with its own question, asking at the same moment; their results and
    the wall time from the release until the last one finished."""
    chosen = [QUESTIONS[i % len(QUESTIONS)] for i in range(users)]
    barrier = threading.Barrier(users + 1)
    results: list[UserResult | None] = [None] * users

    def worker(i: int) -> None:
        question, keyword = chosen[i]
        try:
            results[i] = ask_as_user(url, i + 1, question, keyword, barrier)
        except Exception as exc:  # e.g. the client could not connect
            barrier.abort()
            results[i] = UserResult(i + 1, question, keyword, 0.0, False, f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    # A user that could not connect breaks the barrier; its result says why, the others still run.
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=120)
    wall_began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=900)
    wall_s = time.perf_counter() - wall_began
    return [r for r in results if r is not None], wall_s


def run(users: int, data_dir: Path, generator: str, start_timeout: float) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = data_dir.parent / f"{data_dir.name}-rag-ui.log"
    command = [sys.executable, "-m", "rag.cli", "ui", "--port", str(port)]
    started = time.perf_counter()
    with background_server("rag ui", command, port, log, ui_environment(data_dir, generator), start_timeout, REPO):
        ready_s = time.perf_counter() - started
        from gradio_client import Client

        warm_began = time.perf_counter()
        Client(url, verbose=False).predict(WARM_UP, api_name="/ask")
        warm_up_s = time.perf_counter() - warm_began
        done, wall_s = release_users(url, users)
    latencies = [r.latency_s for r in done if r.ok]
    return {
        "users": users,
        "generator": generator,
        "ok": sum(r.ok for r in done),
        "failed": users - sum(r.ok for r in done),
        "server_ready_s": round(ready_s, 2),
        "warm_up_s": round(warm_up_s, 2),
        "wall_s": round(wall_s, 2),
        "latency_s": {
            "p50": round(percentile(latencies, 0.5), 2),
            "p95": round(percentile(latencies, 0.95), 2),
            "max": round(max(latencies), 2) if latencies else None,
            "min": round(min(latencies), 2) if latencies else None,
        },
        "results": [asdict(r) for r in done],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--data-dir", type=Path, help="index to use (default: a fresh temp dir, corpus/ ingested)")
    parser.add_argument("--generator", default="extractive", choices=["auto", "extractive", "local", "openai"])
    parser.add_argument("--start-timeout", type=float, default=1200.0, help="seconds for start-up and ingest")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.users < 1:
        parser.error("--users must be at least 1")
    if args.data_dir:
        report = run(args.users, args.data_dir.resolve(), args.generator, args.start_timeout)
    else:
        with tempfile.TemporaryDirectory(prefix="rag-bench-ui-") as tmp:
            report = run(args.users, Path(tmp) / "data", args.generator, args.start_timeout)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for r in report["results"]:
            mark = "ok  " if r["ok"] else "FAIL"
            note = f"  <- {r['problem']}" if r["problem"] else ""
            print(f"{mark} user {r['user']:2d}  {r['latency_s']:6.2f} s  {r['question']}{note}")
        lat = report["latency_s"]
        print(
            f"\n{report['ok']}/{report['users']} correct, separate answers; latency p50 {lat['p50']} s, "
            f"p95 {lat['p95']} s, max {lat['max']} s; wall time {report['wall_s']} s for all users "
            f"(server ready in {report['server_ready_s']} s, warm-up question {report['warm_up_s']} s)"
        )
    return 0 if report["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
