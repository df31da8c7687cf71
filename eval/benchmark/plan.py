"""What one benchmark run measures: sizes, counts and sections, and the command line's overrides."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

ALL_SECTIONS = ("throughput", "scale", "pdf", "startup", "server", "profile", "quality")


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


def size_label(size: int) -> str:
    """How an index size is named in results and folders: ``10k``, or ``400`` below a thousand."""
    return f"{size // 1000}k" if size >= 1000 else str(size)


def customised(plan: Plan, sections: str | None, sizes: str | None, bf16: bool, numbers: dict[str, int | None]) -> Plan:
    """``plan`` with the command line's choices: comma-separated ``sections`` and ``sizes``, the
    bf16 row, and any of the plan's integer fields in ``numbers`` that are not None.

    Raises ValueError naming any section the benchmark does not have."""
    changes: dict[str, Any] = {}
    if sections:
        chosen = tuple(s.strip() for s in sections.split(",") if s.strip())
        unknown = set(chosen) - set(ALL_SECTIONS)
        if unknown:
            raise ValueError(f"unknown sections: {', '.join(sorted(unknown))}")
        changes["sections"] = chosen
    if sizes:
        chosen_sizes = tuple(int(s) for s in sizes.split(","))
        changes["sizes"] = chosen_sizes
        changes["baseline_sizes"] = tuple(s for s in chosen_sizes if s <= 10_000)
    if bf16:
        changes["bf16_row"] = True
    changes.update({name: value for name, value in numbers.items() if value is not None})
    return replace(plan, **changes)
