"""The parent process: which measurements make up each section of the report, and the run as a whole.

Each section method runs its measurements as child processes (:class:`benchmark.child.Runner`)
and stores what they return under ``results[section]``; :func:`run_benchmark` runs the plan's
sections in order, so that a failed section costs only its own numbers.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmark import REPO
from benchmark.child import Runner
from benchmark.corpus import corpus_files, ensure_corpus, questions_for
from benchmark.filings import ensure_pdfs
from benchmark.measure import elapsed_ms, percentiles
from benchmark.plan import ALL_SECTIONS, Plan, size_label
from benchmark.processes import background_server, child_env, free_port, rag_command
from benchmark.report import targets
from benchmark.workers.startup import import_time_top

Result = dict[str, Any]


@dataclass
class Bench:
    """One run's sections, sharing its plan, cache, index folder, child runner and ``results``
    (later sections reuse what earlier ones built: the scale indexes, the throughput figures)."""

    plan: Plan
    cache: Path
    work: Path
    runner: Runner
    backend: str
    results: dict[str, Any] = field(default_factory=dict)

    def corpus(self, n_chunks: int) -> Path:
        return ensure_corpus(self.cache, corpus_files(n_chunks))

    def paths(self, n_chunks: int) -> list[str]:
        """What the ingest is given: the corpus folder, as a user would (``rag ingest FOLDER``)."""
        return [str(self.corpus(n_chunks))]

    def data_dir(self, label: str) -> str:
        """A fresh (emptied) index folder named ``label``."""
        path = self.work / label
        shutil.rmtree(path, ignore_errors=True)
        return str(path)

    def scale_dir(self, size: int) -> Path:
        """Where the scale section left its index of ``size`` chunks (later sections reuse it)."""
        return self.work / f"scale-{size_label(size)}"

    def ingest(self, data_dir: str, n_chunks: int, timeout: float = 1800, **spec: Any) -> Result:
        """The project's ingest of the ~``n_chunks`` corpus into ``data_dir``, in a child process."""
        base = {"data_dir": data_dir, "paths": self.paths(n_chunks), "backend": self.backend}
        return self.runner.worker("ingest", {**base, **spec}, timeout=timeout)

    def query(self, data_dir: str, queries: list[str], **spec: Any) -> Result:
        """Query latency over the index in ``data_dir``, in a child process."""
        return self.runner.worker("query", {"data_dir": data_dir, "backend": self.backend, "queries": queries, **spec})

    # sections ---------------------------------------------------------------------------
    def throughput(self) -> None:
        n = self.plan.throughput_chunks
        corpus = str(self.corpus(n))
        say = self.runner.say
        out: dict[str, Any] = {"corpus_chunks_target": n, "files": corpus_files(n)}
        say(f"throughput on ~{n} chunks: raw encoders")
        encode = {"corpus": corpus, "batch_size": 32}
        out["raw_torch"] = self.runner.worker("encode", {**encode, "backend": "torch"})
        out["raw_onnx"] = self.runner.worker("encode", {**encode, "backend": "onnx"})
        if self.plan.bf16_row:
            out["raw_torch_bf16"] = self.runner.worker("encode", {**encode, "backend": "torch", "bf16": True})
        for backend in dict.fromkeys([*(["torch"] if self.plan.torch_ingest_row else []), self.backend]):
            say(f"throughput: project ingest, {backend} backend")
            out[f"ingest_{backend}"] = self.ingest(self.data_dir(f"tp-{backend}"), n, backend=backend)
        say("throughput: llama-index baseline (chunk size 200/30, as the project)")
        out["llama"] = self.runner.worker(
            "llama_ingest",
            {"corpus": corpus, "data_dir": self.data_dir("tp-llama"), "chunk_size": 200, "chunk_overlap": 30},
        )
        if self.plan.llama_defaults:
            say("throughput: llama-index baseline, all defaults (1024-token chunks)")
            out["llama_defaults"] = self.runner.worker(
                "llama_ingest", {"corpus": corpus, "data_dir": self.data_dir("tp-llama-defaults")}
            )
        out["ratios"] = throughput_ratios(out, self.backend)
        self.results["throughput"] = out

    def scale(self) -> None:
        bank = str(self.work / "bank.npy")
        self.results["scale"] = {size_label(size): self._scale_entry(size, bank) for size in sorted(self.plan.sizes)}

    def _scale_entry(self, size: int, bank: str) -> Result:
        """Ingest (model or vector bank), first and warm queries, and the llama-index retriever at one size."""
        say = self.runner.say
        label = size_label(size)
        entry: dict[str, Any] = {"target_chunks": size, "files": corpus_files(size)}
        data_dir = self.data_dir(f"scale-{label}")
        spec: dict[str, Any] = {"reingest": True}
        if size > self.plan.model_max:
            if not Path(bank).is_file():
                raise RuntimeError("the vector bank comes from the largest model-embedded size; none ran")
            spec["bank"] = bank
        if size == self.plan.largest_model_size and size <= self.plan.model_max:
            spec["save_bank"] = bank
        say(f"scale {label}: ingest ({'vector bank' if 'bank' in spec else 'model'})")
        entry["ingest"] = self.ingest(data_dir, size, timeout=3600, **spec)
        queries = questions_for(corpus_files(size), self.plan.queries)
        say(f"scale {label}: first question after the ingest (builds the BM25 cache)")
        entry["query_first"] = self.query(data_dir, [], warm_up_only=True)
        say(f"scale {label}: queries (warm, BM25 from its cache)")
        entry["query"] = self.query(data_dir, queries)
        if size in self.plan.baseline_sizes:
            say(f"scale {label}: llama-index retriever")
            entry["llama_retriever"] = self.runner.worker(
                "llama_query",
                {"data_dir": data_dir, "baseline_dir": self.data_dir(f"llama-{label}"), "queries": queries},
            )
        return entry

    def pdf(self) -> None:
        self.runner.say(f"pdf: {self.plan.pdf_docs} filings x {self.plan.pdf_pages} pages")
        paths, markers = ensure_pdfs(self.cache, self.plan.pdf_docs, self.plan.pdf_pages)
        self.results["pdf"] = self.runner.worker("pdf", {"paths": [str(p) for p in paths], "markers": markers})

    def startup(self) -> None:
        say = self.runner.say
        out: dict[str, Any] = {}
        say("startup: rag --help")
        help_command = [*rag_command(), "--help"]
        helps = [
            elapsed_ms(subprocess.run, help_command, env=child_env(), stdout=subprocess.DEVNULL, check=True)
            for _ in range(self.plan.help_runs)
        ]
        out["help"] = percentiles(helps)
        bare_ms = elapsed_ms(subprocess.run, [sys.executable, "-c", "pass"], env=child_env(), check=True)
        out["python_bare_ms"] = round(bare_ms, 1)
        size = self.plan.largest_model_size
        data_dir = str(self.scale_dir(size))
        if not Path(data_dir).is_dir():
            say("startup: no index to ask; building a small one")
            data_dir = self.data_dir("startup")
            self.ingest(data_dir, 200)
        question, second_question = questions_for(corpus_files(size), 2)
        env = child_env(RAG_DATA_DIR=data_dir, RAG_GENERATOR="extractive", RAG_EMBEDDING_BACKEND=self.backend)
        asks = []
        for _ in range(self.plan.ask_runs):
            say("startup: cold rag ask")
            asks.append(
                elapsed_ms(subprocess.run, [*rag_command(), "ask", question], env=env, stdout=subprocess.DEVNULL,
                           check=True)
            )  # fmt: skip
        out["ask"] = percentiles(asks)
        out["ask_index_chunks"] = size
        out["breakdown"] = self.runner.worker(
            "startup",
            {"data_dir": data_dir, "backend": self.backend, "question": question, "question2": second_question},
        )
        out["importtime_top"] = import_time_top(env, question)
        self.results["startup"] = out

    def server(self) -> None:
        """The same ingest and queries against ``chroma run`` on loopback: end to end on the throughput
        corpus, and at ``server_size`` with the vectors the embedded run stored (the model's share is the
        same in both modes, so only the store differs)."""
        chroma = Path(sys.executable).with_name("chroma")
        if not chroma.is_file():
            self.results["server"] = {"skipped": "no chroma executable next to python"}
            return
        port = free_port()
        path = Path(self.data_dir("server-chroma"))
        self.runner.say(f"server: chroma run on port {port}")
        command = [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
        log = self.work / "chroma-server.log"
        with background_server("the chroma server", command, port, log, env=child_env(), start_timeout=120):
            out = self._against_server(f"http://127.0.0.1:{port}")
        tp = self.results.get("throughput", {}).get(f"ingest_{self.backend}")
        if tp:
            out["embedded_e2e_chunks_per_s"] = tp["chunks_per_s"]
        entry = self.results.get("scale", {}).get(size_label(self.plan.server_size))
        if entry:
            out["embedded_query"] = entry["query"]
        self.results["server"] = out

    def _against_server(self, url: str) -> Result:
        say = self.runner.say
        size = self.plan.server_size
        out: dict[str, Any] = {"size": size}
        n = self.plan.throughput_chunks
        say(f"server: ingest ~{n} chunks end to end (collection bench_tp)")
        out["ingest_e2e"] = self.ingest(self.data_dir("server-client-tp"), n, chroma_url=url, collection="bench_tp")
        workers = self.plan.server_workers
        if workers > 1:
            say(f"server: the same ingest with --workers {workers} (collection bench_tp_workers)")
            data_dir = self.data_dir("server-client-tp-workers")
            got = self.ingest(data_dir, n, chroma_url=url, collection="bench_tp_workers", workers=workers)
            out["ingest_e2e_workers"] = {**got, "workers": workers}
        embedded = self.scale_dir(size)
        reuse = {"reuse_from": str(embedded)} if embedded.is_dir() else {}
        say(f"server: ingest ~{size} chunks ({'vectors reused' if reuse else 'model'})")
        data_dir = self.data_dir("server-client")
        out["ingest"] = self.ingest(data_dir, size, timeout=3600, chroma_url=url, reingest=True, **reuse)
        queries = questions_for(corpus_files(size), self.plan.queries)
        say("server: queries")
        self.query(data_dir, [], chroma_url=url, warm_up_only=True)  # builds the BM25 cache
        out["query"] = self.query(data_dir, queries, chroma_url=url)
        return out

    def quality(self) -> None:
        out: dict[str, Any] = {}
        for backend in ("torch", "onnx"):
            self.runner.say(f"quality: corpus/ and eval/questions.jsonl, embedding.backend={backend}")
            out[backend] = self.runner.worker(
                "quality",
                {"data_dir": self.data_dir(f"quality-{backend}"), "backend": backend,
                 "corpus": str(REPO / "corpus"), "questions": str(REPO / "eval" / "questions.jsonl")},
                timeout=3600,
            )  # fmt: skip
        out["measured"] = time.strftime("%Y-%m-%d %H:%M")
        self.results["quality"] = out

    def profile(self) -> None:
        say = self.runner.say
        out: dict[str, Any] = {}
        try:
            import pyinstrument  # noqa: F401
        except ImportError:
            self.results["profile"] = {"skipped": "pyinstrument is not installed (pip install pyinstrument)"}
            return
        n = min(500, self.plan.throughput_chunks)
        say(f"profile: ingest of ~{n} chunks")
        out["ingest"] = self.ingest(self.data_dir("profile"), n, profile=True).get("profile")
        big = max(self.plan.sizes)
        label = size_label(big)
        data_dir = self.scale_dir(big)
        if data_dir.is_dir():
            say(f"profile: hybrid retrieval and answers at {label}")
            queries = questions_for(corpus_files(big), min(10, self.plan.queries))
            got = self.query(
                str(data_dir), queries, profile_retrieval=True, profile_answer=True,
                skip_modes=["dense", "bm25", "hybrid+rerank"],
            )  # fmt: skip
            out["retrieval_hybrid"] = got.get("profile_retrieval")
            out["answer"] = got.get("profile_answer")
            out["at"] = label
        self.results["profile"] = out


def throughput_ratios(out: Result, backend: str) -> dict[str, float]:
    """The project's ingest against the raw encoders and the llama-index baseline, in chunks per second
    (and in wall time against llama-index, whose chunk count differs)."""

    def faster(a: str, b: str) -> float:
        return round(out[a]["chunks_per_s"] / out[b]["chunks_per_s"], 2)

    ingest = f"ingest_{backend}"
    ratios = {
        "ingest_vs_raw_same_backend": faster(ingest, f"raw_{backend}"),
        "ingest_vs_raw_torch": faster(ingest, "raw_torch"),
        "ingest_vs_llama": faster(ingest, "llama"),
        "ingest_vs_llama_wall": round(out["llama"]["seconds"] / out[ingest]["seconds"], 2),
        "raw_onnx_vs_raw_torch": faster("raw_onnx", "raw_torch"),
    }
    if "ingest_torch" in out:
        ratios["ingest_torch_vs_raw_torch"] = faster("ingest_torch", "raw_torch")
    return ratios


def run_benchmark(bench: Bench, command: str, previous: Path) -> Result:
    """Every section of the plan, in order, with the run's metadata and targets; a section that fails is
    recorded under ``errors`` and the others still run. Quality, measured only on request, is carried
    over from the ``previous`` results when this run did not measure it."""
    started = time.perf_counter()
    results = bench.results
    results["meta"] = {
        "command": command,
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}",
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "backend": bench.backend,
        "plan": asdict(bench.plan),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    for section in ALL_SECTIONS:
        if section not in bench.plan.sections:
            continue
        try:
            getattr(bench, section)()
        except Exception as exc:  # one failed section must not lose the others' numbers
            bench.runner.say(f"{section} failed: {exc}")
            results.setdefault("errors", {})[section] = f"{type(exc).__name__}: {exc}"
    if "quality" not in results and previous.is_file():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            earlier = json.loads(previous.read_text())
            if "quality" in earlier:
                results["quality"] = earlier["quality"]  # measured by an earlier --sections quality
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = targets(results)
    return results
