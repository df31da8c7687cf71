"""Fit and measure the citation checker on the labelled claim set.

``python -m rag.verification.calibrate tests/data/claims.jsonl`` scores every (claim,
passage) pair once with the real models, fits the soft-score weights and the
thresholds on the ``dev`` split only, and prints precision/recall/F1 for
detecting unsupported claims plus precision on supported claims, for the
fitted values on dev and on the held-out ``test`` split, for the values
currently shipped in :class:`rag.config.VerifySettings`, and for the shipped
values without the cross-encoder and without any model (the fallbacks).
``--bench N`` adds the latency of ``check`` on 5-claim answers. Nothing is
written unless ``--toml PATH`` asks for the fitted ``[verify]`` section.

Why a logistic model: the three soft signals (lexical coverage, embedding
similarity, cross-encoder logit) live on different scales and are correlated;
a regularised logistic fit weighs them from data instead of by hand, and the
decision threshold is then chosen on dev to maximise F1 for unsupported claims
while keeping precision on supported claims at or above 0.90.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import EmbeddingSettings, VerifySettings
from rag.verification.checker import Verifier
from rag.verification.support import SupportResult, decide, full_score, needs_cross, screen_score

SOFT_FEATURES = ("coverage", "similarity", "cross")
FITTED = frozenset(
    {
        "screen_bias", "screen_weight_coverage", "screen_weight_similarity", "screen_accept", "screen_reject",
        "screen_threshold", "bias", "weight_coverage", "weight_similarity", "weight_cross", "threshold",
        "lexical_threshold",
    }
)  # fmt: skip
MIN_SUPPORTED_PRECISION = 0.90
RIDGE = 1.0


@dataclass(frozen=True)
class Example:
    """One labelled pair from the JSONL file."""

    id: str
    claim: str
    passage: str
    label: str
    kind: str
    split: str


def load_examples(path: Path) -> list[Example]:
    """Read the labelled set; every line must have the documented fields."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = {"id", "claim", "passage", "label", "kind", "split"} - row.keys()
        if missing:
            raise ValueError(f"{path}:{number}: missing fields {sorted(missing)}")
        if row["label"] not in ("supported", "unsupported"):
            raise ValueError(f"{path}:{number}: label must be supported or unsupported")
        examples.append(Example(row["id"], row["claim"], row["passage"], row["label"], row["kind"], row["split"]))
    return examples


def build_verifier(settings: VerifySettings, with_models: bool = True) -> Verifier:
    """The checker as the product builds it: MiniLM embeddings and the bundled cross-encoder."""
    if not with_models:
        return Verifier(settings)
    from rag.index.embed import Embedder
    from rag.retrieval.rerank import CrossEncoder

    return Verifier(settings, embed=Embedder(EmbeddingSettings()).embed, cross_encoder=CrossEncoder())


def metrics(examples: list[Example], supported: list[bool]) -> dict[str, Any]:
    """P/R/F1 with "unsupported" as the positive class, plus precision on supported predictions."""
    tp = sum(e.label == "unsupported" and not s for e, s in zip(examples, supported, strict=True))
    fp = sum(e.label == "supported" and not s for e, s in zip(examples, supported, strict=True))
    fn = sum(e.label == "unsupported" and s for e, s in zip(examples, supported, strict=True))
    ok = sum(e.label == "supported" and s for e, s in zip(examples, supported, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    errors: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for e, s in zip(examples, supported, strict=True):
        totals[e.kind] += 1
        if (e.label == "supported") != s:
            errors[e.kind] += 1
    return {
        "n": len(examples),
        "unsupported_precision": precision,
        "unsupported_recall": recall,
        "unsupported_f1": f1,
        "supported_precision": ok / (ok + fn) if ok + fn else 0.0,
        "supported_recall": ok / (ok + fp) if ok + fp else 0.0,
        "accuracy": (tp + ok) / len(examples) if examples else 0.0,
        "errors_by_kind": {kind: f"{errors[kind]}/{totals[kind]}" for kind in sorted(totals)},
        "misclassified": [e.id for e, s in zip(examples, supported, strict=True) if (e.label == "supported") != s],
    }


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = RIDGE) -> tuple[float, np.ndarray]:
    """L2-regularised logistic regression by Newton's method on standardised features.

    Returns the intercept and weights on the raw feature scale, so the settings
    hold plain numbers that :func:`rag.verification.support.judge` applies directly.
    """
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / std])
    w = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * ridge
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = z.T @ (z * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    weights = w[1:] / std
    return float(w[0] - np.sum(w[1:] * mean / std)), weights


def choose_threshold(examples: list[Example], hard_ok: list[bool], scores: list[float]) -> float:
    """The dev threshold with the best unsupported-F1 among those keeping supported precision >= 0.90.

    Candidates are midpoints between consecutive distinct scores; among equally
    good ones the middle of the widest plateau is taken, which is the value
    least sensitive to small score shifts.
    """
    values = sorted({round(s, 6) for s, ok in zip(scores, hard_ok, strict=True) if ok})
    candidates = [0.0] + [(a + b) / 2 for a, b in itertools.pairwise(values)] + [1.0 + 1e-9]
    best: list[tuple[float, float]] = []
    best_key = (-1.0, -1.0)
    for t in candidates:
        predicted = [ok and s >= t for s, ok in zip(scores, hard_ok, strict=True)]
        m = metrics(examples, predicted)
        key = (float(m["supported_precision"] >= MIN_SUPPORTED_PRECISION), m["unsupported_f1"])
        if key > best_key:
            best_key, best = key, [(t, m["unsupported_f1"])]
        elif key == best_key:
            best.append((t, m["unsupported_f1"]))
    return best[len(best) // 2][0]


def calibrate(examples: list[Example], results: list[SupportResult], base: VerifySettings) -> VerifySettings:
    """Fit both logistic stages, their thresholds and the cross-encoder band on the dev split.

    Stage two (coverage, similarity, cross-encoder) is fitted first and its
    threshold chosen; stage one (coverage, similarity) is fitted on the same
    rows. The band in which the cross-encoder runs, [screen_reject,
    screen_accept), is the narrowest one outside of which stage one agrees with
    every stage-two decision on dev, so skipping the cross-encoder there changes
    no dev verdict.
    """
    dev = [i for i, e in enumerate(examples) if e.split == "dev"]
    dev_examples = [examples[i] for i in dev]
    hard_ok = [not (results[i].features["missing"] or results[i].features["conflict"]) for i in dev]
    feats = {k: np.array([results[i].features[k] for i in dev], dtype=float) for k in SOFT_FEATURES}
    settings = replace(base, lexical_threshold=choose_threshold(dev_examples, hard_ok, list(feats["coverage"])))
    ok = np.array(hard_ok)
    if not ok.any() or np.isnan(feats["similarity"][ok]).any() or np.isnan(feats["cross"][ok]).any():
        return settings
    y = np.array([e.label == "supported" for e in dev_examples], dtype=float)[ok]
    full_x = np.column_stack([feats[k] for k in SOFT_FEATURES])
    bias, (w_cov, w_sim, w_ce) = fit_logistic(full_x[ok], y)
    settings = replace(settings, bias=bias, weight_coverage=w_cov, weight_similarity=w_sim, weight_cross=w_ce)
    full = [full_score(settings, *row) if good else 0.0 for row, good in zip(full_x, hard_ok, strict=True)]
    settings = replace(settings, threshold=choose_threshold(dev_examples, hard_ok, full))
    screen_x = full_x[:, :2]
    s_bias, (s_cov, s_sim) = fit_logistic(screen_x[ok], y)
    settings = replace(settings, screen_bias=s_bias, screen_weight_coverage=s_cov, screen_weight_similarity=s_sim)
    screen = [screen_score(settings, *row) if good else 0.0 for row, good in zip(screen_x, hard_ok, strict=True)]
    settings = replace(settings, screen_threshold=choose_threshold(dev_examples, hard_ok, screen))
    decided = [(p, f >= settings.threshold) for p, f, good in zip(screen, full, hard_ok, strict=True) if good]
    values = sorted({p for p, _ in decided})
    rejected_above = max((p for p, yes in decided if not yes), default=0.0)
    accepted_below = min((p for p, yes in decided if yes), default=1.0)
    return replace(
        settings,
        screen_accept=_between(values, rejected_above, up=True),
        screen_reject=_between(values, accepted_below, up=False),
    )


def _between(values: list[float], edge: float, up: bool) -> float:
    """Midpoint between ``edge`` and its neighbour in ``values`` (above if ``up``), so the cut sits in a gap."""
    if up:
        above = [v for v in values if v > edge]
        return (edge + above[0]) / 2 if above else min(1.0, edge + 1e-6)
    below = [v for v in values if v < edge]
    return (edge + below[-1]) / 2 if below else max(0.0, edge - 1e-6)


def benchmark(verifier: Verifier, examples: list[Example], runs: int = 20) -> dict[str, float]:
    """Milliseconds per ``check`` of a 5-claim answer over 6 retrieved passages (medians over ``runs``).

    ``cold``: passages and claims never seen before (every cache cleared), as
    for a new question; ``warm``: the same answer checked again (cached
    vectors reused). ``*_cpu`` is process CPU time, which stays meaningful when
    other programs compete for the two cores. Model loading happens before
    timing starts.
    """
    supported = [e for e in examples if e.label == "supported"]
    groups: dict[str, list[Example]] = {}
    for e in supported:
        groups.setdefault(e.passage, []).append(e)
    passages = list(groups)
    if verifier.embed is not None:
        verifier.embed(["warm up"])
    if verifier.cross_encoder is not None:
        verifier.cross_encoder.score("warm up", ["warm up"])
    timings: dict[str, list[float]] = {"cold": [], "cold_cpu": [], "warm": [], "warm_cpu": []}
    for run in range(runs):
        chosen = [passages[(run * 6 + k) % len(passages)] for k in range(6)]
        claims = [groups[chosen[k]][run % len(groups[chosen[k]])].claim for k in range(5)]
        answer = " ".join(f"{c.rstrip('.')} [{k + 1}]." for k, c in enumerate(claims))
        numbered = {k + 1: p for k, p in enumerate(chosen)}
        verifier.clear_cache()
        for mode in ("cold", "warm"):
            wall, cpu = time.perf_counter(), time.process_time()
            verifier.check(answer, numbered)
            timings[mode].append((time.perf_counter() - wall) * 1000)
            timings[f"{mode}_cpu"].append((time.process_time() - cpu) * 1000)
    return {mode: statistics.median(values) for mode, values in timings.items()}


def _without(features: dict[str, float], mode: str) -> dict[str, float]:
    """The features the product would have without the cross-encoder ("no_cross") or any model ("lexical")."""
    dropped = {"no_cross": ("cross",), "lexical": ("cross", "similarity")}.get(mode, ())
    return {k: math.nan if k in dropped else v for k, v in features.items()}


def _cross_share(results: list[SupportResult], settings: VerifySettings) -> float:
    """Share of pairs past the hard checks for which the product would run the cross-encoder."""
    soft = [r.features for r in results if not (r.features["missing"] or r.features["conflict"])]
    if not soft or any(np.isnan(f["similarity"]) for f in soft):
        return 0.0
    return sum(needs_cross(settings, f["coverage"], f["similarity"]) for f in soft) / len(soft)


def _table(name: str, m: dict[str, Any]) -> str:
    return (
        f"| {name} | {m['n']} | {m['unsupported_precision']:.3f} | {m['unsupported_recall']:.3f} | "
        f"{m['unsupported_f1']:.3f} | {m['supported_precision']:.3f} | {m['accuracy']:.3f} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line entry; returns the exit status so tests can call it in-process."""
    parser = argparse.ArgumentParser(
        prog="python -m rag.verification.calibrate", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("path", type=Path, help="labelled claims (JSONL)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--no-models", action="store_true", help="lexical fallback only (no embedding/cross-encoder)")
    parser.add_argument("--bench", type=int, default=0, metavar="RUNS", help="also time check() on 5-claim answers")
    parser.add_argument("--toml", type=Path, help="write the fitted [verify] section to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    examples = load_examples(args.path)
    shipped = VerifySettings()
    verifier = build_verifier(shipped, with_models=not args.no_models)
    results = verifier.support_many([(e.claim, e.passage) for e in examples], exhaustive=True)
    fitted = calibrate(examples, results, shipped)

    report: dict[str, Any] = {"fitted": _settings_dict(fitted), "shipped": _settings_dict(shipped)}
    runs = [("fitted", fitted, "full"), ("shipped", shipped, "full")]
    if not args.no_models:
        runs += [("shipped-no-cross-encoder", shipped, "no_cross"), ("shipped-no-models", shipped, "lexical")]
    for label, settings, mode in runs:
        decided = [decide(_without(r.features, mode), settings) for r in results]
        for split in ("dev", "test"):
            index = [i for i, e in enumerate(examples) if e.split == split]
            report[f"{label}_{split}"] = metrics([examples[i] for i in index], [decided[i] for i in index])
            if mode == "full":
                report[f"{label}_{split}"]["cross_encoder_share"] = _cross_share([results[i] for i in index], settings)
    if args.bench:
        report["latency_ms"] = benchmark(build_verifier(shipped, with_models=not args.no_models), examples, args.bench)
        report["latency_ms_hard_checks_only"] = benchmark(
            build_verifier(shipped, with_models=False), examples, args.bench
        )
    if args.toml:
        args.toml.write_text(_toml(fitted), encoding="utf-8")

    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    print(f"{len(examples)} labelled pairs from {args.path}; models: {'no' if args.no_models else 'yes'}")
    print("\n| settings / split | n | unsupported P | unsupported R | unsupported F1 | supported P | accuracy |")
    print("|---|---|---|---|---|---|---|")
    for label, _, _ in runs:
        for split in ("dev", "test"):
            print(_table(f"{label} / {split}", report[f"{label}_{split}"]))
    print("\nErrors by kind (shipped settings):")
    for split in ("dev", "test"):
        kinds = report[f"shipped_{split}"]["errors_by_kind"]
        print(f"  {split}: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
        print(f"  {split} misclassified: {', '.join(report[f'shipped_{split}']['misclassified']) or 'none'}")
    print("\nFitted on dev:\n" + _toml(fitted))
    if "latency_ms" in report:
        for key, label in (("latency_ms", "with models"), ("latency_ms_hard_checks_only", "without models")):
            lat = report[key]
            print(
                f"check() of a 5-claim answer, {label}: cold {lat['cold']:.1f} ms wall / {lat['cold_cpu']:.1f} ms CPU, "
                f"warm {lat['warm']:.1f} ms wall / {lat['warm_cpu']:.1f} ms CPU (medians)"
            )
    return 0


def _settings_dict(settings: VerifySettings) -> dict[str, float]:
    return {f.name: round(float(getattr(settings, f.name)), 4) for f in fields(settings) if f.name in FITTED}


def _toml(settings: VerifySettings) -> str:
    return "[verify]\n" + "".join(f"{k} = {v}\n" for k, v in _settings_dict(settings).items())


if __name__ == "__main__":
    raise SystemExit(main())
