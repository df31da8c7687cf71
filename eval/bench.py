"""Performance and scale benchmark: ingest, retrieval, answers, PDF parsing, start-up and memory.

``python eval/bench.py`` (about 15 minutes on two cores) builds deterministic
synthetic corpora (financing-news articles from templates and a seeded RNG) of
about 1k, 10k and 100k chunks plus SEC-filing-like PDFs, in a cache directory
(``~/.cache/rag-bench``, reused by later runs), and measures side by side:

* ingest throughput of the project's :class:`~rag.ingest.ingestor.Ingestor` (files to a
  queryable Chroma) against the raw limit (``SentenceTransformer.encode`` alone
  on the same chunk texts, same model and batch size) and against the baseline
  a user would write (llama-index ``VectorStoreIndex.from_documents`` into
  ``ChromaVectorStore`` with ``HuggingFaceEmbedding`` of the same model);
* retrieval latency (dense, BM25, hybrid, hybrid + rerank) and whole extractive
  answers with verification, warm, at each size, next to llama-index's
  ``as_retriever(similarity_top_k=6)``;
* PDF pages per second (pypdfium2 loader vs llama-index's pypdf ``PDFReader``)
  with a text-quality check (each page's paragraphs on that page, in order);
* start-up (``rag --help``; a cold ``rag ask`` with its breakdown);
* peak RSS of the ingest and query processes at each size;
* embedded Chroma against a ``chroma run`` server started by the bench;
* pyinstrument profiles of ingest and of queries (top frames by own time).

The 100k index reuses the 10k corpus's real embeddings with small random
perturbations (the "vector bank"): it measures the store and the retriever,
not the model. Every measurement that needs its own memory figure runs in a
child process (``python eval/bench.py --worker NAME SPEC``), whose peak RSS is
read from ``getrusage``.

``--quick`` runs a small version (a few minutes); ``--json`` prints the results
as JSON. Results go to ``eval/bench_results/bench.json`` and ``bench.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CORPUS_VERSION = "bench-corpus-v1"
PDF_VERSION = "bench-pdf-v1"
PARAGRAPHS_PER_FILE = 13  # about 10 chunks of 200 word pieces per file
CHUNKS_PER_FILE = 10
BANK_SIGMA = 0.05
RESULT_PREFIX = "BENCH_RESULT "
RERANK_QUERIES = 10
PDF_PASSES = 5


@dataclass(frozen=True)
class Plan:
    """What one run measures; ``--quick`` and the test use smaller ones."""

    throughput_chunks: int = 2000
    sizes: tuple[int, ...] = (1000, 10_000, 100_000)
    model_max: int = 10_000  # sizes above this use the vector bank instead of the model
    queries: int = 30
    pdf_docs: int = 3
    pdf_pages: int = 120
    server_size: int = 10_000
    server_workers: int = 2  # also time the server ingest with `--workers N` (0: skip)
    baseline_sizes: tuple[int, ...] = (1000, 10_000)
    help_runs: int = 5
    ask_runs: int = 3
    # "quality" (the whole eval/questions.jsonl run per embedding backend, ~2 minutes each) is not in
    # the default run: `python eval/bench.py --sections quality` refreshes it, and later runs carry it over.
    sections: tuple[str, ...] = ("throughput", "scale", "pdf", "startup", "server", "profile")
    llama_defaults: bool = True  # also time llama-index with its 1024-token default chunks
    bf16_row: bool = False  # also time sentence-transformers under bfloat16 autocast (--bf16)
    torch_ingest_row: bool = False  # also time the project's ingest with embedding.backend=torch

    @property
    def largest_model_size(self) -> int:
        return max([s for s in self.sizes if s <= self.model_max] or [min(self.sizes)])


FULL = Plan()
ALL_SECTIONS = ("throughput", "scale", "pdf", "startup", "server", "profile", "quality")
QUICK = Plan(
    throughput_chunks=300,
    sizes=(300, 1000, 5000),
    model_max=1000,
    queries=12,
    pdf_docs=1,
    pdf_pages=40,
    server_size=1000,
    baseline_sizes=(300, 1000),
    help_runs=3,
    ask_runs=1,
    llama_defaults=False,
)
TOY = Plan(  # tests/test_bench.py: every code path, as little data as possible
    throughput_chunks=100,
    sizes=(200, 400),
    model_max=200,
    queries=3,
    pdf_docs=1,
    pdf_pages=4,
    server_size=200,
    baseline_sizes=(200,),
    help_runs=1,
    ask_runs=1,
    sections=("throughput", "scale", "pdf", "startup", "server", "profile"),
    llama_defaults=False,
    torch_ingest_row=True,
)


# -- synthetic corpus ------------------------------------------------------------------
_SYL_A = ("Aur", "Bel", "Cor", "Dax", "Ely", "Fen", "Gal", "Hex", "Ion", "Jar", "Kel", "Lum", "Mor",
          "Nyx", "Orb", "Pax", "Quor", "Ryn", "Sol", "Tal", "Ulm", "Vex", "Wyl", "Xen", "Yor", "Zep")  # fmt: skip
_SYL_B = ("ora", "ent", "ix", "ium", "ara", "eon", "ic", "os", "ant", "ova", "ith", "un")
_KINDS = ("Labs", "AI", "Systems", "Robotics", "Compute", "Networks", "Dynamics", "Bio", "Cloud", "Energy")
_FUND_A = ("North", "Blue", "Granite", "Summit", "Harbor", "Iron", "Silver", "Cedar", "Atlas", "Beacon",
           "Crescent", "Delta", "Evergreen", "Falcon", "Horizon", "Keystone", "Lighthouse", "Meridian")  # fmt: skip
_FUND_B = ("gate", "stone", "ridge", "field", "brook", "wood", "point", "line", "peak", "bridge")
_FUND_KIND = ("Capital", "Partners", "Ventures", "Growth", "Holdings", "Investments", "Fund")
_FIRST = ("Ada", "Ben", "Chen", "Dara", "Eli", "Farah", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena", "Mateo",
          "Nia", "Omar", "Priya", "Rafael", "Sara", "Tomas", "Uma", "Viktor", "Wen", "Yara", "Zane")  # fmt: skip
_LAST = ("Abara", "Brandt", "Castillo", "Dubois", "Eriksen", "Fujita", "Garcia", "Haddad", "Ivanova",
         "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
         "Schmidt", "Tanaka", "Usman", "Varga", "Weber", "Xu", "Yilmaz", "Zhou")  # fmt: skip
_CITIES = ("Austin", "Dublin", "Singapore", "Toronto", "Paris", "Berlin", "Seoul", "Nairobi", "Phoenix",
           "Oslo", "Madrid", "Sydney", "Denver", "Lisbon", "Osaka", "Warsaw")  # fmt: skip
_ROUNDS = ("seed", "Series A", "Series B", "Series C", "Series D", "Series E", "Series F", "Series G")
_CHIPS = ("GPUs", "accelerators", "custom ASICs", "TPUs", "inference chips")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
_SENTENCES = (
    "{co} raised ${amt} billion in a {round} round led by {lead}, valuing the company at ${val} billion.",
    "{inv} and {inv2} also participated in the round, according to a filing dated {month} {day}, {year}.",
    "The company said the new capital would fund {chips} and a {gw}-gigawatt data center campus near {city}.",
    "{person}, the chief financial officer of {co}, told investors that revenue reached ${rev} million in {year}.",
    "Annualized revenue grew {pct} percent from the previous quarter, driven by enterprise contracts.",
    "{lead} committed ${amt2} billion in tranches tied to milestones over {years} years.",
    "Under the agreement, {co} will buy {chips} from {partner} worth up to ${amt2} billion.",
    "{partner} received warrants for up to {shares} million shares at an exercise price of ${price} each.",
    "The round brought total funding for {co} to ${total} billion since it was founded in {founded}.",
    "{co} employs about {staff} people across offices in {city} and {city2}.",
    "Analysts at {inv} estimated the deal at {mult} times forward revenue.",
    "A {debt} billion dollar credit facility arranged by {bank} Bank refinanced earlier loans.",
    "The board of {co} approved a tender offer letting employees sell shares at ${price} per share.",
    "{person2} joined the board as an independent director after the {round} closed.",
    "Regulators in {city2} reviewed the transaction and cleared it without conditions in {month}.",
    "{co} plans to deploy {units} thousand {chips} by the end of {year2}.",
    "The valuation was {pct2} percent above the price of the previous round in {prev_year}.",
    "{inv} declined to comment on the size of its stake, which sources put at {stake} percent.",
    "Compute spending is expected to exceed ${spend} billion over the next {years} years.",
    "The company said the {round} was oversubscribed, with {n_inv} investors taking part.",
    "Earlier in {prev_year}, {co} signed a ${amt2} billion cloud contract with {partner}.",
    "Shares of {partner} rose {pct} percent after the announcement in {month}.",
)
_QUESTIONS = (
    "Who led {co}'s {round} round?",
    "How much did {co} raise in its {round}, and at what valuation?",
    "Which chips will {co} buy from {partner}?",
    "What did {lead} commit to {co}?",
    "How many people does {co} employ?",
    "Which investors participated in the {co} financing?",
)


def _company(rng: random.Random) -> str:
    return f"{rng.choice(_SYL_A)}{rng.choice(_SYL_B)} {rng.choice(_KINDS)}"


def _fund(rng: random.Random) -> str:
    return f"{rng.choice(_FUND_A)}{rng.choice(_FUND_B)} {rng.choice(_FUND_KIND)}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _sentence_values(rng: random.Random, facts: dict[str, str], year: int) -> dict[str, Any]:
    return {
        **facts, "inv": _fund(rng), "inv2": _fund(rng), "month": rng.choice(_MONTHS),
        "day": rng.randint(1, 28), "year": year, "year2": year + rng.randint(1, 3),
        "prev_year": year - rng.randint(1, 3), "chips": rng.choice(_CHIPS), "gw": rng.randint(1, 10),
        "city": rng.choice(_CITIES), "city2": rng.choice(_CITIES), "person": _person(rng),
        "person2": _person(rng), "rev": rng.randint(20, 9000), "pct": rng.randint(3, 180),
        "pct2": rng.randint(5, 300), "amt2": f"{rng.randint(1, 120) / 4:g}", "years": rng.randint(2, 10),
        "shares": rng.randint(5, 400), "price": f"{rng.randint(100, 20000) / 100:.2f}",
        "total": rng.randint(2, 90), "founded": rng.randint(2010, year), "staff": rng.randint(40, 9000),
        "mult": rng.randint(8, 90), "debt": rng.randint(1, 30), "bank": rng.choice(_FUND_A),
        "units": rng.randint(10, 900), "stake": rng.randint(1, 30), "spend": rng.randint(5, 500),
        "n_inv": rng.randint(3, 120),
    }  # fmt: skip


def article_facts(index: int, seed: int = 7) -> tuple[random.Random, dict[str, str], int]:
    rng = random.Random(f"{seed}:{index}")
    facts = {
        "co": _company(rng), "lead": _fund(rng), "round": rng.choice(_ROUNDS),
        "amt": f"{rng.randint(1, 40) / 4:g}", "val": str(rng.randint(5, 400)), "partner": _company(rng),
    }  # fmt: skip
    return rng, facts, rng.randint(2019, 2026)


def paragraph(rng: random.Random, facts: dict[str, str], year: int, low: int = 4, high: int = 7) -> str:
    templates = rng.sample(_SENTENCES, rng.randint(low, high))
    return " ".join(t.format(**_sentence_values(rng, facts, year)) for t in templates)


def synthetic_article(index: int, paragraphs: int = PARAGRAPHS_PER_FILE, seed: int = 7) -> str:
    """One deterministic financing-news article: title line, dateline, paragraphs."""
    rng, facts, year = article_facts(index, seed)
    title = f"{facts['co']} raises ${facts['amt']} billion {facts['round']} led by {facts['lead']}"
    lines = [title, "", f"As of {year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}.", ""]
    for _ in range(paragraphs):
        lines += [paragraph(rng, facts, year), ""]
    return "\n".join(lines)


def questions_for(n_files: int, count: int, seed: int = 7) -> list[str]:
    """``count`` distinct questions about articles spread over the first ``n_files``."""
    out: list[str] = []
    step = max(1, n_files // max(1, count))
    for k in range(count):
        index = (k * step + k // max(1, n_files)) % n_files
        _, facts, _ = article_facts(index, seed)
        out.append(_QUESTIONS[k % len(_QUESTIONS)].format(**facts))
    return out


def corpus_files(n_chunks: int) -> int:
    return max(1, math.ceil(n_chunks / CHUNKS_PER_FILE))


def ensure_corpus(cache: Path, n_files: int) -> Path:
    """``cache/corpus-<n>f``: ``n_files`` articles (file i is the same in every corpus), made once."""
    folder = cache / f"corpus-{n_files}f"
    marker = folder / ".complete"
    if marker.is_file() and marker.read_text() == CORPUS_VERSION:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    staging = cache / f".corpus-{n_files}f.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for i in range(n_files):
        (staging / f"doc-{i:05d}.txt").write_text(synthetic_article(i), encoding="utf-8")
    (staging / ".complete").write_text(CORPUS_VERSION)
    staging.rename(folder)
    return folder


# -- SEC-filing-like PDFs ----------------------------------------------------------------
_ITEMS = (
    "Item 1. Business", "Item 1A. Risk Factors", "Item 2. Properties", "Item 3. Legal Proceedings",
    "Item 5. Market for Registrant's Common Equity", "Item 7. Management's Discussion and Analysis",
    "Item 7A. Quantitative and Qualitative Disclosures About Market Risk",
    "Item 8. Financial Statements and Supplementary Data", "Item 9A. Controls and Procedures",
)  # fmt: skip


def pdf_pages_content(doc: int, pages: int) -> list[dict[str, Any]]:
    """Per page: a heading, 3-4 paragraphs (each opening with a page-unique sentence), sometimes a table."""
    rng, facts, year = article_facts(100_000 + doc)
    content = []
    for page in range(1, pages + 1):
        paragraphs = []
        for k in range(rng.randint(3, 4)):
            opener = (
                f"Section {doc + 1}.{page}.{k + 1} reports that {facts['co']} recorded item {rng.randint(100, 999)}."
            )
            paragraphs.append(f"{opener} {paragraph(rng, facts, year, 3, 4)}")
        table = None
        if page % 5 == 0:
            table = [["Quarter", "Revenue ($M)", "Capex ($M)", "Headcount"]] + [
                [f"Q{q} {year}", str(rng.randint(50, 9000)), str(rng.randint(10, 4000)), str(rng.randint(40, 9000))]
                for q in range(1, 5)
            ]
        content.append(
            {"heading": f"{_ITEMS[(page - 1) * len(_ITEMS) // pages]} (continued, page {page})",
             "paragraphs": paragraphs, "table": table}
        )  # fmt: skip
    return content


def ensure_pdfs(cache: Path, n_docs: int, pages: int) -> tuple[list[Path], list[list[list[str]]]]:
    """PDFs made with reportlab once; returns them and, per page, the paragraph openers in order."""
    folder = cache / f"pdf-{n_docs}x{pages}"
    markers: list[list[list[str]]] = []
    contents = [pdf_pages_content(d, pages) for d in range(n_docs)]
    for content in contents:
        markers.append([[p.split(". ")[0] + "." for p in page["paragraphs"]] for page in content])
    marker = folder / ".complete"
    paths = [folder / f"filing-{d + 1:02d}.pdf" for d in range(n_docs)]
    if marker.is_file() and marker.read_text() == PDF_VERSION and all(p.is_file() for p in paths):
        return paths, markers
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for d, (path, content) in enumerate(zip(paths, contents, strict=True)):
        _write_filing_pdf(path, d, content)
    marker.write_text(PDF_VERSION)
    return paths, markers


def _write_filing_pdf(path: Path, doc: int, content: list[dict[str, Any]]) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _, facts, year = article_facts(100_000 + doc)
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    story: list[Any] = []
    for page in content:
        story.append(Paragraph(page["heading"], styles["Heading2"]))
        for text in page["paragraphs"]:
            story.append(Paragraph(text.replace("&", "&amp;").replace("$", "$"), body))
            story.append(Spacer(1, 4))
        if page["table"]:
            table = Table(page["table"])
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
            story.append(table)
        story.append(PageBreak())

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(72, 40, f"{facts['co']} | Form 10-K | Fiscal {year} | Page {document.page}")
        canvas.restoreState()

    tmp = path.with_suffix(".tmp")
    SimpleDocTemplate(
        str(tmp), pagesize=letter, title=f"{facts['co']} Form 10-K {year}", invariant=1,
        topMargin=54, bottomMargin=60,
    ).build(story, onFirstPage=footer, onLaterPages=footer)  # fmt: skip
    tmp.replace(path)


# -- helpers ---------------------------------------------------------------------------------
def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        position = (len(ordered) - 1) * q
        low, high = math.floor(position), math.ceil(position)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return {
        "n": len(ordered),
        "p50_ms": round(pick(0.5), 1),
        "p95_ms": round(pick(0.95), 1),
        "mean_ms": round(statistics.fmean(ordered), 1),
        "max_ms": round(ordered[-1], 1),
    }


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma server exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"the chroma server did not listen on {port} within {timeout} s")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", RAG_CONFIG=os.devnull)
    if "RAG_MODEL_CACHE" in os.environ:
        env["RAG_MODEL_CACHE"] = os.environ["RAG_MODEL_CACHE"]
    env.update(extra)
    return env


def rag_command() -> list[str]:
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "rag.cli"]


class Runner:
    """Runs workers as child processes; their stderr goes to one log file."""

    def __init__(self, log: Path, verbose: bool = False) -> None:
        self.log = log
        self.verbose = verbose
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")

    def say(self, message: str) -> None:
        line = f"[bench {time.strftime('%H:%M:%S')}] {message}"
        print(line, file=sys.stderr, flush=True)
        with self.log.open("a") as handle:
            handle.write(line + "\n")

    def worker(self, name: str, spec: dict[str, Any], timeout: float = 1800) -> dict[str, Any]:
        payload = json.dumps(spec)
        spec_file = self.log.parent / f".spec-{name}-{os.getpid()}.json"
        if len(payload) > 50_000:  # the argument list has a size limit
            spec_file.write_text(payload)
            payload = "@" + str(spec_file)
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, payload]
        started = time.perf_counter()
        try:
            with self.log.open("a") as handle:
                handle.write(f"\n$ worker {name} {json.dumps(spec)[:400]}\n")
                handle.flush()
                done = subprocess.run(
                    command,
                    stdout=subprocess.PIPE,
                    stderr=handle,
                    text=True,
                    env=child_env(),
                    cwd=REPO,
                    timeout=timeout,
                )
        finally:
            spec_file.unlink(missing_ok=True)
        lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"worker {name} failed with code {done.returncode}; see {self.log}")
        result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
        result["process_s"] = round(time.perf_counter() - started, 2)
        result["load_1m_after"] = round(os.getloadavg()[0], 2)  # the machine may be shared: say how busy it was
        with self.log.open("a") as handle:
            handle.write(f"= {name}: {json.dumps({k: v for k, v in result.items() if not k.startswith('profile')})}\n")
        return result


# -- workers (child processes) ---------------------------------------------------------------
def _settings(spec: dict[str, Any]) -> Any:
    from rag.config import load_settings

    overrides = {"store.data_dir": spec["data_dir"], "generator.name": "extractive"}
    if spec.get("backend"):
        overrides["embedding.backend"] = spec["backend"]
    if spec.get("collection"):
        overrides["store.collection"] = spec["collection"]
    if spec.get("chroma_url"):
        overrides["store.chroma_url"] = spec["chroma_url"]
        overrides["store.timeout_s"] = "120"
    return load_settings(overrides, environ={})


class BankEmbedder:
    """The real embedder's tokenizer and query encoder; chunk vectors drawn from a bank of real
    chunk embeddings (chosen by a hash of the text) plus small Gaussian noise, re-normalised.
    Builds large indexes without spending the model's time on them."""

    def __init__(self, real: Any, bank: Any, sigma: float = BANK_SIGMA) -> None:
        self.real = real
        self.bank = bank
        self.sigma = sigma
        self.settings = real.settings
        self.model_path = real.model_path
        self.identity = real.identity  # the bank holds this model's vectors

    def embed(self, texts: list[str], batch_size: int | None = None) -> Any:
        import numpy as np

        keys = [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little") for t in texts]
        rng = np.random.default_rng(keys[0] if keys else 0)
        vectors = self.bank[[k % len(self.bank) for k in keys]]
        vectors = vectors + rng.normal(0.0, self.sigma / math.sqrt(vectors.shape[1]), vectors.shape)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(np.float32)

    def embed_query(self, text: str) -> Any:
        return self.real.embed_query(text)

    def count_tokens(self, text: str) -> list[int]:
        return list(self.real.count_tokens(text))

    @property
    def dimension(self) -> int:
        return int(self.bank.shape[1])


class ReuseEmbedder(BankEmbedder):
    """Exactly the vectors an earlier ingest of the same files stored (looked up by chunk text), so
    a second store can be filled without spending the model's time again; the model for anything else."""

    def __init__(self, real: Any, vectors: dict[str, Any]) -> None:
        super().__init__(real, bank=None)
        self.vectors = vectors

    def embed(self, texts: list[str], batch_size: int | None = None) -> Any:
        import numpy as np

        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.real.embed(missing), strict=True))
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    @property
    def dimension(self) -> int:
        return int(self.real.dimension)


def stored_vectors(data_dir: str) -> dict[str, Any]:
    """Chunk text -> vector of the embedded store in ``data_dir``."""
    import numpy as np

    from rag.config import StoreSettings
    from rag.index.store import make_client

    settings = StoreSettings(data_dir=Path(data_dir))
    collection = make_client(settings).get_collection(settings.collection)
    vectors: dict[str, Any] = {}
    offset = 0
    while True:
        got = collection.get(limit=5000, offset=offset, include=["documents", "embeddings"])
        if not got["ids"]:
            return vectors
        for text, vector in zip(got["documents"], got["embeddings"], strict=True):
            vectors[text] = np.asarray(vector, dtype=np.float32)
        offset += len(got["ids"])


@contextlib.contextmanager
def maybe_profile(enabled: bool, out: dict[str, Any], key: str) -> Iterator[None]:
    if not enabled:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        out[key] = summarize_profile(profiler)


def summarize_profile(profiler: Any, top: int = 15) -> dict[str, Any]:
    """Top frames by own time (flat) and by total time, from a pyinstrument session."""
    session = profiler.last_session
    root = session.root_frame()
    own: dict[str, float] = {}
    total: dict[str, float] = {}

    def label(frame: Any) -> str:
        path = frame.file_path_short or frame.file_path or ""
        return f"{frame.function} ({path}:{frame.line_no})"

    def walk(frame: Any, seen: frozenset[str]) -> None:
        name = label(frame)
        real = [child for child in frame.children if not child.is_synthetic]
        own[name] = own.get(name, 0.0) + frame.time - sum(child.time for child in real)
        if name not in seen:
            total[name] = total.get(name, 0.0) + frame.time
        for child in real:
            walk(child, seen | {name})

    if root is not None:
        walk(root, frozenset())
    duration = session.duration or 1e-9

    def rows(table: dict[str, float]) -> list[dict[str, Any]]:
        ranked = sorted(table.items(), key=lambda kv: -kv[1])[:top]
        return [{"frame": k, "seconds": round(v, 3), "percent": round(100 * v / duration, 1)} for k, v in ranked]

    return {"duration_s": round(duration, 3), "own": rows(own), "total": rows(total)}


def w_encode(spec: dict[str, Any]) -> dict[str, Any]:
    """Raw encoder throughput: sentence-transformers (or the ONNX encoder) on the chunk texts alone."""
    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder, resolve_model_path
    from rag.ingest.chunking import Chunker
    from rag.ingest.loaders import load_file

    path = resolve_model_path(EmbeddingSettings().model)
    tokenizer = Embedder(EmbeddingSettings(backend="torch")).count_tokens
    chunker = Chunker(200, 30, tokenizer=tokenizer)
    texts = [c.text for f in sorted(Path(spec["corpus"]).glob("*.txt")) for c in chunker.split(load_file(f), "0" * 32)]
    started = time.perf_counter()
    if spec["backend"] == "onnx":
        from rag.index.onnx_embed import OnnxEncoder

        encoder = OnnxEncoder(path)

        def encode(items: list[str]) -> Any:
            return encoder.encode(items, batch_size=spec["batch_size"])
    else:
        import torch
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(path), device="cpu")

        def encode(items: list[str]) -> Any:
            context = torch.autocast("cpu", dtype=torch.bfloat16) if spec.get("bf16") else contextlib.nullcontext()
            with context:
                return model.encode(
                    items, batch_size=spec["batch_size"], normalize_embeddings=True, convert_to_numpy=True,
                    show_progress_bar=False,
                )  # fmt: skip

    encode(texts[:4])
    loaded = time.perf_counter()
    vectors = encode(texts)
    seconds = time.perf_counter() - loaded
    if spec.get("save_vectors"):
        import numpy as np

        np.save(spec["save_vectors"], vectors)
    return {
        "chunks": len(texts),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(texts) / seconds, 1),
        "load_s": round(loaded - started, 2),
        "mean_chars": round(sum(map(len, texts)) / max(1, len(texts))),
    }


def w_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """The project's Ingestor, files -> queryable Chroma; optionally again (unchanged) and profiled."""
    import numpy as np

    from rag.index.embed import Embedder
    from rag.index.store import ChromaStore
    from rag.ingest.ingestor import Ingestor

    started = time.perf_counter()
    settings = _settings(spec)
    store = ChromaStore(settings.store)
    embedder: Any = Embedder(settings.embedding)
    embedder.embed(["warm up the model before the clock starts"] * 8)
    vectors = "model"
    if spec.get("bank"):
        embedder, vectors = BankEmbedder(embedder, np.load(spec["bank"])), "bank"
    elif spec.get("reuse_from"):
        embedder, vectors = ReuseEmbedder(embedder, stored_vectors(spec["reuse_from"])), "reused"
    loaded = time.perf_counter()
    paths = [Path(p) for p in spec["paths"]]
    out: dict[str, Any] = {"load_s": round(loaded - started, 2), "vectors": vectors}
    ingestor = Ingestor(settings, store, embedder)
    with maybe_profile(spec.get("profile", False), out, "profile"):
        t0 = time.perf_counter()
        report = ingestor.ingest(paths, workers=spec.get("workers"))
        seconds = time.perf_counter() - t0
    if report.failed:
        raise RuntimeError(f"ingest failed on {report.failed[:3]}")
    out.update(
        files=report.files,
        chunks=report.added,
        seconds=round(seconds, 2),
        chunks_per_s=round(report.added / seconds, 1),
        peak_rss_mb_ingest=peak_rss_mb(),
    )
    if spec.get("reingest"):
        t0 = time.perf_counter()
        again = ingestor.ingest(paths)
        out["reingest_s"] = round(time.perf_counter() - t0, 3)
        out["reingest_added"] = again.added
        out["reingest_ratio"] = round(out["reingest_s"] / seconds, 4)
    if spec.get("save_bank"):
        vectors = []
        offset = 0
        while True:
            got = store.chunks.get(limit=2000, offset=offset, include=["embeddings"])
            if not got["ids"]:
                break
            vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
            offset += len(got["ids"])
        np.save(spec["save_bank"], np.concatenate(vectors))
    out["count"] = store.count()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def w_query(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm retrieval latency per mode and whole extractive answers with verification."""
    from rag.pipeline import Pipeline

    settings = _settings(spec)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    pipeline = Pipeline.from_settings(settings)
    bm25_cached = pipeline.retriever.bm25_cache is not None and pipeline.retriever.bm25_cache.is_file()
    t1 = time.perf_counter()
    pipeline.warm_up()
    pipeline.answer("How much did the company raise in its latest round?")
    t2 = time.perf_counter()
    out.update(
        count=pipeline.store.count(),
        open_s=round(t1 - t0, 2),
        warm_up_s=round(t2 - t1, 2),
        bm25_cache_existed=bm25_cached,
    )
    if spec.get("warm_up_only"):
        out["peak_rss_mb"] = peak_rss_mb()
        return out
    queries: list[str] = spec["queries"]
    warm = ["Which bank arranged the credit facility?"]  # each mode's first call outside the clock
    modes = [("dense", "dense", False), ("bm25", "bm25", False), ("hybrid", "hybrid", False),
             ("hybrid+rerank", "hybrid", True)]  # fmt: skip
    retrieval: dict[str, Any] = {}
    with maybe_profile(spec.get("profile_retrieval", False), out, "profile_retrieval"):
        for name, mode, rerank in modes:
            if name in spec.get("skip_modes", []):
                continue
            for q in warm:
                pipeline.retriever.retrieve(q, top_k=6, mode=mode, rerank=rerank)
            times = []
            for q in queries[:RERANK_QUERIES] if rerank else queries:  # ~1 s each: fewer keep the run short
                t = time.perf_counter()
                pipeline.retriever.retrieve(q, top_k=6, mode=mode, rerank=rerank)
                times.append((time.perf_counter() - t) * 1000)
            retrieval[name] = percentiles(times)
    out["retrieval"] = retrieval
    answers: list[float] = []
    stages: dict[str, list[float]] = {"retrieve": [], "generate": [], "verify": []}
    abstained = 0
    with maybe_profile(spec.get("profile_answer", False), out, "profile_answer"):
        for q in queries:
            t = time.perf_counter()
            answer = pipeline.answer(q)
            answers.append((time.perf_counter() - t) * 1000)
            abstained += answer.abstained
            for key in stages:
                stages[key].append(float(answer.timings_ms.get(key, 0.0)))
    out["answer"] = percentiles(answers)
    out["answer_stages_p50_ms"] = {k: round(statistics.median(v), 1) for k, v in stages.items() if v}
    out["answer_abstained"] = abstained
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _llama_embedder() -> Any:
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from rag.config import EmbeddingSettings
    from rag.index.embed import resolve_model_path

    embed = HuggingFaceEmbedding(model_name=str(resolve_model_path(EmbeddingSettings().model)), device="cpu")
    embed.get_text_embedding("warm up the model before the clock starts")
    return embed


def w_llama_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """The baseline: SimpleDirectoryReader -> VectorStoreIndex.from_documents -> ChromaVectorStore."""
    import chromadb
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    started = time.perf_counter()
    embed = _llama_embedder()
    loaded = time.perf_counter()
    files = sorted(str(p) for p in Path(spec["corpus"]).glob("*.txt"))
    client = chromadb.PersistentClient(path=spec["data_dir"])
    collection = client.get_or_create_collection("baseline")
    kwargs: dict[str, Any] = {}
    if spec.get("chunk_size"):
        kwargs["transformations"] = [
            SentenceSplitter(chunk_size=spec["chunk_size"], chunk_overlap=spec["chunk_overlap"])
        ]
    t0 = time.perf_counter()
    documents = SimpleDirectoryReader(input_files=files).load_data()
    VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection)),
        embed_model=embed,
        **kwargs,
    )
    seconds = time.perf_counter() - t0
    return {
        "files": len(files),
        "chunks": collection.count(),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(collection.count() / seconds, 1),
        "load_s": round(loaded - started, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def w_llama_query(spec: dict[str, Any]) -> dict[str, Any]:
    """llama-index's retriever over the same chunks and vectors (copied from the project's store)."""
    import chromadb
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    embed = _llama_embedder()
    settings = _settings(spec)
    from rag.index.store import make_client

    source = make_client(settings.store).get_collection(settings.store.collection)
    client = chromadb.PersistentClient(path=spec["baseline_dir"])
    collection = client.get_or_create_collection("baseline")
    store = ChromaVectorStore(chroma_collection=collection)
    t0 = time.perf_counter()
    index = None
    offset = 0
    while True:
        got = source.get(limit=5000, offset=offset, include=["documents", "embeddings", "metadatas"])
        if not got["ids"]:
            break
        nodes = [
            TextNode(id_=i, text=text, embedding=[float(x) for x in vector], metadata={"source": meta["source"]})
            for i, text, vector, meta in zip(
                got["ids"], got["documents"], got["embeddings"], got["metadatas"], strict=True
            )
        ]
        if index is None:
            index = VectorStoreIndex(
                nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed
            )
        else:
            index.insert_nodes(nodes)
        offset += len(got["ids"])
    assert index is not None
    build_s = time.perf_counter() - t0
    retriever = index.as_retriever(similarity_top_k=6)
    for q in ["Who invested in the data center campus?", "What was the valuation?"]:
        retriever.retrieve(q)
    times = []
    for q in spec["queries"]:
        t = time.perf_counter()
        retriever.retrieve(q)
        times.append((time.perf_counter() - t) * 1000)
    return {"count": collection.count(), "build_s": round(build_s, 2), "retrieve": percentiles(times),
            "peak_rss_mb": peak_rss_mb()}  # fmt: skip


def w_pdf(spec: dict[str, Any]) -> dict[str, Any]:
    """Pages per second and page fidelity: the project's pypdfium2 loader vs llama-index's PDFReader (pypdf)."""
    from llama_index.readers.file import PDFReader

    from rag.ingest.loaders import load_file

    paths = [Path(p) for p in spec["paths"]]
    markers: list[list[list[str]]] = spec["markers"]
    readers: dict[str, Callable[[Path], list[str]]] = {}

    def project(path: Path) -> list[str]:
        document = load_file(path)
        starts = [*document.page_starts, len(document.text)]
        return [document.text[starts[i] : starts[i + 1]] for i in range(len(document.page_starts))]

    def llama(path: Path) -> list[str]:
        return [d.text for d in PDFReader().load_data(file=path)]

    readers["project (pypdfium2)"] = project
    readers["llama-index PDFReader (pypdf)"] = llama
    out: dict[str, Any] = {"documents": len(paths), "pages": sum(len(m) for m in markers)}
    for name, read in readers.items():
        read(paths[0])  # imports and first-call costs outside the clock
        timings = []
        for _ in range(PDF_PASSES):  # a pass takes well under 2 s: the best of several resists noise
            t0 = time.perf_counter()
            pages = [read(p) for p in paths]
            timings.append(time.perf_counter() - t0)
        seconds = min(timings)
        out[name] = {"seconds": round(seconds, 3), "passes": [round(t, 3) for t in timings],
                     "pages_per_s": round(out["pages"] / seconds, 1), **page_fidelity(pages, markers)}  # fmt: skip
    names = list(readers)
    out["speedup"] = round(out[names[0]]["pages_per_s"] / out[names[1]]["pages_per_s"], 2)
    return out


def page_fidelity(pages: list[list[str]], markers: list[list[list[str]]]) -> dict[str, Any]:
    """Every page's paragraph openers found on that page, in order (whitespace normalised)."""
    checked = good = 0
    page_count_ok = all(len(p) == len(m) for p, m in zip(pages, markers, strict=True))
    for doc_pages, doc_markers in zip(pages, markers, strict=True):
        for number, expected in enumerate(doc_markers):
            checked += 1
            if number >= len(doc_pages):
                continue
            text = " ".join(doc_pages[number].split())
            position, ok = -1, True
            for sentence in expected:
                found = text.find(" ".join(sentence.split()), position + 1)
                if found <= position:
                    ok = False
                    break
                position = found
            good += ok
    return {"page_count_ok": page_count_ok, "pages_in_order": good, "pages_checked": checked}


def w_startup(spec: dict[str, Any]) -> dict[str, Any]:
    """A cold `rag ask`, step by step, in this fresh process."""
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()

    def mark(name: str) -> None:
        marks.append((name, time.perf_counter()))

    import rag.cli  # noqa: F401

    mark("import rag.cli")
    from rag.pipeline import Pipeline

    mark("import rag.pipeline (numpy, the stages)")
    settings = _settings(spec)
    pipeline = Pipeline.from_settings(settings)
    mark("open the store (chromadb import + client)")
    pipeline.embedder.embed(["warm"])
    mark("load the embedding model")
    pipeline.cross_encoder.score("warm", ["warm"])
    mark("load the cross-encoder")
    pipeline.retriever._bm25_index()
    mark("load the BM25 index")
    pipeline.answer(spec["question"])
    mark("first answer")
    pipeline.answer(spec["question2"])
    mark("second answer (warm)")
    steps, previous = [], t0
    for name, at in marks:
        steps.append({"step": name, "ms": round((at - previous) * 1000, 1)})
        previous = at
    return {"steps": steps, "total_ms": round((previous - t0) * 1000, 1), "peak_rss_mb": peak_rss_mb()}


QUALITY_KEYS = (
    "retrieval.hit@1", "retrieval.hit@5", "retrieval.hit@10", "retrieval.mrr", "overall.correct", "answer.correct",
    "abstention.correct", "citation.precision", "citation.recall", "citation.grounding.mean",
)  # fmt: skip


def w_quality(spec: dict[str, Any]) -> dict[str, Any]:
    """The bundled corpus and question set through the whole pipeline with one embedding backend
    (what ``rag eval eval/questions.jsonl --set embedding.backend=...`` measures), plus the cosine
    between this backend's chunk vectors and sentence-transformers' fp32 ones."""
    import numpy as np

    from rag import evaluate as ev
    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder
    from rag.pipeline import Pipeline

    settings = _settings(spec)
    pipeline = Pipeline.from_settings(settings)
    corpus = Path(spec["corpus"])
    t0 = time.perf_counter()
    report = pipeline.ingest([corpus])
    ingest_s = time.perf_counter() - t0
    questions = ev.load_questions(Path(spec["questions"]))
    t0 = time.perf_counter()
    results = ev.run_questions(pipeline, questions, corpus)
    metrics = ev.summarise(results, wall_s=round(time.perf_counter() - t0, 2))
    out: dict[str, Any] = {key: metrics.get(key) for key in QUALITY_KEYS}
    out.update(n_questions=len(questions), chunks=report.added, ingest_s=round(ingest_s, 2))
    if spec.get("backend") == "onnx":
        texts = [c.text for c in pipeline.store.iter_chunks()]
        texts += [q.question for q in questions]
        fp32 = Embedder(EmbeddingSettings(backend="torch")).embed(texts)
        cosine = (pipeline.embedder.embed(texts) * fp32).sum(axis=1)
        out["cosine_vs_fp32"] = {"n": len(texts), "min": round(float(cosine.min()), 4),
                                 "mean": round(float(np.mean(cosine)), 4)}  # fmt: skip
    return out


WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "quality": w_quality,
    "encode": w_encode,
    "ingest": w_ingest,
    "query": w_query,
    "llama_ingest": w_llama_ingest,
    "llama_query": w_llama_query,
    "pdf": w_pdf,
    "startup": w_startup,
}


def run_worker(name: str, spec_json: str) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if spec_json.startswith("@"):
        spec_json = Path(spec_json[1:]).read_text()
    result = WORKERS[name](json.loads(spec_json))
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


# -- the benchmark (parent process) ----------------------------------------------------------
@dataclass
class Bench:
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
        path = self.work / label
        shutil.rmtree(path, ignore_errors=True)
        return str(path)

    # sections ---------------------------------------------------------------------------
    def throughput(self) -> None:
        n = self.plan.throughput_chunks
        corpus = str(self.corpus(n))
        say = self.runner.say
        out: dict[str, Any] = {"corpus_chunks_target": n, "files": corpus_files(n)}
        say(f"throughput on ~{n} chunks: raw encoders")
        out["raw_torch"] = self.runner.worker("encode", {"corpus": corpus, "backend": "torch", "batch_size": 32})
        out["raw_onnx"] = self.runner.worker("encode", {"corpus": corpus, "backend": "onnx", "batch_size": 32})
        if self.plan.bf16_row:
            out["raw_torch_bf16"] = self.runner.worker(
                "encode", {"corpus": corpus, "backend": "torch", "batch_size": 32, "bf16": True}
            )
        backends = dict.fromkeys([*(["torch"] if self.plan.torch_ingest_row else []), self.backend])
        for backend in backends:
            say(f"throughput: project ingest, {backend} backend")
            out[f"ingest_{backend}"] = self.runner.worker(
                "ingest", {"data_dir": self.data_dir(f"tp-{backend}"), "paths": self.paths(n), "backend": backend}
            )
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
        best = out[f"ingest_{self.backend}"]
        raw = out[f"raw_{self.backend}"]
        out["ratios"] = {
            "ingest_vs_raw_same_backend": round(best["chunks_per_s"] / raw["chunks_per_s"], 2),
            "ingest_vs_raw_torch": round(best["chunks_per_s"] / out["raw_torch"]["chunks_per_s"], 2),
            "ingest_vs_llama": round(best["chunks_per_s"] / out["llama"]["chunks_per_s"], 2),
            "ingest_vs_llama_wall": round(out["llama"]["seconds"] / best["seconds"], 2),
            "raw_onnx_vs_raw_torch": round(out["raw_onnx"]["chunks_per_s"] / out["raw_torch"]["chunks_per_s"], 2),
        }
        if "ingest_torch" in out:
            out["ratios"]["ingest_torch_vs_raw_torch"] = round(
                out["ingest_torch"]["chunks_per_s"] / out["raw_torch"]["chunks_per_s"], 2
            )
        self.results["throughput"] = out

    def scale(self) -> None:
        say = self.runner.say
        out: dict[str, Any] = {}
        bank = str(self.work / "bank.npy")
        model_size = self.plan.largest_model_size
        for size in sorted(self.plan.sizes):
            label = f"{size // 1000}k" if size >= 1000 else str(size)
            entry: dict[str, Any] = {"target_chunks": size, "files": corpus_files(size)}
            data_dir = self.data_dir(f"scale-{label}")
            spec: dict[str, Any] = {"data_dir": data_dir, "paths": self.paths(size), "backend": self.backend}
            if size > self.plan.model_max:
                if not Path(bank).is_file():
                    raise RuntimeError("the vector bank comes from the largest model-embedded size; none ran")
                spec["bank"] = bank
            if size == model_size and size <= self.plan.model_max:
                spec["save_bank"] = bank
            spec["reingest"] = True
            say(f"scale {label}: ingest ({'vector bank' if 'bank' in spec else 'model'})")
            entry["ingest"] = self.runner.worker("ingest", spec, timeout=3600)
            queries = questions_for(corpus_files(size), self.plan.queries)
            say(f"scale {label}: first question after the ingest (builds the BM25 cache)")
            entry["query_first"] = self.runner.worker(
                "query", {"data_dir": data_dir, "backend": self.backend, "queries": [], "warm_up_only": True}
            )
            say(f"scale {label}: queries (warm, BM25 from its cache)")
            entry["query"] = self.runner.worker(
                "query", {"data_dir": data_dir, "backend": self.backend, "queries": queries}
            )
            if size in self.plan.baseline_sizes:
                say(f"scale {label}: llama-index retriever")
                entry["llama_retriever"] = self.runner.worker(
                    "llama_query",
                    {"data_dir": data_dir, "baseline_dir": self.data_dir(f"llama-{label}"), "queries": queries},
                )
            out[label] = entry
        self.results["scale"] = out

    def pdf(self) -> None:
        self.runner.say(f"pdf: {self.plan.pdf_docs} filings x {self.plan.pdf_pages} pages")
        paths, markers = ensure_pdfs(self.cache, self.plan.pdf_docs, self.plan.pdf_pages)
        self.results["pdf"] = self.runner.worker("pdf", {"paths": [str(p) for p in paths], "markers": markers})

    def startup(self) -> None:
        say = self.runner.say
        out: dict[str, Any] = {}
        say("startup: rag --help")
        helps = []
        for _ in range(self.plan.help_runs):
            t = time.perf_counter()
            subprocess.run([*rag_command(), "--help"], env=child_env(), stdout=subprocess.DEVNULL, check=True)
            helps.append((time.perf_counter() - t) * 1000)
        out["help"] = percentiles(helps)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=child_env(), check=True)
        out["python_bare_ms"] = round((time.perf_counter() - t) * 1000, 1)
        size = self.plan.largest_model_size
        data_dir = str(self.work / f"scale-{size // 1000}k" if size >= 1000 else self.work / f"scale-{size}")
        if not Path(data_dir).is_dir():
            say("startup: no index to ask; building a small one")
            data_dir = self.data_dir("startup")
            self.runner.worker("ingest", {"data_dir": data_dir, "paths": self.paths(200), "backend": self.backend})
        question = questions_for(corpus_files(size), 1)[0]
        env = child_env(RAG_DATA_DIR=data_dir, RAG_GENERATOR="extractive", RAG_EMBEDDING_BACKEND=self.backend)
        asks = []
        for _ in range(self.plan.ask_runs):
            say("startup: cold rag ask")
            t = time.perf_counter()
            subprocess.run([*rag_command(), "ask", question], env=env, stdout=subprocess.DEVNULL, check=True)
            asks.append((time.perf_counter() - t) * 1000)
        out["ask"] = percentiles(asks)
        out["ask_index_chunks"] = size
        out["breakdown"] = self.runner.worker(
            "startup",
            {"data_dir": data_dir, "backend": self.backend, "question": question,
             "question2": questions_for(corpus_files(size), 2)[1]},
        )  # fmt: skip
        out["importtime_top"] = import_time_top(env, question)
        self.results["startup"] = out

    def server(self) -> None:
        """The same ingest and queries against ``chroma run`` on loopback: end to end on the throughput
        corpus, and at ``server_size`` with the vectors the embedded run stored (the model's share is the
        same in both modes, so only the store differs)."""
        say = self.runner.say
        chroma = Path(sys.executable).with_name("chroma")
        if not chroma.is_file():
            self.results["server"] = {"skipped": "no chroma executable next to python"}
            return
        port = free_port()
        path = Path(self.data_dir("server-chroma"))
        say(f"server: chroma run on port {port}")
        log = (self.work / "chroma-server.log").open("w")
        process = subprocess.Popen(
            [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=child_env(),
        )  # fmt: skip
        size = self.plan.server_size
        label = f"{size // 1000}k" if size >= 1000 else str(size)
        out: dict[str, Any] = {"size": size}
        try:
            wait_for_port(port, 120, process)
            url = f"http://127.0.0.1:{port}"
            n = self.plan.throughput_chunks
            say(f"server: ingest ~{n} chunks end to end (collection bench_tp)")
            out["ingest_e2e"] = self.runner.worker(
                "ingest",
                {"data_dir": self.data_dir("server-client-tp"), "paths": self.paths(n), "backend": self.backend,
                 "chroma_url": url, "collection": "bench_tp"},
            )  # fmt: skip
            if self.plan.server_workers > 1:
                workers = self.plan.server_workers
                say(f"server: the same ingest with --workers {workers} (collection bench_tp_workers)")
                out["ingest_e2e_workers"] = self.runner.worker(
                    "ingest",
                    {"data_dir": self.data_dir("server-client-tp-workers"), "paths": self.paths(n),
                     "backend": self.backend, "chroma_url": url, "collection": "bench_tp_workers",
                     "workers": workers},
                )  # fmt: skip
                out["ingest_e2e_workers"]["workers"] = workers
            embedded = self.work / f"scale-{label}"
            spec = {"data_dir": self.data_dir("server-client"), "paths": self.paths(size), "backend": self.backend,
                    "chroma_url": url, "reingest": True}  # fmt: skip
            if embedded.is_dir():
                spec["reuse_from"] = str(embedded)
            say(f"server: ingest ~{size} chunks ({'vectors reused' if 'reuse_from' in spec else 'model'})")
            out["ingest"] = self.runner.worker("ingest", spec, timeout=3600)
            queries = questions_for(corpus_files(size), self.plan.queries)
            say("server: queries")
            self.runner.worker("query", {**spec, "queries": [], "warm_up_only": True})  # builds the BM25 cache
            out["query"] = self.runner.worker("query", {**spec, "queries": queries})
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
        tp = self.results.get("throughput", {}).get(f"ingest_{self.backend}")
        if tp:
            out["embedded_e2e_chunks_per_s"] = tp["chunks_per_s"]
        entry = self.results.get("scale", {}).get(label)
        if entry:
            out["embedded_query"] = entry["query"]
        self.results["server"] = out

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
        got = self.runner.worker(
            "ingest", {"data_dir": self.data_dir("profile"), "paths": self.paths(n), "backend": self.backend,
                       "profile": True},
        )  # fmt: skip
        out["ingest"] = got.get("profile")
        sizes = sorted(self.plan.sizes)
        big = sizes[-1]
        label = f"{big // 1000}k" if big >= 1000 else str(big)
        data_dir = self.work / f"scale-{label}"
        if data_dir.is_dir():
            say(f"profile: hybrid retrieval and answers at {label}")
            queries = questions_for(corpus_files(big), min(10, self.plan.queries))
            got = self.runner.worker(
                "query", {"data_dir": str(data_dir), "backend": self.backend, "queries": queries,
                          "profile_retrieval": True, "profile_answer": True,
                          "skip_modes": ["dense", "bm25", "hybrid+rerank"]},
            )  # fmt: skip
            out["retrieval_hybrid"] = got.get("profile_retrieval")
            out["answer"] = got.get("profile_answer")
            out["at"] = label
        self.results["profile"] = out


def import_time_top(env: dict[str, str], question: str, top: int = 12) -> list[dict[str, Any]]:
    """``python -X importtime`` of a real cold ``rag ask``: the packages with the largest cumulative import time
    (a package imported inside another counts in both, as importtime reports it)."""
    command = [sys.executable, "-X", "importtime", "-m", "rag.cli", "ask", question]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    best: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:") :].split("|")
        try:
            cumulative = int(parts[1].strip())
        except (ValueError, IndexError):
            continue
        name = parts[2].strip()
        if "." in name or name in ("rag", "site", "encodings"):
            continue
        best[name] = max(best.get(name, 0.0), cumulative / 1000)
    rows = [{"module": k, "cumulative_ms": round(v, 1)} for k, v in best.items()]
    rows.sort(key=lambda r: -r["cumulative_ms"])
    return rows[:top]


# -- report ------------------------------------------------------------------------------------
def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(name: str, value: Any, goal: str, met: bool | None) -> None:
        rows.append({"target": name, "value": value, "goal": goal, "met": met})

    tp = results.get("throughput")
    if tp:
        r = tp["ratios"]
        add(
            "ingest vs raw encoder (same backend)",
            r["ingest_vs_raw_same_backend"],
            ">= 0.8",
            r["ingest_vs_raw_same_backend"] >= 0.8,
        )
        add(
            "ingest vs raw sentence-transformers encode",
            r["ingest_vs_raw_torch"],
            ">= 0.8",
            r["ingest_vs_raw_torch"] >= 0.8,
        )
        add("ingest vs llama-index baseline", r["ingest_vs_llama"], ">= 1.5", r["ingest_vs_llama"] >= 1.5)
    scale = results.get("scale", {})
    if scale:
        largest = list(scale)[-1]
        hybrid = scale[largest]["query"]["retrieval"].get("hybrid", {}).get("p50_ms")
        add(f"hybrid retrieval p50 at {largest}", f"{hybrid} ms", "<= 50 ms", hybrid is not None and hybrid <= 50)
        ten = scale.get("10k") or scale[list(scale)[min(1, len(scale) - 1)]]
        label = "10k" if "10k" in scale else list(scale)[min(1, len(scale) - 1)]
        answer = ten["query"]["answer"]["p50_ms"]
        add(f"extractive verified answer p50 at {label}", f"{answer} ms", "<= 300 ms", answer <= 300)
        rss = max(entry["ingest"]["peak_rss_mb"] for entry in scale.values())
        add(f"ingest peak RSS (up to {largest})", f"{rss:.0f} MB", "<= 3000 MB", rss <= 3000)
        ratio = ten["ingest"].get("reingest_ratio")
        if ratio is not None:
            add(f"re-ingest unchanged {label} / first ingest", f"{ratio:.1%}", "<= 10%", ratio <= 0.10)
    quality = results.get("quality", {})
    if "torch" in quality and "onnx" in quality:
        a, b = quality["torch"].get("retrieval.hit@5"), quality["onnx"].get("retrieval.hit@5")
        if a is not None and b is not None:
            add("hit@5, ONNX INT8 minus fp32 (eval/questions.jsonl)", f"{(b - a) * 100:+.1f} points",
                ">= -1 point", b - a >= -0.01)  # fmt: skip
    pdf = results.get("pdf")
    if pdf:
        add("PDF pages/s vs llama-index PDFReader", f"{pdf['speedup']}x", ">= 5x", pdf["speedup"] >= 5)
    st = results.get("startup")
    if st:
        add("rag --help", f"{st['help']['p50_ms']:.0f} ms", "<= 1000 ms", st["help"]["p50_ms"] <= 1000)
    return rows


def render_markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# Performance benchmark",
        "",
        f"`{meta['command']}` on {meta['machine']} ({meta['cpus']} CPUs), {meta['date']}; "
        f"embedding backend `{meta['backend']}`; {meta['seconds']:.0f} s in all. "
        f"Load average before the run: {meta['load_before']}.",
        "",
    ]
    rows = targets(results)
    if rows:
        lines += ["## Targets", "", "| target | measured | goal | met |", "|---|---|---|---|"]
        for row in rows:
            met = "yes" if row["met"] else ("no" if row["met"] is not None else "—")
            lines.append(f"| {row['target']} | {row['value']} | {row['goal']} | {met} |")
        lines.append("")
    tp = results.get("throughput")
    if tp:
        lines += [
            f"## Ingest throughput (~{tp['corpus_chunks_target']} chunks, {tp['files']} files)",
            "",
            "| what | chunks | seconds | chunks/s | peak RSS |",
            "|---|---|---|---|---|",
        ]
        names = [
            ("raw_torch", "raw limit: SentenceTransformer.encode, batch 32 (fp32 PyTorch)"),
            ("raw_onnx", "raw: the project's ONNX INT8 encoder alone, batch 32"),
            ("raw_torch_bf16", "raw: SentenceTransformer.encode under bfloat16 autocast (not used; see notes)"),
            ("ingest_torch", "project ingest, `embedding.backend=torch`"),
            ("ingest_onnx", "project ingest, `embedding.backend=onnx`"),
            ("llama", "llama-index from_documents → Chroma (chunks 200/30, as the project)"),
            ("llama_defaults", "llama-index from_documents → Chroma, all defaults (1024-token chunks)"),
        ]
        for key, label in names:
            if key in tp:
                r = tp[key]
                rss = f"{r['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in r else "—"
                lines.append(f"| {label} | {r['chunks']} | {r['seconds']} | {r['chunks_per_s']} | {rss} |")
        lines += ["", "Ratios: " + ", ".join(f"{k} **{v}**" for k, v in tp["ratios"].items()), ""]
    scale = results.get("scale")
    if scale:
        lines += [
            "## Scale: ingest, queries (warm) and memory",
            "",
            "| index | vectors | ingest chunks/s | re-ingest | ingest RSS | dense p50/p95 | BM25 p50/p95 "
            "| hybrid p50/p95 | +rerank p50/p95 | answer p50/p95 | llama-index retriever p50/p95 | first query "
            "| query RSS |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for e in scale.values():
            ing, q = e["ingest"], e["query"]

            def pp(d: dict[str, Any] | None) -> str:
                return f"{d['p50_ms']:.0f} / {d['p95_ms']:.0f} ms" if d and d.get("n") else "—"

            llama = pp(e["llama_retriever"]["retrieve"]) if "llama_retriever" in e else "—"
            reingest = f"{ing['reingest_s']} s ({ing['reingest_ratio']:.1%})" if "reingest_s" in ing else "—"
            lines.append(
                f"| {q['count']} chunks | {ing['vectors']} | {ing['chunks_per_s']} | {reingest} "
                f"| {ing['peak_rss_mb']:.0f} MB "
                f"| {pp(q['retrieval'].get('dense'))} "
                f"| {pp(q['retrieval'].get('bm25'))} | {pp(q['retrieval'].get('hybrid'))} "
                f"| {pp(q['retrieval'].get('hybrid+rerank'))} | {pp(q['answer'])} | {llama} "
                f"| {e['query_first']['warm_up_s']} s | {q['peak_rss_mb']:.0f} MB |"
            )
        lines += [
            "",
            "Answer stages (p50, ms): "
            + "; ".join(f"{label}: {e['query']['answer_stages_p50_ms']}" for label, e in scale.items()),
            "",
            '"first query" is the first question of a fresh process after the ingest: model loads plus the BM25 '
            "index built from the store and cached on disk; later processes load the cache "
            "(warm-up then: " + ", ".join(f"{label} {e['query']['warm_up_s']} s" for label, e in scale.items()) + ").",
            "",
        ]
    pdf = results.get("pdf")
    if pdf:
        lines += [
            f"## PDF parsing ({pdf['documents']} SEC-filing-like PDFs, {pdf['pages']} pages)",
            "",
            "| reader | pages/s | page count right | pages with their paragraphs in order |",
            "|---|---|---|---|",
        ]
        for name, r in pdf.items():
            if isinstance(r, dict):
                order = f"{r['pages_in_order']}/{r['pages_checked']}"
                lines.append(f"| {name} | {r['pages_per_s']} | {r['page_count_ok']} | {order} |")
        lines += ["", f"Speed-up: **{pdf['speedup']}×** (best of {PDF_PASSES} passes each).", ""]
    st = results.get("startup")
    if st:
        lines += [
            "## Start-up",
            "",
            f"* `rag --help`: p50 {st['help']['p50_ms']:.0f} ms (bare `python -c pass`: {st['python_bare_ms']:.0f} ms)",
            f"* cold `rag ask` over {st['ask_index_chunks']} chunks (extractive): p50 {st['ask']['p50_ms']:.0f} ms",
            "",
            "Breakdown of a cold `rag ask` (one fresh process):",
            "",
            "| step | ms |",
            "|---|---|",
        ]
        lines += [f"| {s['step']} | {s['ms']:.0f} |" for s in st["breakdown"]["steps"]]
        lines += ["", "Largest imports (`python -X importtime`, cumulative):", ""]
        lines += [", ".join(f"{r['module']} {r['cumulative_ms']:.0f} ms" for r in st["importtime_top"]), ""]
    sv = results.get("server")
    if sv and "ingest" in sv:
        q = sv["query"]
        eq = sv.get("embedded_query")

        def pp(d: dict[str, Any] | None) -> str:
            return f"{d['p50_ms']:.0f} / {d['p95_ms']:.0f} ms" if d and d.get("n") else "—"

        lines += [
            f"## Chroma server (`chroma run`, loopback) vs embedded, ~{sv['size']} chunks",
            "",
            "| store | ingest end to end (throughput corpus) | ingest, vectors reused | re-ingest unchanged "
            "| dense p50/p95 | hybrid p50/p95 | answer p50/p95 | query RSS |",
            "|---|---|---|---|---|---|---|---|",
            f"| server | {sv['ingest_e2e']['chunks_per_s']} chunks/s | {sv['ingest']['chunks_per_s']} chunks/s "
            f"| {sv['ingest'].get('reingest_s')} s | {pp(q['retrieval'].get('dense'))} "
            f"| {pp(q['retrieval'].get('hybrid'))} "
            f"| {pp(q['answer'])} | {q['peak_rss_mb']:.0f} MB |",
        ]
        if eq:
            lines.append(
                f"| embedded | {sv.get('embedded_e2e_chunks_per_s', '—')} chunks/s | (see Scale) | (see Scale) "
                f"| {pp(eq['retrieval'].get('dense'))} | {pp(eq['retrieval'].get('hybrid'))} | {pp(eq['answer'])} "
                f"| {eq['peak_rss_mb']:.0f} MB |"
            )
        multi = sv.get("ingest_e2e_workers")
        if multi:
            lines += [
                "",
                f"`rag ingest --workers {multi['workers']}` against the server, same corpus: "
                f"{multi['chunks_per_s']} chunks/s (one process: {sv['ingest_e2e']['chunks_per_s']} chunks/s; "
                f"on {results['meta']['cpus']} CPUs the model already uses every core in one process).",
            ]
        lines.append("")
    quality = results.get("quality", {})
    if "torch" in quality and "onnx" in quality:
        t, o = quality["torch"], quality["onnx"]
        lines += [
            f"## Quality by embedding backend (corpus/, {t['n_questions']} questions of eval/questions.jsonl)",
            "",
            f"Measured {quality.get('measured', '?')} by `python eval/bench.py --sections quality` "
            "(the whole pipeline, extractive answers; the same metrics as `rag eval`).",
            "",
            "| metric | torch fp32 | onnx int8 |",
            "|---|---|---|",
        ]
        for key in QUALITY_KEYS:
            fmt = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
            lines.append(f"| {key} | {fmt(t.get(key))} | {fmt(o.get(key))} |")
        if "cosine_vs_fp32" in o:
            c = o["cosine_vs_fp32"]
            lines += ["", f"Cosine of ONNX INT8 vs fp32 vectors over {c['n']} chunks and questions: "
                      f"min {c['min']}, mean {c['mean']}."]  # fmt: skip
        lines.append("")
    prof = results.get("profile")
    if prof:
        lines += ["## Profiles (pyinstrument, top frames by own time)", ""]
        for key, title in (("ingest", "ingest"), ("retrieval_hybrid", "hybrid retrieval"), ("answer", "answers")):
            p = prof.get(key)
            if not p:
                continue
            lines += [f"**{title}** ({p['duration_s']} s profiled"
                      + (f", at {prof['at']}" if key != "ingest" and "at" in prof else "") + ")", "",
                      "| own % | frame |", "|---|---|"]  # fmt: skip
            lines += [f"| {r['percent']} | `{r['frame']}` |" for r in p["own"][:10]]
            lines.append("")
    if results.get("errors"):
        lines += ["## Sections that failed", ""] + [f"* {k}: {v}" for k, v in results["errors"].items()] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (a few minutes)")
    parser.add_argument("--toy", action="store_true", help="every code path on toy data (for the tests)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--out", type=Path, default=REPO / "eval" / "bench_results", help="results folder")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "rag-bench", help="corpora and PDFs")
    parser.add_argument("--work", type=Path, help="indexes (default: a temporary folder, removed afterwards)")
    parser.add_argument("--backend", default="", help="embedding backend (default: the project's default)")
    parser.add_argument("--sections", help=f"comma-separated subset of: {','.join(ALL_SECTIONS)}")
    parser.add_argument("--bf16", action="store_true", help="also time sentence-transformers under bf16 autocast")
    parser.add_argument("--sizes", help="comma-separated index sizes in chunks (overrides the plan)")
    parser.add_argument("--throughput-chunks", type=int)
    parser.add_argument("--model-max", type=int, help="largest size embedded by the model; larger use the bank")
    parser.add_argument("--queries", type=int)
    parser.add_argument("--pdf-pages", type=int)
    parser.add_argument("--pdf-docs", type=int)
    parser.add_argument("--server-size", type=int)
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(*args.worker)
    plan = TOY if args.toy else QUICK if args.quick else FULL
    changes: dict[str, Any] = {}
    if args.sections:
        changes["sections"] = tuple(s.strip() for s in args.sections.split(",") if s.strip())
        unknown = set(changes["sections"]) - set(ALL_SECTIONS)
        if unknown:
            parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if args.sizes:
        changes["sizes"] = tuple(int(s) for s in args.sizes.split(","))
        changes["baseline_sizes"] = tuple(s for s in changes["sizes"] if s <= 10_000)
    if args.bf16:
        changes["bf16_row"] = True
    for name in ("throughput_chunks", "model_max", "queries", "pdf_pages", "pdf_docs", "server_size"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    plan = replace(plan, **changes)
    from rag.config import EmbeddingSettings

    backend = args.backend or getattr(EmbeddingSettings(), "backend", "torch")
    args.out.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        if args.work:
            work = args.work
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rag-bench-")))
        runner = Runner(args.out / "bench.log")
        bench = Bench(plan=plan, cache=args.cache, work=work, runner=runner, backend=backend)
        command = " ".join(["python eval/bench.py", *(argv if argv is not None else sys.argv[1:])])
        bench.results["meta"] = {
            "command": command,
            "machine": f"{platform.machine()} {platform.processor() or platform.system()}",
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "backend": backend,
            "plan": asdict(plan),
            "load_before": [round(x, 2) for x in load_before],
        }
        for section in ALL_SECTIONS:
            if section not in plan.sections:
                continue
            try:
                getattr(bench, section)()
            except Exception as exc:  # one failed section must not lose the others' numbers
                runner.say(f"{section} failed: {exc}")
                bench.results.setdefault("errors", {})[section] = f"{type(exc).__name__}: {exc}"
        previous = args.out / "bench.json"
        if "quality" not in bench.results and previous.is_file():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                earlier = json.loads(previous.read_text())
                if "quality" in earlier:
                    bench.results["quality"] = earlier["quality"]  # measured by an earlier --sections quality
        bench.results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
        bench.results["meta"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
        bench.results["targets"] = targets(bench.results)
    (args.out / "bench.json").write_text(json.dumps(bench.results, indent=2) + "\n")
    (args.out / "bench.md").write_text(render_markdown(bench.results) + "\n")
    if args.json:
        print(json.dumps(bench.results, indent=2))
    else:
        print(render_markdown(bench.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
