"""What the ``rag`` command prints: answers, ingest reports, facts and progress, as terminal text.

Kept apart from :mod:`rag.cli` (argument parsing and commands) so each stays
readable; nothing here imports a model or a store.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.financing.model import FinancingFact
    from rag.types import Answer, IngestReport


def on_terminal() -> bool:
    """Whether stderr is a terminal: progress bars there, never into a log file or a CI job's output."""
    return sys.stderr.isatty()


def format_ingest_report(report: IngestReport) -> str:
    lines = [
        f"{report.files} files: {report.added} chunks added, {report.skipped} files unchanged, "
        f"{report.removed} chunks removed, {report.chunks} chunks in these files ({report.seconds:.1f} s)"
    ]
    lines += [f"warning: {warning}" for warning in report.warnings]
    if report.failed:
        lines.append(f"{len(report.failed)} files skipped:")
        lines += [f"  {failure.path}: {failure.error}" for failure in report.failed]
    return "\n".join(lines)


def format_answer(answer: Answer) -> str:
    """Answer, verdicts and numbered sources as terminal text."""
    badge = {"supported": "✓", "computed": "=", "unsupported": "✗", "uncited": "?", "miscited": "↻", "not_factual": "·"}
    lines = [answer.answer, ""]
    if answer.standalone_question and answer.standalone_question != answer.question:
        lines.insert(0, f"(understood as: {answer.standalone_question})\n")
    if answer.plan.get("described") and answer.plan.get("kind") != "other":
        lines.insert(0, f"(plan: {answer.plan['described']})")
    if answer.claims:
        parts = len(answer.plan.get("slots", []))
        covered = (
            f" · answers {round((answer.coverage or 0) * parts)} of {parts} parts"
            if answer.coverage is not None
            else ""
        )
        lines.append(f"Verification: grounding {answer.grounding:.0%}{covered}")
        if answer.missing:
            lines.append(f"  not in the documents: {', '.join(answer.missing)}")
        for claim in answer.claims:
            lines.append(f"  {badge.get(claim.verdict, ' ')} {claim.verdict:<11} {claim.text}")
        lines.append("")
    lines += [f"Note: {note}" for note in answer.notes]
    if answer.citations:
        lines.append("Sources:")
        for citation in answer.citations:
            page = f", page {citation.page}" if citation.page else ""
            snippet = " ".join(citation.text.split())
            lines.append(f"  [{citation.n}] {citation.title} ({citation.source}{page})")
            lines.append(f"      {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in answer.timings_ms.items())
    lines.append(f"({answer.generator}; {timings})")
    return "\n".join(lines)


def format_fact(fact: FinancingFact) -> str:
    """One financing fact on one line: date, company, attribute, figure, round, counterparty, source file."""
    party = f" <- {fact.counterparty}" if fact.counterparty else ""
    figure = f" {fact.value_text}" if fact.value_text else ""
    round_label = f" ({fact.round})" if fact.round else ""
    return f"{fact.date or '?':<10}  {fact.subject}: {fact.attribute}{figure}{round_label}{party}  [{fact.source}]"


class EvalProgress:
    """The eval runner's progress on stderr: a tqdm bar with the running count of correct answers.

    Errors and warnings of the questions are kept in ``problems``, printed after the run.
    """

    def __init__(self) -> None:
        self.bar: Any = None
        self.correct = 0
        self.problems: list[str] = []

    def __call__(self, done: int, total: int, result: Any) -> None:
        if result is None:  # the models are loaded, the questions start
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, unit="q", desc="eval", file=sys.stderr, dynamic_ncols=True, disable=not on_terminal()
            )
            return
        self.correct += result.correct
        self.bar.update(1)
        suffix = f", error in {result.id}" if result.error else ""
        self.bar.set_postfix_str(f"correct {self.correct}/{self.bar.n}{suffix}")
        self.problems += ([f"{result.id}: {result.error}"] if result.error else []) + result.warnings

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
