"""Measure citation checking on who-did-what claims (issue 14), with the old claim set beside it for regressions.

    python eval/verify_relations.py --split fit
    python eval/verify_relations.py --split holdout --bench 20

Reads ``tests/data/relation_claims.jsonl`` (one answer sentence with ``[n]``
markers, its sources with optional dates, a label and a category) and runs each
through ``Verifier.check`` as ``rag check`` does, with the product's models.
Prints, for the chosen split: unsupported-claim precision/recall/F1, precision
on supported verdicts, each category's recall (share of its claims given the
right label), how often an unsupported verdict's reason names the words the
labeller expected, and the same checker's numbers on ``tests/data/claims.jsonl``
(each pair checked as a one-claim answer). ``--bench N`` adds the latency of a
5-claim answer (:func:`rag.verification.calibrate.benchmark`). A claim counts
as supported when its verdict is ``supported`` or ``computed``.

``--leave-one-out PATH:SPLIT ...`` asks whether the soft score would generalise
better fitted on every development set than on the old set's dev half: for
each named set in turn, the soft-score weights and thresholds are fitted
(:func:`rag.verification.calibrate.calibrate`, unchanged rule) on the old
set's dev half plus the other named sets, and the held-out set is checked
end to end with them, beside the shipped settings; the fit on all of them is
then checked on the old set's held-out test half.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rag.config import VerifySettings  # noqa: E402
from rag.verification.calibrate import (  # noqa: E402
    FITTED,
    Example,
    benchmark,
    build_verifier,
    calibrate,
    load_examples,
    metrics,
)
from rag.verification.checker import Verifier  # noqa: E402

RELATIONS = REPO / "tests" / "data" / "relation_claims.jsonl"
OLD = REPO / "tests" / "data" / "claims.jsonl"
GOOD = ("supported", "computed")


@dataclass(frozen=True)
class Outcome:
    """One labelled claim with the checker's verdict and reason."""

    row: dict[str, Any]
    verdict: str
    reason: str

    @property
    def supported(self) -> bool:
        return self.verdict in GOOD


def load_relation_claims(path: Path, split: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split == "all" or r.get("split") == split]


def check_row(verifier: Verifier, row: dict[str, Any]) -> Outcome:
    """The verdict of the row's (single) claim, as ``rag check`` gives it."""
    passages = {int(s["n"]): str(s["text"]) for s in row["sources"]}
    dates = {int(s["n"]): str(s.get("date") or "") for s in row["sources"]}
    titles = {int(s["n"]): str(s.get("title") or "") for s in row["sources"]}
    result = verifier.check(row["answer"], passages, strict=False, dates=dates, titles=titles)
    claims = [c for c in result.claims if c.verdict != "not_factual"] or result.claims
    worst = next((c for c in claims if c.verdict not in GOOD), claims[0])
    return Outcome(row, worst.verdict, worst.reason)


def relation_report(outcomes: list[Outcome]) -> dict[str, Any]:
    """Unsupported F1, supported precision, recall per category and reason coverage."""
    examples = [Example(o.row["id"], o.row["answer"], "", o.row["label"], o.row["category"], "") for o in outcomes]
    report = metrics(examples, [o.supported for o in outcomes])
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for o in outcomes:
        total[o.row["category"]] += 1
        right[o.row["category"]] += (o.row["label"] == "supported") == o.supported
    report["recall_by_category"] = {k: (right[k] / total[k], f"{right[k]}/{total[k]}") for k in sorted(total)}
    caught = [
        o for o in outcomes if o.row["label"] == "unsupported" and not o.supported and o.row.get("reason_mentions")
    ]
    named = [o for o in caught if all(w.lower() in o.reason.lower() for w in o.row["reason_mentions"])]
    report["reason_mentions"] = f"{len(named)}/{len(caught)}"
    report["wrong"] = [
        {"id": o.row["id"], "label": o.row["label"], "verdict": o.verdict, "reason": o.reason}
        for o in outcomes
        if (o.row["label"] == "supported") != o.supported
    ]
    report["reason_misses"] = [
        {"id": o.row["id"], "wanted": o.row["reason_mentions"], "reason": o.reason} for o in caught if o not in named
    ]
    return report


def pair_examples(rows: list[dict[str, Any]], name: str) -> list[tuple[Example, str]]:
    """Each row as one pair (claim, its cited passages joined), split named after its set, with their titles."""
    pairs = []
    for r in rows:
        cited = [s for s in r["sources"] if f"[{s['n']}]" in r["answer"]] or r["sources"]
        passage = "\n\n".join(s["text"] for s in cited)
        title = " ".join(str(s.get("title") or "") for s in cited)
        pairs.append((Example(r["id"], r["answer"], passage, r["label"], r["category"], name), title))
    return pairs


def leave_one_out(verifier: Verifier, sets: dict[str, list[dict[str, Any]]]) -> None:
    """Fit the soft score on the old dev half plus all named sets but one, check the one left out end to end."""
    shipped = verifier.settings
    old = [replace(e, split="dev") for e in load_examples(OLD) if e.split == "dev"]
    examples = {name: pair_examples(rows, name) for name, rows in sets.items()}
    features = {
        name: verifier.support_many(
            [(e.claim, e.passage) for e, _ in pairs], exhaustive=True, titles=[t for _, t in pairs]
        )
        for name, pairs in examples.items()
    }
    old_features = verifier.support_many([(e.claim, e.passage) for e in old], exhaustive=True)

    def fitted(names: list[str]) -> VerifySettings:
        chosen = old + [replace(e, split="dev") for n in names for e, _ in examples[n]]
        return calibrate(chosen, old_features + [r for n in names for r in features[n]], shipped)

    def scores(settings: VerifySettings, rows: list[dict[str, Any]]) -> str:
        verifier.settings = settings
        report = relation_report([check_row(verifier, r) for r in rows])
        verifier.settings = shipped
        return f"{report['unsupported_f1']:.3f}/{report['supported_precision']:.3f}"

    for held in sets:
        settings = fitted([n for n in sets if n != held])
        print(f"  left out {held}: shipped {scores(shipped, sets[held])} -> refitted {scores(settings, sets[held])}")
    everything = fitted(list(sets))
    verifier.settings = everything
    test = old_set_report(verifier, OLD)["test"]
    verifier.settings = shipped
    print(
        f"  fitted on all: old set test F1 {test['unsupported_f1']:.3f}, supported precision "
        f"{test['supported_precision']:.3f}; "
        + ", ".join(f"{f.name} {getattr(everything, f.name):.4f}" for f in fields(everything) if f.name in FITTED)
    )


def old_set_report(verifier: Verifier, path: Path) -> dict[str, Any]:
    """The old labelled pairs, each checked as a one-claim answer citing its passage (held-out ``test`` split)."""
    out: dict[str, Any] = {}
    examples = load_examples(path)
    for split in ("dev", "test"):
        chosen = [e for e in examples if e.split == split]
        verdicts = [verifier.check(f"{e.claim.rstrip('.')} [1].", {1: e.passage}, strict=False) for e in chosen]
        supported = [all(c.verdict in GOOD for c in v.claims if c.verdict != "not_factual") for v in verdicts]
        out[split] = metrics(chosen, supported)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--split", default="fit", choices=("fit", "holdout", "all"))
    parser.add_argument("--path", type=Path, default=RELATIONS)
    parser.add_argument("--no-models", action="store_true", help="lexical fallback only")
    parser.add_argument("--no-old", action="store_true", help="skip the old claim set")
    parser.add_argument("--bench", type=int, default=0, metavar="RUNS", help="also time check() on 5-claim answers")
    parser.add_argument("--verbose", action="store_true", help="list every wrong verdict and reason miss")
    parser.add_argument(
        "--leave-one-out",
        nargs="+",
        metavar="PATH:SPLIT",
        help="refit the soft score on all named sets but one (and the old dev half), check the one left out",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    verifier = build_verifier(VerifySettings(), with_models=not args.no_models)
    if args.leave_one_out:
        named = [spec.rpartition(":") for spec in args.leave_one_out]
        leave_one_out(verifier, {f"{Path(p).stem}:{s}": load_relation_claims(Path(p), s) for p, _, s in named})
        return 0

    rows = load_relation_claims(args.path, args.split)
    report = relation_report([check_row(verifier, r) for r in rows])
    print(f"{args.path.name} / {args.split}: {report['n']} claims; models: {'no' if args.no_models else 'yes'}")
    print(
        f"  unsupported P {report['unsupported_precision']:.3f} R {report['unsupported_recall']:.3f} "
        f"F1 {report['unsupported_f1']:.3f}; supported precision {report['supported_precision']:.3f}; "
        f"accuracy {report['accuracy']:.3f}"
    )
    print(
        "  recall by category: "
        + ", ".join(f"{k} {v[0]:.2f} ({v[1]})" for k, v in report["recall_by_category"].items())
    )
    print(f"  reasons naming the expected words: {report['reason_mentions']} caught unsupported claims")
    if args.verbose:
        for wrong in report["wrong"]:
            print(f"  WRONG {wrong['id']} label={wrong['label']} verdict={wrong['verdict']}: {wrong['reason']}")
        for miss in report["reason_misses"]:
            print(f"  REASON {miss['id']} wanted {miss['wanted']}: {miss['reason']}")
    if not args.no_old:
        for split, m in old_set_report(verifier, OLD).items():
            print(
                f"{OLD.name} / {split}: {m['n']} pairs; unsupported F1 {m['unsupported_f1']:.3f}, "
                f"supported precision {m['supported_precision']:.3f}, accuracy {m['accuracy']:.3f}"
            )
            if args.verbose:
                print(f"  misclassified: {', '.join(m['misclassified'])}")
    if args.bench:
        latency = benchmark(verifier, load_examples(OLD), args.bench)
        print(
            f"check() of a 5-claim answer: warm {latency['warm']:.1f} ms wall / {latency['warm_cpu']:.1f} ms CPU, "
            f"cold {latency['cold']:.1f} ms wall (medians of {args.bench})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
