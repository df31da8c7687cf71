"""The run directory and its provenance: what a run wrote, how it was made, and two runs compared.

``run.json`` records what a run needs to be reproduced and compared fairly:
effective settings and per-request options, corpus fingerprint, question-set
hash, package versions, git state. :func:`write_run` writes the whole
directory (see ``eval/README.md`` for the file list), :func:`load_run` and
:func:`compare_runs` read finished ones.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.evaluation.formatting import format_comparison
from rag.evaluation.report import chart_images, write_reports
from rag.text.markers import strip_markers

if TYPE_CHECKING:
    from rag.evaluation.questions import EvalQuestion
    from rag.evaluation.results import QuestionResult
    from rag.pipeline import Pipeline

PACKAGES = ("rag-cited", "chromadb", "llama-index-core", "sentence-transformers", "torch", "onnxruntime")
CHARTS_DIR = "charts"


class EvalError(RuntimeError):
    """A run directory cannot be read or written; the message says which file and why."""


# --- provenance -------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corpus_fingerprint(corpus_dir: Path) -> dict[str, Any]:
    """sha256 over the sorted relative file names and contents of the corpus folder."""
    digest = hashlib.sha256()
    files = sorted(p for p in corpus_dir.rglob("*") if p.is_file()) if corpus_dir.is_dir() else []
    for path in files:
        digest.update(path.relative_to(corpus_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return {"dir": str(corpus_dir), "files": len(files), "sha256": digest.hexdigest()}


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    """Commit and whether the working tree has changes; empty when git or a repository is missing."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def run_info(
    settings_dict: dict[str, Any],
    questions_path: Path | None,
    questions: Sequence[EvalQuestion],
    corpus_dir: Path,
    limit: int | None,
    generator: str,
    argv: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``run.json`` records so a run can be reproduced and two runs compared fairly.

    ``settings_dict`` are the settings the run used (per-request options
    applied); ``options`` the effective per-request choices (strict, generator,
    top_k, retrieval mode, rerank). Questions given as a list rather than a
    file are fingerprinted by their content.
    """
    info: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(argv if argv is not None else sys.argv),
        "generator": generator,
        "settings": settings_dict,
        "questions": {
            "path": str(questions_path) if questions_path is not None else None,
            "sha256": file_sha256(questions_path) if questions_path is not None else _questions_sha256(questions),
            "n": len(questions),
            "limit": limit,
        },
        "corpus": corpus_fingerprint(corpus_dir),
        "packages": package_versions(),
        "git": git_state(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if options is not None:
        info["options"] = dict(options)
    return info


def _questions_sha256(questions: Sequence[EvalQuestion]) -> str:
    from dataclasses import asdict

    rows = "".join(json.dumps(asdict(q), sort_keys=True, ensure_ascii=False) + "\n" for q in questions)
    return hashlib.sha256(rows.encode("utf-8")).hexdigest()


# --- run directories --------------------------------------------------------------


def ragas_rows(results: Iterable[QuestionResult], pipeline: Pipeline | None = None) -> Iterator[dict[str, Any]]:
    """Rows Ragas' ``EvaluationDataset.from_jsonl`` reads: user_input, response, retrieved_contexts, reference."""
    for r in results:
        contexts: list[str] = []
        if r.answer and pipeline is not None:
            ids = r.answer.get("retrieved_ids", [])
            contexts = [c.text for c in pipeline.store.get_chunks(ids)] if ids else []
        yield {
            "user_input": r.question,
            "response": strip_markers(r.answer["answer"]) if r.answer else "",
            "retrieved_contexts": contexts,
            "reference": r.reference,
            "reference_contexts": [e["quote"] for e in r.evidence],
        }


def write_run(
    out_dir: Path,
    results: Sequence[QuestionResult],
    metrics: dict[str, Any],
    info: dict[str, Any],
    pipeline: Pipeline | None = None,
) -> dict[str, Any]:
    """results.jsonl, metrics.json, charts/*.png, run.json, ragas.jsonl, report.md and report.html in ``out_dir``.

    Returns ``info`` as written to run.json: with ``charts``, the chart files
    (relative to ``out_dir``) and their titles.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_jsonl(out_dir / "results.jsonl", (r.to_dict() for r in results))
        _write_jsonl(out_dir / "ragas.jsonl", ragas_rows(results, pipeline))
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        images = chart_images(results, metrics)
        charts = []
        if images:
            (out_dir / CHARTS_DIR).mkdir(exist_ok=True)
        for name, (title, png) in images.items():
            relative = f"{CHARTS_DIR}/{name}.png"
            (out_dir / relative).write_bytes(png)
            charts.append({"file": relative, "title": title})
        info = {**info, "charts": charts}
        (out_dir / "run.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_reports(out_dir, results, metrics, info, images)
    except OSError as exc:
        raise EvalError(f"cannot write the run to {out_dir}: {exc.strerror or exc}") from exc
    return info


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def load_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """metrics.json and results.jsonl of a finished run; :class:`EvalError` says what is missing."""
    metrics_path, results_path = run_dir / "metrics.json", run_dir / "results.jsonl"
    if not run_dir.is_dir():
        raise EvalError(f"{run_dir}: no such run directory")
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvalError(f"{run_dir}: no metrics.json (is it a 'rag eval --out' directory?)") from exc
    except json.JSONDecodeError as exc:
        raise EvalError(f"{metrics_path}: not valid JSON: {exc.msg}") from exc
    results: list[dict[str, Any]] = []
    if results_path.is_file():
        for number, line in enumerate(results_path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    results.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise EvalError(f"{results_path} line {number}: not valid JSON: {exc.msg}") from exc
    return metrics, results


def load_info(run_dir: Path) -> dict[str, Any]:
    """run.json of a run (empty when the run has none or it is not valid JSON)."""
    try:
        info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return info if isinstance(info, dict) else {}


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_charts(run_dir: Path) -> list[tuple[str, Path]]:
    """``(title, path)`` of each chart PNG a run lists in run.json (``charts/*.png`` if run.json has no list).

    Only PNG files inside ``run_dir`` are returned, so a hand-edited run.json
    cannot point a viewer at other files.
    """
    listed = load_info(run_dir).get("charts")
    if isinstance(listed, list):
        entries = [(str(c.get("title", "")), str(c.get("file", ""))) for c in listed if isinstance(c, dict)]
    else:
        found = sorted((run_dir / CHARTS_DIR).glob("*.png")) if (run_dir / CHARTS_DIR).is_dir() else []
        entries = [(p.stem.replace("_", " "), f"{CHARTS_DIR}/{p.name}") for p in found]
    root = run_dir.resolve()
    charts: list[tuple[str, Path]] = []
    for title, relative in entries:
        path = (run_dir / relative).resolve()
        if path.suffix.lower() == ".png" and path.is_relative_to(root) and path.is_file() and _is_png(path):
            charts.append((title or path.stem, path))
    return charts


def _is_png(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE
    except OSError:
        return False


def compare_runs(a_dir: Path, b_dir: Path) -> dict[str, Any]:
    """Per-metric deltas (B - A) and the questions whose correctness flipped between two runs."""
    metrics_a, results_a = load_run(a_dir)
    metrics_b, results_b = load_run(b_dir)
    deltas: dict[str, dict[str, float | None]] = {}
    for key in sorted(set(metrics_a) | set(metrics_b)):
        a, b = metrics_a.get(key), metrics_b.get(key)
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        deltas[key] = {"a": a, "b": b, "delta": round(b - a, 6) if numeric else None}  # type: ignore[operator]
    by_id_a = {r["id"]: r for r in results_a}
    flips: list[dict[str, Any]] = []
    for r in results_b:
        old = by_id_a.get(r["id"])
        if old is not None and bool(old.get("correct")) != bool(r.get("correct")):
            flips.append(
                {
                    "id": r["id"],
                    "question": r["question"],
                    "tags": r.get("tags", []),
                    "a_correct": bool(old.get("correct")),
                    "b_correct": bool(r.get("correct")),
                    "a_answer": (old.get("answer") or {}).get("answer", ""),
                    "b_answer": (r.get("answer") or {}).get("answer", ""),
                }
            )
    common = len(set(by_id_a) & {r["id"] for r in results_b})
    return {"a": str(a_dir), "b": str(b_dir), "common_questions": common, "metrics": deltas, "flips": flips}


def write_comparison(comparison: dict[str, Any], out_dir: Path) -> None:
    """compare.json and compare.md in ``out_dir``."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "compare.json").write_text(json.dumps(comparison, indent=2, ensure_ascii=False) + "\n", "utf-8")
        body = format_comparison(comparison, all_metrics=True)
        (out_dir / "compare.md").write_text(f"# Run comparison\n\n```\n{body}\n```\n", encoding="utf-8")
    except OSError as exc:
        raise EvalError(f"cannot write the comparison to {out_dir}: {exc.strerror or exc}") from exc
