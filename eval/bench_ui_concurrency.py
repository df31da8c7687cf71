"""N users at once against a real ``rag ui``: are they all served, correctly and separately?

Starts ``rag ui`` itself on a free loopback port over the bundled corpus/ in a
temporary data directory (it ingests the corpus on start), answers one warm-up
question so model loading is not charged to the users, then releases N
``gradio_client`` users together, each asking a different question through the
``/ask`` endpoint; every third user then asks a follow-up with the first
answer's standalone question as history. Before the release one client asks
every question (and follow-up) alone; a concurrent answer is correct when it
echoes its own question and is word for word the answer that question gets
alone (the extractive path is deterministic, so any cross-talk between
sessions or damage under load shows). Whether the answer holds the expected
fact (a keyword) is reported too, as the answers' quality, which load does not
change. A user may instead get the server's clear "busy, retry" refusal (a
full queue, or every LLM slot writing), counted apart from errors. Prints per-user latency,
p50/p95/p99/max, the error and busy rates, the wall time and the server's peak
resident memory; ``--json`` prints the same as JSON.

``--chunks N`` first fills the index to about N chunks: corpus/ plus
deterministic synthetic articles (``eval/benchmark/corpus.py``: article i is the
same on every machine), ingested with ``rag ingest`` and timed, so the load
runs against a realistic index size. ``--set ui.queue_size=8`` (any setting)
is passed to ``rag ui``.

Usage: python eval/bench_ui_concurrency.py [--users 10] [--chunks N] [--data-dir DIR] [--set K=V] [--json]
(``--data-dir`` reuses an index from an earlier run, skipping the ingest.)
Exit status 1 when any user got a wrong or failed answer (busy refusals are not failures).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmark import REPO
from benchmark.corpus import corpus_files, ensure_corpus
from benchmark.measure import percentile
from benchmark.processes import background_server, child_env, free_port, rag_command

# (question, keyword of the fact its answer should hold); all answerable from corpus/.
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
# QUESTIONS index -> (a follow-up, the subject its standalone rewrite must name): users asking these go on
FOLLOW_UPS: dict[int, tuple[str, str]] = {
    0: ("and how much did Nvidia put in?", "OpenAI"),
    2: ("and what did it raise before that?", "Anthropic"),
    3: ("and who funds it?", "Stargate"),
    4: ("how many shares did it sell?", "CoreWeave"),
}
BUSY_MARKERS = ("Queue is full", "busy:")


@dataclass
class UserResult:
    user: int
    question: str
    keyword: str
    latency_s: float
    ok: bool
    problem: str = ""
    answer: str = ""
    busy: bool = False
    follow_up: bool = False
    keyword_found: bool = False


Reference = dict[tuple[str, tuple[str, ...]], str]
"""(question, history) -> the answer it gets when asked alone."""


def ask_once(
    client: Any, user: int, question: str, keyword: str, history: list[str] | None, reference: Reference | None
) -> tuple[UserResult, dict[str, Any]]:
    """One request: a correct answer (its own, as it is alone), a clear busy refusal, or a failure with its reason."""
    began = time.perf_counter()
    try:
        result: dict[str, Any] = client.predict(question, history=history, api_name="/ask")
    except Exception as exc:  # reported per user; the benchmark goes on
        message = f"{type(exc).__name__}: {exc}"
        busy = any(marker in message for marker in BUSY_MARKERS)
        return UserResult(user, question, keyword, time.perf_counter() - began, False, message, busy=busy), {}
    latency = time.perf_counter() - began
    answer = str(result.get("answer", ""))
    problems = []
    if result.get("question") != question:
        problems.append(f"answer is for another question: {result.get('question')!r}")
    alone = None if reference is None else reference.get((question, tuple(history or ())))
    if reference is not None and answer != alone:
        problems.append(f"not the answer this question gets alone: {alone!r}")
    follow_up = history is not None
    # a follow-up's keyword is its conversation's subject, which its standalone rewrite must name
    shown = str(result.get("standalone_question", "")) if follow_up else answer
    found = keyword.lower() in shown.lower()
    outcome = UserResult(user, question, keyword, latency, not problems, "; ".join(problems), answer, False, follow_up)
    outcome.keyword_found = found
    return outcome, result


def reference_answers(url: str) -> Reference:
    """Every question and follow-up the users ask, asked alone by one client, one after another."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    reference: Reference = {}
    for index, (question, keyword) in enumerate(QUESTIONS):
        outcome, result = ask_once(client, 0, question, keyword, None, None)
        reference[(question, ())] = outcome.answer
        if index in FOLLOW_UPS and result:
            follow_up, subject = FOLLOW_UPS[index]
            history = [str(result.get("standalone_question") or question)]
            reference[(follow_up, tuple(history))] = ask_once(client, 0, follow_up, subject, history, None)[0].answer
    return reference


def ask_as_user(url: str, user: int, start: threading.Barrier, reference: Reference) -> list[UserResult]:
    """One user: own client (own session), waits for the others, asks; some go on with a follow-up."""
    from gradio_client import Client

    index = (user - 1) % len(QUESTIONS)
    question, keyword = QUESTIONS[index]
    client = Client(url, verbose=False)
    start.wait()
    first, result = ask_once(client, user, question, keyword, None, reference)
    if index not in FOLLOW_UPS or not first.ok:
        return [first]
    follow_up, subject = FOLLOW_UPS[index]
    history = [str(result.get("standalone_question") or question)]
    return [first, ask_once(client, user, follow_up, subject, history, reference)[0]]


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


def release_users(url: str, users: int, reference: Reference) -> tuple[list[UserResult], float]:
    """``users`` clients, each with its own question, asking at the same moment; their results (a
    follow-up is a second result of its user) and the wall time from the release until the last finished."""
    barrier = threading.Barrier(users + 1)
    results: list[list[UserResult]] = [[] for _ in range(users)]

    def worker(i: int) -> None:
        try:
            results[i] = ask_as_user(url, i + 1, barrier, reference)
        except Exception as exc:  # e.g. the client could not connect
            barrier.abort()
            question, keyword = QUESTIONS[i % len(QUESTIONS)]
            results[i] = [UserResult(i + 1, question, keyword, 0.0, False, f"{type(exc).__name__}: {exc}")]

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    # A user that could not connect breaks the barrier; its result says why, the others still run.
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=300)
    wall_began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=1800)
    wall_s = time.perf_counter() - wall_began
    return [r for user in results for r in user], wall_s


def fill_index(data_dir: Path, chunks: int, settings: list[str]) -> dict[str, Any]:
    """The index in ``data_dir`` filled to about ``chunks`` chunks: corpus/ and synthetic articles, timed."""
    articles = ensure_corpus(data_dir.parent / "bench-articles", corpus_files(chunks))
    command = [*rag_command(), *_set_flags(settings), "ingest", str(REPO / "corpus"), str(articles), "--json"]
    began = time.perf_counter()
    done = subprocess.run(command, env=child_env(RAG_DATA_DIR=str(data_dir)), capture_output=True, text=True)
    if done.returncode not in (0, 3):
        raise RuntimeError(f"rag ingest failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    return {"chunks": report["chunks"], "added": report["added"], "seconds": round(time.perf_counter() - began, 1)}


def server_peak_rss_mb(pid: int) -> float | None:
    """The server's peak resident memory (Linux ``VmHWM``), or None where /proc is not there."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), "")
    return round(int(line.split()[1]) / 1024, 1) if line else None


def _set_flags(settings: list[str]) -> list[str]:
    return [flag for item in settings for flag in ("--set", item)]


def run(
    users: int, data_dir: Path, generator: str, start_timeout: float, chunks: int = 0, settings: list[str] | None = None
) -> dict[str, Any]:
    settings = settings or []
    index = fill_index(data_dir, chunks, settings) if chunks else None
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = data_dir.parent / f"{data_dir.name}-rag-ui.log"
    command = [sys.executable, "-m", "rag.cli", *_set_flags(settings), "ui", "--port", str(port)]
    started = time.perf_counter()
    env = ui_environment(data_dir, generator)
    with background_server("rag ui", command, port, log, env, start_timeout, REPO) as server:
        ready_s = time.perf_counter() - started
        from gradio_client import Client

        warm_began = time.perf_counter()
        Client(url, verbose=False).predict(WARM_UP, api_name="/ask")
        warm_up_s = time.perf_counter() - warm_began
        reference = reference_answers(url)
        done, wall_s = release_users(url, users, reference)
        peak_mb = server_peak_rss_mb(server.pid)
    latencies = [r.latency_s for r in done if r.ok]
    requests = len(done)
    busy = sum(r.busy for r in done)
    failed = sum(not r.ok and not r.busy for r in done)
    return {
        "users": users,
        "requests": requests,
        "follow_ups": sum(r.follow_up for r in done),
        "generator": generator,
        "settings": settings,
        "index": index,
        "ok": sum(r.ok for r in done),
        "busy": busy,
        "failed": failed,
        "error_rate": round(failed / requests, 4) if requests else None,
        "busy_rate": round(busy / requests, 4) if requests else None,
        "keyword_found": sum(r.keyword_found for r in done if r.ok),
        "server_ready_s": round(ready_s, 2),
        "warm_up_s": round(warm_up_s, 2),
        "wall_s": round(wall_s, 2),
        "server_peak_rss_mb": peak_mb,
        "latency_s": {
            "p50": round(percentile(latencies, 0.5), 2),
            "p95": round(percentile(latencies, 0.95), 2),
            "p99": round(percentile(latencies, 0.99), 2),
            "max": round(max(latencies), 2) if latencies else None,
            "min": round(min(latencies), 2) if latencies else None,
        },
        "results": [asdict(r) for r in done],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--chunks", type=int, default=0, help="fill the index to about this many chunks first")
    parser.add_argument("--data-dir", type=Path, help="index to use (default: a fresh temp dir, corpus/ ingested)")
    parser.add_argument("--generator", default="extractive", choices=["auto", "extractive", "local", "openai"])
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="passed to rag")
    parser.add_argument("--start-timeout", type=float, default=1200.0, help="seconds for start-up and ingest")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.users < 1:
        parser.error("--users must be at least 1")
    options = {"generator": args.generator, "start_timeout": args.start_timeout, "chunks": args.chunks}
    if args.data_dir:
        report = run(args.users, args.data_dir.resolve(), settings=args.set, **options)
    else:
        with tempfile.TemporaryDirectory(prefix="rag-bench-ui-") as tmp:
            report = run(args.users, Path(tmp) / "data", settings=args.set, **options)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for r in report["results"]:
            mark = "busy" if r["busy"] else "ok  " if r["ok"] else "FAIL"
            note = f"  <- {r['problem']}" if r["problem"] else ""
            print(f"{mark} user {r['user']:2d}  {r['latency_s']:6.2f} s  {r['question']}{note}")
        lat = report["latency_s"]
        index = report["index"]
        filled = f"; index {index['chunks']} chunks, ingested in {index['seconds']} s" if index else ""
        print(
            f"\n{report['ok']}/{report['requests']} requests of {report['users']} users ({report['follow_ups']} "
            f"follow-ups) correct and separate, {report['busy']} told busy, {report['failed']} failed "
            f"(error rate {report['error_rate']:.1%}; {report['keyword_found']} hold the expected fact); "
            f"latency p50 {lat['p50']} s, p95 {lat['p95']} s, "
            f"p99 {lat['p99']} s, max {lat['max']} s; wall time {report['wall_s']} s; server peak RSS "
            f"{report['server_peak_rss_mb']} MB (ready in {report['server_ready_s']} s, warm-up question "
            f"{report['warm_up_s']} s){filled}"
        )
    return 0 if report["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
