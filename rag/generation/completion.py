"""Reading a model's reply: free text in, the :class:`Draft` contract out.

A draft is sentences that end in ``[n]`` markers, markers limited to the
passages actually shown, or the ``NOT_IN_DOCUMENTS`` abstention when the reply
(or a close paraphrase of the sentinel) says the passages lack the answer.
Markers are read with the reply grammar of :mod:`rag.text.markers`, sentences
cut with :func:`rag.text.sentences.reply_sentences`, refusals recognised by
:func:`rag.text.abstention.is_refusal`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.generation.base import NOT_IN_DOCUMENTS, Draft
from rag.text.abstention import is_refusal
from rag.text.lexicon import ATTRIBUTION_STOPWORDS
from rag.text.markers import (
    CANONICAL_MARKER,
    CANONICAL_NUMBER_RE,
    LEADING_MARKERS_RE,
    normalise_reply_markers,
    strip_canonical_markers,
)
from rag.text.sentences import reply_sentences

_THINK = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)
_SENTINEL_LIKE = re.compile(r"\bNOT[\s_-]*IN[\s_-]*(?:THE[\s_-]*)?(?:DOCUMENTS?|PASSAGES?)\b", re.IGNORECASE)
_LABEL = re.compile(r"^\s*(?:final\s+answer|answer|assistant|response)\s*[:：]\s*", re.IGNORECASE)
_CHATTER = re.compile(
    r"^(?:sure|certainly|of course|okay|ok)\b[^.!?\n]{0,40}[.!?:]?\s*$"
    r"|^(?:here(?:'s| is)\s+(?:the|my|an?)\s+answer)\b.*$"
    r"|^(?:i\s+hope\s+this\s+helps|let\s+me\s+know\b|feel\s+free\b).*$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^(?:[-*•·>]+|\d{1,2}[.)])\s+")
_LEADING_NUMBER = re.compile(r"^\[\s*(\d+)\s*\]")
_TRAILING_MARKS = re.compile(rf"(?:\s|[.!?]|{CANONICAL_MARKER})*$")
_WORD = re.compile(r"[a-z0-9$%]+(?:[.,]\d+)*")
_ATTRIBUTION_SHARE = 0.6


def parse_completion(text: str, n_passages: int, passages: Sequence[str] = ()) -> Draft:
    """Normalise a model's reply into a :class:`Draft`.

    - an answer that is only ``NOT_IN_DOCUMENTS`` or a paraphrase ("The
      passages do not contain the answer") becomes the abstaining draft;
      such sentences are dropped when the reply also answers something;
    - citation groups are rewritten to ``[1][2]`` form, numbers outside
      ``1..n_passages`` dropped (the model cannot cite what it was not shown);
    - markers written after the full stop move before it (``text [1].``) so
      sentence splitting later keeps each marker with its own sentence;
    - labels ("Answer:"), courtesy lines and ``<think>`` blocks are removed;
    - when ``passages`` (the texts shown, in order) are given, a sentence the
      model left uncited gets the one passage that holds most of its content
      words (:func:`attribute`). Small local models often copy a passage's
      sentence faithfully and forget the marker; without this their correct
      answers would all be dropped as uncited. The verifier still checks every
      marker, attributed or not, so this never makes a claim look supported.
    """
    cleaned = _THINK.sub(" ", text or "").replace("\r", "")
    sentences: list[str] = []
    saw_sentinel = False
    for line in _join_list_items(cleaned.split("\n"), n_passages):
        for sentence in reply_sentences(line):
            sentence = _LABEL.sub("", sentence).strip()
            if not sentence:
                continue
            if _SENTINEL_LIKE.search(sentence):
                saw_sentinel = True
                continue
            if is_refusal(strip_canonical_markers(sentence)):
                saw_sentinel = True
                continue
            if "[" not in sentence and _CHATTER.match(sentence):
                continue
            if not strip_canonical_markers(sentence).strip(" .!?:;,"):
                continue
            sentences.append(_markers_before_punct(sentence))
    if not sentences:
        return Draft(text=NOT_IN_DOCUMENTS, abstained=True)
    if saw_sentinel and not any("[" in s for s in sentences):
        # The model said "not in the documents" and nothing it added is cited: abstain.
        return Draft(text=NOT_IN_DOCUMENTS, abstained=True)
    if passages:
        shown = [_content_words(p) for p in passages[:n_passages]]
        sentences = [_add_marker(s, attribute(s, shown)) if "[" not in s else s for s in sentences]
    return Draft(text=" ".join(sentences), abstained=False)


def attribute(sentence: str, passage_words: Sequence[set[str]]) -> int | None:
    """1-based index of the passage holding most of ``sentence``'s content words, if it holds enough.

    "Enough" is at least 60% of the sentence's content words and at least two
    of them: a copied or lightly paraphrased sentence passes, a sentence from
    the model's own memory ("Paris is the capital of France") does not.
    Words are compared on 5-letter prefixes so "investors" meets "investments".
    """
    words = _content_words(strip_canonical_markers(sentence))
    if len(words) < 2:
        return None
    best, best_share = None, 0.0
    for n, candidate in enumerate(passage_words, start=1):
        shared = len(words & candidate)
        share = shared / len(words)
        if shared >= 2 and share > best_share:
            best, best_share = n, share
    return best if best_share >= _ATTRIBUTION_SHARE else None


def citation_numbers(text: str) -> list[int]:
    """The ``[n]`` numbers in ``text`` in order of first appearance (after normalisation)."""
    seen: list[int] = []
    for match in CANONICAL_NUMBER_RE.finditer(text):
        n = int(match.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def _join_list_items(raw_lines: list[str], n_passages: int) -> list[str]:
    """Clean each line, and turn a run of short list items into one sentence.

    Small models answer "who took part?" with a list ("[1] Amazon / [2] Nvidia
    / [3] SoftBank", or bullets). Item by item, one word each, nothing can be
    checked or attributed; joined ("Amazon, Nvidia, SoftBank [1].") the list is
    one claim. When the items' leading markers simply count 1, 2, 3 ... they
    are list numbering, not citations, and are dropped (attribution may then
    find the real source).
    """
    lines: list[tuple[str, bool, int | None]] = []  # (normalised text, looked like a list item, leading number)
    for raw in raw_lines:
        stripped = _LABEL.sub("", raw.strip())
        bullet = _BULLET.match(stripped)
        body = stripped[bullet.end() :] if bullet else stripped
        leading = _LEADING_NUMBER.match(body)
        text = normalise_reply_markers(body, n_passages).strip()
        if text:
            lines.append((text, bool(bullet or leading), int(leading.group(1)) if leading else None))
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _is_list_item(*lines[j][:2]):
            j += 1
        if j - i < 2:
            out.append(lines[i][0])
            i += 1
            continue
        run = lines[i:j]
        counting = [number for _, _, number in run] == list(range(1, len(run) + 1))
        numbers = [] if counting else [n for text, _, _ in run for n in CANONICAL_NUMBER_RE.findall(text)]
        items = ", ".join(strip_canonical_markers(text).rstrip(" .,;") for text, _, _ in run)
        lead_in = out.pop().rstrip() + " " if out and out[-1].rstrip().endswith(":") else ""
        markers = "".join(f"[{n}]" for n in dict.fromkeys(numbers))
        out.append(f"{lead_in}{items}{' ' + markers if markers else ''}.")
        i = j
    return out


def _is_list_item(text: str, marked: bool) -> bool:
    words = strip_canonical_markers(text).rstrip(" .,;")
    if not words or re.search(r"[.!?:]\s", words) or words.endswith(":"):
        return False
    return len(words.split()) <= (8 if marked else 4) and (marked or not text.rstrip().endswith((".", "!", "?")))


def _markers_before_punct(sentence: str) -> str:
    """Put a sentence's leading and trailing markers at its end, before the full stop.

    ``Amazon joined. [1]``, ``[1] Amazon joined`` and ``Amazon joined [1]`` all
    become ``Amazon joined [1].``; markers inside the sentence stay where they
    are. Every sentence ends in punctuation, so later splitting sees its end.
    """
    sentence = re.sub(r"\s+", " ", sentence).strip()
    numbers: list[str] = []
    lead = LEADING_MARKERS_RE.match(sentence)
    if lead and sentence[lead.end() :].strip():
        numbers += re.findall(r"\d+", lead.group(0))
        sentence = sentence[lead.end() :]
    tail = _TRAILING_MARKS.search(sentence)
    body, ending = sentence[: tail.start()] if tail else sentence, tail.group(0) if tail else ""
    numbers += re.findall(r"\d+", ending)
    punct = "".join(ch for ch in ending if ch in ".!?") or "."
    body = re.sub(r"\s+([,;:])", r"\1", body).rstrip(" ,;:")
    markers = "".join(f"[{n}]" for n in dict.fromkeys(numbers))
    return f"{body} {markers}{punct}" if markers else f"{body}{punct}"


def _add_marker(sentence: str, n: int | None) -> str:
    if n is None:
        return sentence
    return re.sub(r"\s*([.!?]*)$", lambda m: f" [{n}]{m.group(1)}", sentence, count=1)


def _content_words(text: str) -> set[str]:
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in ATTRIBUTION_STOPWORDS or (len(word) < 3 and not word.isdigit()):
            continue
        words.add(word[:5] if word.isalpha() else word)
    return words
