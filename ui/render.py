"""HTML for answers, verification badges, status boxes and evaluation tables: pure functions, no Gradio.

Everything that came from a document, a user or a model passes through
:func:`html.escape` before it reaches the page, so a document containing
``<script>`` or ``<img onerror=...>`` is shown as text and never runs. The only
markup in the output is the markup built here.

Citation chips carry a ``data-cite="t<turn>-<n>"`` key; the source panel holds
one hidden card per key, and a few lines of JavaScript (ui/static/*.js) show
the card of the chip that was clicked (the cards are built in ui/sources.py).

Under each answer: how the question was understood (its plan), which parts of
it the documents answer ("answers 2 of 3 parts"), how grounded its sentences
are, and the parts the documents do not give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from importlib.resources import files
from typing import Literal

from rag.text.markers import MARKER_RE, parse_markers
from rag.types import Answer, Citation, Claim
from ui.passage import is_label

VERDICT_LABELS: dict[str, tuple[str, str]] = {
    "supported": ("✓", "supported"),
    "unsupported": ("✗", "unsupported"),
    "uncited": ("?", "uncited"),
    "miscited": ("↻", "miscited"),
    "computed": ("=", "computed"),
    "not_factual": ("·", "not a claim"),
}
# Verdicts that count toward grounding: stated by a cited source (or its corrected citation), or
# arithmetic redone on figures the cited sources state.
GROUNDED = ("supported", "miscited", "computed")
MAX_TURNS_WITH_SOURCES = 20
# A longer question is refused by the pipeline; its bubble shows this much, so the page stays readable.
SHOWN_QUESTION_CHARS = 600


@dataclass(frozen=True)
class Turn:
    """One exchange of the conversation, as the page shows it.

    ``answer`` is None while the pipeline is still working, and ``draft`` holds
    what an LLM has written so far (unchecked, shown as such).
    ``error`` is why there is no answer: a ``notice`` asks the user to change
    the question, an ``error`` reports a failure of the server.
    """

    question: str
    answer: Answer | None = None
    error: str = ""
    error_kind: Literal["error", "notice"] = "error"
    draft: str = ""


def esc(text: object) -> str:
    """Escape for element content and double-quoted attributes alike."""
    return escape(str(text), quote=True)


# -- answers ---------------------------------------------------------------------
def chip_key(turn: int, n: int) -> str:
    return f"t{turn}-{n}"


def badge_html(claim: Claim) -> str:
    """The verdict badge of one sentence; the checker's reason is the tooltip."""
    icon, label = VERDICT_LABELS.get(claim.verdict, ("", claim.verdict))
    reason = claim.reason
    if claim.verdict == "miscited" and claim.repaired_from:
        reason = f"citation corrected from {_markers(claim.repaired_from)} to {_markers(claim.citations)}: {reason}"
    if claim.verdict == "computed":
        label, reason = "computed", "computed from the cited figures" + (f" ({reason})" if reason else "")
    title = f"{label}: {reason}" if reason else label
    return (
        f'<span class="badge badge-{esc(claim.verdict)}" title="{esc(title)}" tabindex="0">'
        f'<span aria-hidden="true">{icon}</span> {esc(label)}</span>'
    )


def _markers(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def chip_html(turn: int, n: int, citation: Citation | None) -> str:
    """A clickable ``[n]``; a number that names no returned source stays plain text."""
    if citation is None:
        return f'<span class="cite-missing" title="[{n}] is not one of the retrieved sources">[{n}]</span>'
    page = f", page {citation.page}" if citation.page else ""
    title = f"[{n}] {citation.title or citation.source}{page}: show the passage"
    return (
        f'<button type="button" class="cite-chip" data-cite="{esc(chip_key(turn, n))}" '
        f'title="{esc(title)}" aria-label="Source {n}">{n}</button>'
    )


def _marked_html(raw: str, turn: int, by_n: dict[int, Citation]) -> str:
    """``raw`` escaped, each run of ``[n]`` markers turned into chips."""
    parts: list[str] = []
    cursor = 0
    for match in MARKER_RE.finditer(raw):
        parts.append(esc(raw[cursor : match.start()].rstrip(" ")))
        chips = "".join(chip_html(turn, n, by_n.get(n)) for n in parse_markers(match.group(0)))
        parts.append(f'<span class="cites">{chips}</span>')
        cursor = match.end()
    parts.append(esc(raw[cursor:]))
    return "".join(parts)


def _sentence_html(raw: str, claim: Claim, turn: int, by_n: dict[int, Citation]) -> str:
    """One answer sentence: its text with chips, then the badge of the claim it states."""
    return f'<span class="claim v-{esc(claim.verdict)}">{_marked_html(raw, turn, by_n)}{badge_html(claim)}</span>'


def shown_claims(answer: Answer) -> list[Claim]:
    """The claims the page shows: all but headings and captions of the cited passages quoted as sentences
    ("Stargate at a glance"), which state nothing and would otherwise pass as supported."""
    passages = {c.n: c.text for c in answer.citations}
    return [
        claim
        for claim in answer.claims
        if not is_label(MARKER_RE.sub("", claim.text), [passages[n] for n in claim.citations if n in passages])
    ]


def _placed_claims(answer: Answer, shown: list[Claim]) -> list[Claim]:
    """The shown claims whose offsets locate a sentence in the answer text, in reading order.

    Claims strict mode removed (offsets -1), and any whose offsets fall outside
    the text or overlap an earlier sentence, have no place on the page.
    """
    text = answer.answer
    placed: list[Claim] = []
    cursor = 0
    for claim in sorted((c for c in shown if 0 <= c.start < c.end <= len(text)), key=lambda c: c.start):
        if claim.start >= cursor:
            placed.append(claim)
            cursor = claim.end
    return placed


def answer_segments(answer: Answer, turn: int) -> list[str]:
    """The answer body as HTML pieces, one per sentence, in order; streaming shows them one by one.

    Each claim carries the offsets of its sentence (with its ``[n]`` markers) in
    the answer text, as the verifier found them, so a badge always sits on the
    sentence it judges and the answer is never split again here. Text between
    sentences (line breaks, bullets, list lead-ins) is attached to the following
    piece; the checker's notes are not in the text, they are listed in the footer.
    """
    text = answer.answer
    if answer.abstained or not answer.claims:
        return [f'<span class="claim v-abstained">{esc(text.strip())}</span>']
    by_n = {c.n: c for c in answer.citations}
    segments: list[str] = []
    cursor = len(text) - len(text.lstrip())
    shown = shown_claims(answer)
    hidden = [c for c in answer.claims if c not in shown and 0 <= c.start < c.end <= len(text)]
    for claim in _placed_claims(answer, shown):
        gap = _marked_html(_without(text, cursor, claim.start, hidden), turn, by_n)
        segments.append(gap + _sentence_html(text[claim.start : claim.end], claim, turn, by_n))
        cursor = claim.end
    tail = _without(text, cursor, len(text), hidden).rstrip()
    if tail.strip():
        segments.append(_marked_html(tail, turn, by_n))
    return segments


def _without(text: str, start: int, end: int, hidden: list[Claim]) -> str:
    """``text[start:end]`` less the sentences of ``hidden`` claims inside it."""
    kept: list[str] = []
    cursor = start
    for claim in sorted((c for c in hidden if start <= c.start and c.end <= end), key=lambda c: c.start):
        if claim.start >= cursor:
            kept.append(text[cursor : claim.start])
            cursor = claim.end
    kept.append(text[cursor:end])
    return "".join(kept)


def grounding_html(answer: Answer) -> str:
    """The meter: the share of the shown factual sentences that are stated by their sources or computed from them."""
    counted = [c for c in shown_claims(answer) if c.verdict != "not_factual"]
    if not counted:
        return ""
    good = sum(c.verdict in GROUNDED for c in counted)
    share = good / len(counted)
    level = "high" if share >= 0.8 else "mid" if share >= 0.5 else "low"
    percent = round(share * 100)
    title = "share of factual sentences that a cited (or corrected) source states, or computed from its figures"
    return (
        f'<span class="grounding g-{level}" title="{esc(title)}">'
        f'<span class="meter"><span style="width:{percent}%"></span></span>'
        f"grounded {percent}% ({good} of {len(counted)} sentences)</span>"
    )


def coverage_html(answer: Answer) -> str:
    """ "answers 2 of 3 parts": the slots of the question's plan (company × figure asked) the answer fills."""
    slots = answer.plan.get("slots") or []
    if answer.coverage is None or not slots:
        return ""
    filled = round(answer.coverage * len(slots))
    level = "high" if filled == len(slots) else "mid" if filled else "low"
    title = "parts of the question (each company and figure asked for) that a checked sentence answers"
    return f'<span class="coverage c-{level}" title="{title}">answers {filled} of {len(slots)} parts</span>'


def plan_html(answer: Answer) -> str:
    """How the question was understood: the rewritten follow-up when there is one, and the plan's line."""
    rows: list[str] = []
    standalone = answer.standalone_question.strip()
    if standalone and _normal(standalone) != _normal(answer.question):
        rows.append(
            '<div class="standalone" title="Follow-up questions are completed from the previous turn '
            f'before retrieval">Follow-up read as: <q class="standalone-q">{esc(standalone)}</q></div>'
        )
    described = str(answer.plan.get("described") or "").strip()
    if described and answer.plan.get("kind") != "other":  # "Question: the answer of X" tells the reader nothing
        rows.append(
            '<div class="plan" title="What the answer looks for: the kind of question, who it is about and which '
            f'figures">Understood as: <span class="plan-q">{esc(described)}</span></div>'
        )
    return "".join(rows)


def missing_html(answer: Answer) -> str:
    """The parts of the question no checked sentence answers, said plainly rather than left out."""
    if not answer.missing or answer.abstained:
        return ""
    return f'<div class="missing">The documents do not give: {esc("; ".join(answer.missing))}</div>'


def timings_html(answer: Answer) -> str:
    """Total time with the per-stage split, and which generator wrote the answer."""
    parts = [f"{esc(name)} {_duration(ms)}" for name, ms in answer.timings_ms.items() if name != "total"]
    total = answer.timings_ms.get("total")
    summary = f"{_duration(total)}" if total is not None else ""
    detail = f" ({' · '.join(parts)})" if parts else ""
    generator = f" · {esc(answer.generator)}" if answer.generator else ""
    title = "time per stage; the generator that wrote the answer"
    return f'<span class="timings" title="{title}">{summary}{detail}{generator}</span>'


def _duration(ms: float | None) -> str:
    if ms is None or not math.isfinite(ms):
        return "–"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def plain_answer(answer: Answer) -> str:
    """What "Copy" puts on the clipboard: the answer text as shown (no headings) and its numbered sources."""
    shown = shown_claims(answer)
    hidden = [c for c in answer.claims if c not in shown and 0 <= c.start < c.end <= len(answer.answer)]
    lines = [_without(answer.answer, 0, len(answer.answer), hidden).strip()]
    if answer.citations:
        lines.append("")
        lines += [
            f"[{c.n}] {c.title or c.source} ({c.source}{f', page {c.page}' if c.page else ''})"
            for c in answer.citations
        ]
    return "\n".join(lines)


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def answer_footer(answer: Answer) -> str:
    notes = ""
    if answer.notes:
        items = "".join(f"<li>{esc(note)}</li>" for note in answer.notes)
        notes = f'<ul class="notes" aria-label="Notes from the citation checker">{items}</ul>'
    copy = (
        f'<button type="button" class="copy-btn" data-copy="{esc(plain_answer(answer))}" '
        'title="Copy the answer and its sources">Copy</button>'
    )
    quality = [part for part in (coverage_html(answer), grounding_html(answer)) if part]
    summary = f'<span class="quality">{" · ".join(quality)}</span>' if quality else ""
    meta = f'<div class="answer-meta">{summary}{timings_html(answer)}{copy}</div>'
    return missing_html(answer) + notes + meta


def question_html(question: str) -> str:
    """The user's bubble; an over-long question (which the pipeline refuses) is cut, so the page stays short."""
    if len(question) <= SHOWN_QUESTION_CHARS:
        return esc(question)
    rest = f"… ({len(question):,} characters)"
    return f'{esc(question[:SHOWN_QUESTION_CHARS])}<span class="cut">{esc(rest)}</span>'


def render_turn(turn: Turn, index: int) -> str:
    user = f'<div class="msg msg-user"><div class="bubble">{question_html(turn.question)}</div></div>'
    if turn.error:
        role = "alert" if turn.error_kind == "error" else "status"
        body = f'<div class="{turn.error_kind}-msg" role="{role}">{esc(turn.error)}</div>'
    elif turn.answer is None and turn.draft:
        body = (
            '<div class="pending" role="status"><span class="dots"><i></i><i></i><i></i></span>'
            "Draft; its citations are checked when it is complete…</div>"
            f'<div class="draft">{esc(turn.draft)}</div>'
        )
    elif turn.answer is None:
        body = (
            '<div class="pending" role="status"><span class="dots"><i></i><i></i><i></i></span>'
            "Searching the documents and checking every citation…</div>"
        )
    else:
        assert turn.answer is not None
        segments = answer_segments(turn.answer, index)
        body = plan_html(turn.answer) + f'<div class="answer-body">{"".join(segments)}</div>'
        body += answer_footer(turn.answer)
    bot = f'<div class="msg msg-bot"><div class="bubble">{body}</div></div>'
    return f'<div class="turn" data-turn="{index}">{user}{bot}</div>'


def render_conversation(turns: list[Turn], examples_hint: str = "") -> str:
    if not turns:
        hint = f'<p class="hint">{esc(examples_hint)}</p>' if examples_hint else ""
        return (
            '<div class="conversation empty"><div class="welcome">'
            "<h3>Ask a question about your documents</h3>"
            "<p>Every sentence of the answer is checked against the passage it cites: "
            '<span class="badge badge-supported">✓ supported</span> '
            '<span class="badge badge-unsupported">✗ unsupported</span> '
            '<span class="badge badge-uncited">? uncited</span> '
            '<span class="badge badge-miscited">↻ miscited</span> '
            '<span class="badge badge-computed">= computed</span> (arithmetic redone on the cited figures). '
            "Click a citation number to read the passage, with the supporting words highlighted.</p>"
            f"{hint}</div></div>"
        )
    inner = "".join(render_turn(turn, i) for i, turn in enumerate(turns, start=1))
    return f'<div class="conversation">{inner}</div>'


# -- status and evaluation ------------------------------------------------------
def render_status(kind: str, message: str, details: list[str] | None = None) -> str:
    """A status box (``ok``, ``warn`` or ``error``) with an escaped message and optional list."""
    items = ""
    if details:
        items = "<ul>" + "".join(f"<li>{esc(d)}</li>" for d in details) + "</ul>"
    return f'<div class="status status-{esc(kind)}" role="status">{esc(message)}{items}</div>'


def render_metrics(rows: list[tuple[str, str, str]], caption: str = "", note: str = "") -> str:
    """A table of already formatted ``(label, value, explanation)`` metric rows, the explanation under the label."""
    if not rows:
        return '<p class="muted">No metrics.</p>'
    body = "".join(
        f'<tr><th>{esc(label)}<div class="why">{esc(why)}</div></th><td>{esc(value)}</td></tr>'
        for label, value, why in rows
    )
    head = f"<caption>{esc(caption)}</caption>" if caption else ""
    foot = f'<p class="muted metrics-note">{esc(note)}</p>' if note else ""
    return f'<table class="metrics">{head}<tbody>{body}</tbody></table>{foot}'


def render_charts(images: list[tuple[str, str]]) -> str:
    """``(title, data URI)`` charts of an evaluation run as captioned figures, titles and URIs escaped."""
    if not images:
        return '<p class="muted">No charts in this run.</p>'
    figures = "".join(
        f'<figure><img alt="{esc(alt)}" src="{esc(uri)}"><figcaption>{esc(alt)}</figcaption></figure>'
        for alt, uri in images
    )
    return f'<div class="eval-charts">{figures}</div>'


# -- page assets -------------------------------------------------------------------
def _static(name: str) -> str:
    """A file of ``ui/static/``, read through the package so an installed wheel finds it too."""
    return files("ui").joinpath("static", name).read_text(encoding="utf-8")


# Read once at import. Both HTML components' js_on_load start with the shared
# helpers of show_source.js, then add their own click delegation.
CSS = _static("app.css")
CHAT_JS = _static("show_source.js") + _static("chat.js")
SOURCES_JS = _static("show_source.js") + _static("sources.js")
