"""The source panel: an index of the latest answer's sources and one hidden card per citation chip.

A card shows the cited passage formatted (:mod:`ui.passage`) with the words
the checker matched highlighted, the claims it was cited for, and the
original links (http(s) only). Cards stay on the page so a chip click needs
no round trip to the server; ui/static/show_source.js shows the right one,
beside the answer on a wide screen and inside the conversation on a phone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from rag.types import Answer, Citation
from ui.passage import marked, merge_spans, passage_html
from ui.render import MAX_TURNS_WITH_SOURCES, Turn, badge_html, chip_key, esc, shown_claims


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
    return merge_spans(spans, len(text))


def highlight(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` escaped, with each span wrapped in ``<mark>``, as a single run (no block formatting)."""
    return marked(text, 0, len(text), merge_spans(spans, len(text)))


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
    """One citation's card: title, file and page, links, the claims it backs, the formatted passage."""
    spans = evidence_spans(answer, citation.n)
    meta = [esc(citation.source)]
    if citation.page:
        meta.append(f"page {citation.page}")
    meta.append(f"characters {citation.start:,}–{citation.end:,}")
    links = ""
    if citation.sources:
        links = '<div class="src-links">Original: ' + " ".join(safe_link(u) for u in citation.sources) + "</div>"
    backing = [
        c for c in shown_claims(answer) if citation.n in c.citations or any(e.n == citation.n for e in c.evidence)
    ]
    claims = ""
    if backing:
        rows = "".join(f"<li>{badge_html(c)} {esc(c.text)}</li>" for c in backing)
        claims = f'<div class="src-claims"><div class="label">Cited for</div><ul>{rows}</ul></div>'
    legend = (
        "Highlighted: the words the checker matched to the claim."
        if spans
        else "No exact span was located; the whole passage is shown."
    )
    whole = "" if spans else " whole"
    return (
        f'<article class="src-card" data-card="{esc(chip_key(turn, citation.n))}" hidden>'
        f'<header><span class="src-n">{citation.n}</span><h4>{esc(citation.title or citation.source)}</h4></header>'
        f'<div class="src-meta">{" · ".join(meta)}</div>{links}{claims}'
        f'<blockquote class="passage{whole}">{passage_html(citation.text, spans)}</blockquote>'
        f'<div class="src-legend">{legend}</div></article>'
    )


def render_sources(turns: list[Turn]) -> str:
    """The source panel: an index of the latest answer's sources, and a hidden card for every chip.

    Cards of earlier turns stay so their chips keep working; only the last
    :data:`MAX_TURNS_WITH_SOURCES` turns keep them, to bound the page size.
    """
    answered = [(i, t.answer) for i, t in enumerate(turns, start=1) if t.answer is not None]
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
