"""Citation audits: what ALCE-style citation recall and precision count, per claim.

The audit is of the generator's own (unrepaired) citations. Recall: a factual
claim counts when its citations jointly support it; an uncited claim is a
miss. Precision: a citation counts when it supports its claim alone, or when
the claim's other citations fail without it. The metric itself (summing
audits over answers) is :func:`rag.evaluation.metrics.citation_counts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rag.text.claims import ClaimText
from rag.verification.support import SupportResult


@dataclass(frozen=True)
class CitationAudit:
    """Per-claim citation facts behind the ALCE-style metrics (original, unrepaired citations)."""

    citations: list[int]
    joint_support: bool
    precise: list[bool]


def audit_claim(
    c: ClaimText,
    k: int,
    passages: dict[int, str],
    results: dict[tuple[int, int], SupportResult],
    joint: dict[int, SupportResult],
    support: Callable[[str, str], SupportResult],
) -> CitationAudit:
    """ALCE's definitions for claim ``k``: recall needs the citations jointly to support the claim; a
    citation is precise if it supports the claim alone or the others fail without it.

    ``results`` and ``joint`` are the checker's per-passage and joint results;
    ``support`` scores the claim against the other citations joined, when needed.
    """
    own = [n for n in c.citations if n in passages]
    alone = {n: results[(k, n)].supported for n in own}
    together = any(alone.values()) or (k in joint and joint[k].supported)
    precise: list[bool] = []
    for n in c.citations:
        if n not in alone or not together:
            precise.append(False)
        elif alone[n]:
            precise.append(True)
        else:
            rest = [m for m in own if m != n]
            rest_ok = any(alone[m] for m in rest) or (
                len(rest) > 1 and support(c.text, "\n\n".join(passages[m] for m in rest)).supported
            )
            precise.append(not rest_ok)
    return CitationAudit(list(c.citations), together, precise)
