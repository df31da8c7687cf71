"""HTML for answers, verification badges and the source panel: pure functions, no Gradio.

Everything that came from a document, a user or a model passes through
:func:`html.escape` before it reaches the page, so a document containing
``<script>`` or ``<img onerror=...>`` is shown as text and never runs. The only
markup in the output is the markup built here.

Citation chips carry a ``data-cite="t<turn>-<n>"`` key; the source panel holds
one hidden card per key, and a few lines of JavaScript (ui/static/*.js) show
the card of the chip that was clicked. Keeping the cards on the page means a
click needs no round trip to the server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from importlib.resources import files
from urllib.parse import urlsplit

from rag.text.markers import MARKER_RE, parse_markers
from rag.types import Answer, Citation, Claim

VERDICT_LABELS: dict[str, tuple[str, str]] = {
    "supported": ("✓", "supported"),
    "unsupported": ("✗", "unsupported"),
    "uncited": ("?", "uncited"),
    "miscited": ("↻", "miscited"),
    "not_factual": ("·", "not a claim"),
}
MAX_TURNS_WITH_SOURCES = 20


@dataclass(frozen=True)
class Turn:
    """One exchange of the conversation, as the page shows it.

    ``answer`` is None while the pipeline is still working; ``shown`` is how many
    answer segments have been streamed so far (None: all, with the footer).
    """

    question: str
    answer: Answer | None = None
    error: str = ""
    shown: int | None = None


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


def _placed_claims(answer: Answer) -> list[Claim]:
    """The claims whose offsets locate a sentence in the answer text, in reading order.

    Claims strict mode removed (offsets -1), and any whose offsets fall outside
    the text or overlap an earlier sentence, have no place on the page.
    """
    text = answer.answer
    placed: list[Claim] = []
    cursor = 0
    for claim in sorted((c for c in answer.claims if 0 <= c.start < c.end <= len(text)), key=lambda c: c.start):
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
    for claim in _placed_claims(answer):
        gap = _marked_html(text[cursor : claim.start], turn, by_n)
        segments.append(gap + _sentence_html(text[claim.start : claim.end], claim, turn, by_n))
        cursor = claim.end
    tail = text[cursor:].rstrip()
    if tail.strip():
        segments.append(_marked_html(tail, turn, by_n))
    return segments


def grounding_html(answer: Answer) -> str:
    counted = [c for c in answer.claims if c.verdict != "not_factual"]
    if not counted:
        return ""
    good = sum(c.verdict in ("supported", "miscited") for c in counted)
    level = "high" if answer.grounding >= 0.8 else "mid" if answer.grounding >= 0.5 else "low"
    percent = round(answer.grounding * 100)
    title = "share of factual sentences that a cited (or corrected) source states"
    return (
        f'<span class="grounding g-{level}" title="{esc(title)}">'
        f'<span class="meter"><span style="width:{percent}%"></span></span>'
        f"grounding {percent}% · {good} of {len(counted)} claims supported</span>"
    )


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
    """What "Copy" puts on the clipboard: the answer text and its numbered sources."""
    lines = [answer.answer.strip()]
    if answer.citations:
        lines.append("")
        lines += [
            f"[{c.n}] {c.title or c.source} ({c.source}{f', page {c.page}' if c.page else ''})"
            for c in answer.citations
        ]
    return "\n".join(lines)


def standalone_html(answer: Answer) -> str:
    """The rewritten follow-up, shown only when it differs from what was typed."""
    standalone = answer.standalone_question.strip()
    if not standalone or _normal(standalone) == _normal(answer.question):
        return ""
    return (
        '<div class="standalone" title="Follow-up questions are completed from the previous turn before retrieval">'
        f'Understood as: <q class="standalone-q">{esc(standalone)}</q></div>'
    )


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
    meta = f'<div class="answer-meta">{grounding_html(answer)}{timings_html(answer)}{copy}</div>'
    return notes + meta


def render_turn(turn: Turn, index: int) -> str:
    user = f'<div class="msg msg-user"><div class="bubble">{esc(turn.question)}</div></div>'
    if turn.error:
        body = f'<div class="error-msg" role="alert">{esc(turn.error)}</div>'
    elif turn.answer is None:
        body = (
            '<div class="pending" role="status"><span class="dots"><i></i><i></i><i></i></span>'
            "Searching the documents and checking every citation…</div>"
        )
    else:
        segments = answer_segments(turn.answer, index)
        shown = segments if turn.shown is None else segments[: turn.shown]
        body = standalone_html(turn.answer) + f'<div class="answer-body">{"".join(shown)}</div>'
        if turn.shown is None:
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
            '<span class="badge badge-miscited">↻ miscited</span>. '
            "Click a citation number to read the passage, with the supporting words highlighted.</p>"
            f"{hint}</div></div>"
        )
    inner = "".join(render_turn(turn, i) for i, turn in enumerate(turns, start=1))
    return f'<div class="conversation">{inner}</div>'


# -- sources ---------------------------------------------------------------------
def evidence_spans(answer: Answer, n: int) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` spans of citation ``n``'s text that the checker matched to some claim.

    Offsets are into the citation's text. A span whose offsets do not fit the
    text is located by its quoted text instead, and dropped if it is not there.
    """
    citation = next((c for c in answer.citations if c.n == n), None)
    if citation is None:
        return []
    text = citation.text
    spans: list[tuple[int, int]] = []
    for claim in answer.claims:
        for ev in claim.evidence:
            if ev.n != n:
                continue
            if 0 <= ev.start < ev.end <= len(text) and (not ev.text or text[ev.start : ev.end] == ev.text):
                spans.append((ev.start, ev.end))
            elif ev.text and (found := text.find(ev.text)) >= 0:
                spans.append((found, found + len(ev.text)))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` escaped, with each span wrapped in ``<mark>``; no spans marks the whole passage."""
    if not spans:
        return f'<mark class="whole">{esc(text)}</mark>' if text else ""
    out: list[str] = []
    cursor = 0
    for start, end in _merge([(max(0, s), min(len(text), e)) for s, e in spans if s < e]):
        out.append(esc(text[cursor:start]))
        out.append(f"<mark>{esc(text[start:end])}</mark>")
        cursor = end
    out.append(esc(text[cursor:]))
    return "".join(out)


def safe_link(url: str) -> str:
    """An outbound link for http(s) URLs only (no ``javascript:``); anything else is plain text."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"<span>{esc(url)}</span>"
    label = parts.netloc + (parts.path if parts.path not in ("", "/") else "")
    if len(label) > 60:
        label = label[:57] + "…"
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">{esc(label)}</a>'


def source_card(answer: Answer, citation: Citation, turn: int) -> str:
    spans = evidence_spans(answer, citation.n)
    meta = [esc(citation.source)]
    if citation.page:
        meta.append(f"page {citation.page}")
    meta.append(f"characters {citation.start:,}–{citation.end:,}")
    links = ""
    if citation.sources:
        links = '<div class="src-links">Original: ' + " ".join(safe_link(u) for u in citation.sources) + "</div>"
    backing = [c for c in answer.claims if citation.n in c.citations or any(e.n == citation.n for e in c.evidence)]
    claims = ""
    if backing:
        rows = "".join(f"<li>{badge_html(c)} {esc(c.text)}</li>" for c in backing)
        claims = f'<div class="src-claims"><div class="label">Cited for</div><ul>{rows}</ul></div>'
    legend = (
        "Highlighted: the words the checker matched to the claim."
        if spans
        else "No exact span was located; the whole passage is shown."
    )
    return (
        f'<article class="src-card" data-card="{esc(chip_key(turn, citation.n))}" hidden>'
        f'<header><span class="src-n">{citation.n}</span><h4>{esc(citation.title or citation.source)}</h4></header>'
        f'<div class="src-meta">{" · ".join(meta)}</div>{links}{claims}'
        f'<blockquote class="passage">{highlight(citation.text, spans)}</blockquote>'
        f'<div class="src-legend">{legend}</div></article>'
    )


def render_sources(turns: list[Turn]) -> str:
    """The source panel: an index of the latest answer's sources, and a hidden card for every chip.

    Cards of earlier turns stay so their chips keep working; only the last
    :data:`MAX_TURNS_WITH_SOURCES` turns keep them, to bound the page size.
    """
    answered = [(i, t.answer) for i, t in enumerate(turns, start=1) if t.answer is not None and t.shown is None]
    cards = "".join(
        source_card(answer, citation, i)
        for i, answer in answered[-MAX_TURNS_WITH_SOURCES:]
        for citation in answer.citations
    )
    latest = answered[-1] if answered else None
    if latest and latest[1].citations:
        i, answer = latest
        rows = "".join(
            f'<li><button type="button" class="src-row" data-cite="{esc(chip_key(i, c.n))}">'
            f'<span class="src-n">{c.n}</span><span class="src-row-title">{esc(c.title or c.source)}</span>'
            f'<span class="src-row-file">{esc(c.source)}{f", p. {c.page}" if c.page else ""}</span></button></li>'
            for c in answer.citations
        )
        index = (
            '<div class="src-index"><p class="muted">Sources of the latest answer. '
            f"Click one, or a number in the answer.</p><ul>{rows}</ul></div>"
        )
    else:
        index = (
            '<div class="src-index"><p class="muted">Sources appear here. Click a citation number in an answer '
            "to read the passage it points to, with the supporting words highlighted.</p></div>"
        )
    return (
        '<div class="sources"><div class="sources-head"><h3>Sources</h3>'
        '<button type="button" class="src-back" hidden>All sources</button></div>'
        f"{index}{cards}</div>"
    )


def render_status(kind: str, message: str, details: list[str] | None = None) -> str:
    """A status box (``ok``, ``warn`` or ``error``) with an escaped message and optional list."""
    items = ""
    if details:
        items = "<ul>" + "".join(f"<li>{esc(d)}</li>" for d in details) + "</ul>"
    return f'<div class="status status-{esc(kind)}" role="status">{esc(message)}{items}</div>'


def render_metrics(rows: list[tuple[str, str]], caption: str = "") -> str:
    """A two-column table of already formatted ``(label, value)`` metric rows."""
    if not rows:
        return '<p class="muted">No metrics.</p>'
    body = "".join(f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>" for label, value in rows)
    head = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<table class="metrics">{head}<tbody>{body}</tbody></table>'


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
