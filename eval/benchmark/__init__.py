"""The performance benchmark that ``eval/bench.py`` runs, one job per module.

* :mod:`benchmark.plan`: what one run measures (the full run, ``--quick``, ``--toy``);
* :mod:`benchmark.corpus`, :mod:`benchmark.filings`: the deterministic inputs, synthetic
  financing articles and SEC-filing-like PDFs, built once into a cache folder;
* :mod:`benchmark.workers`: the measurements, each run in a child process of its own so its
  peak RSS and its cold start are its own;
* :mod:`benchmark.child`: how the parent starts such a child and reads its result back;
* :mod:`benchmark.sections`: the parent's side, which measurements make up each report section;
* :mod:`benchmark.report`: the targets table, ``bench.json`` and ``bench.md``;
* :mod:`benchmark.measure`, :mod:`benchmark.profiling`, :mod:`benchmark.processes`,
  :mod:`benchmark.vectors`: what several measurements share (clocks and percentiles, pyinstrument
  summaries, child processes and servers, stand-in embedders).

Modules import only the standard library at module level: a child measuring a cold start must
not have paid for numpy, torch or chromadb before its clock starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENTRY = REPO / "eval" / "bench.py"  # what a child process runs (`bench.py --worker NAME SPEC`)

if str(REPO) not in sys.path:  # `rag` from this checkout, installed or not
    sys.path.insert(0, str(REPO))
