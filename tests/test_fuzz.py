"""Property-based fuzzing (hypothesis) of the text-handling stages.

* chunker: every chunk's offsets point at its text, and no non-whitespace
  character of the document falls outside every chunk;
* rag.text.sentences.split_units: spans are valid, ordered and never overlap;
* claim splitting and the citation checker (lexical path, no models): never
  crash on arbitrary text and markers, spans and evidence offsets are valid,
  and verdicts do not change when only the spacing inside lines changes;
* loaders: over random and mutated bytes with every supported suffix,
  load_file returns a SourceDocument or raises LoadError, nothing else.

Example counts are sized so the file runs in well under a minute; the number
of examples each property ran is printed at the end (``pytest -s``), and
``--hypothesis-show-statistics`` gives hypothesis's own breakdown.
``RAG_FUZZ_SCALE=20`` multiplies every count for a longer hunt.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.config import VerifySettings
from rag.ingest.chunking import Chunker
from rag.ingest.loaders import SUPPORTED_SUFFIXES, LoadError, SourceDocument, load_file
from rag.text.claims import split_claims
from rag.text.sentences import split_units
from rag.verification.checker import Verifier

from conftest import CORPUS

EXAMPLES = Counter[str]()
VERDICT_COUNTS = Counter[str]()  # verdicts seen by the spacing property: it must see more than "unsupported"


SCALE = float(os.environ.get("RAG_FUZZ_SCALE", "1"))  # e.g. 20 for a long hunt; CI runs the default


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,  # a loaded 2-core CI machine makes single examples slow now and then
        database=None,  # no .hypothesis/ folder in the working tree
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Iterator[None]:
    yield
    print("\nfuzz examples run: " + ", ".join(f"{name} {n}" for name, n in sorted(EXAMPLES.items())))
    print(f"fuzz examples total: {sum(EXAMPLES.values())}")
    print(f"verdicts in the spacing property: {dict(VERDICT_COUNTS)}")


# -- text strategies -----------------------------------------------------------------------------
WORDS = [
    "OpenAI", "raised", "$6.6", "billion", "in", "October", "2024", "led", "by", "Thrive", "Capital",
    "U.S.", "Inc.", "e.g.", "Dr.", "No.", "3.5%", "Series", "F", "round", "at", "a", "valuation", "of",
    "Amazon", "Nvidia", "SoftBank", "participated", "—", "–", "“quoted”", "(note)", "**bold**", "`code`",
    "https://example.org/a.b", "Zürich", "東京", "😀", "naïve", "co-lead", "x", "#", "-", "*", "1.", "·",
]  # fmt: skip
SEPARATORS = [
    " ", " ", " ", "  ", "\t", "\n", "\n\n", "\n\n\n", ". ", "! ", "? ", ": ", "\r\n", "\u00a0", "\u2028", "\x0b",
]  # fmt: skip
MARKERS = [
    "[1]", "[2]", "[3]", "[1, 2]", "[1-3]", "[2–3]", "[0]", "[99]", "[1][3]", " [2]", "[ 1 ]", "[1;2]", "[]", "[x]",
]  # fmt: skip


def _joined(tokens: list[str], seps: list[str]) -> str:
    return "".join(t + s for t, s in zip(tokens, seps, strict=False))


@st.composite
def prose(draw: st.DrawFn, max_words: int = 400, markers: bool = False) -> str:
    vocab = WORDS + MARKERS if markers else WORDS
    tokens = draw(st.lists(st.sampled_from(vocab) | st.text(min_size=1, max_size=8), max_size=max_words))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(tokens), max_size=len(tokens)))
    return _joined(tokens, seps)


ANY_TEXT = prose() | st.text(max_size=1500)


# -- chunker -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chunkers() -> dict[tuple[int, int], Chunker]:
    """The real splitter with the real tokenizer (no model is loaded for it), small sizes too."""
    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder

    tokens = Embedder(EmbeddingSettings()).count_tokens
    return {size: Chunker(*size, tokenizer=tokens) for size in [(16, 0), (24, 4), (40, 10), (200, 30)]}


@fuzz(150)
@given(text=ANY_TEXT, size=st.sampled_from([(16, 0), (24, 4), (40, 10), (200, 30)]))
def test_chunks_point_at_their_text_and_lose_nothing(
    chunkers: dict[tuple[int, int], Chunker], text: str, size: tuple[int, int]
) -> None:
    EXAMPLES["chunker"] += 1
    document = SourceDocument(path=Path("/fuzz/doc.txt"), text=text, title="t")
    chunks = chunkers[size].split(document, "doc")
    covered = [False] * len(text)
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start : chunk.end] == chunk.text
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not lost, f"characters outside every chunk at {lost[:10]}: {text[lost[0] : lost[0] + 40]!r}"
    assert len({c.id for c in chunks}) == len(chunks)


# -- sentence units ------------------------------------------------------------------------------
@fuzz(300)
@given(text=ANY_TEXT)
def test_split_units_spans_are_valid(text: str) -> None:
    EXAMPLES["split_units"] += 1
    units = split_units(text)
    previous_end = 0
    for unit in units:
        assert 0 <= unit.start < unit.end <= len(text)
        assert unit.start >= previous_end, "units overlap or go backwards"
        assert text[unit.start : unit.end].strip()
        assert unit.text.strip()
        previous_end = unit.end


# -- claims and the citation checker -----------------------------------------------------------
@pytest.fixture(scope="module")
def lexical_verifier() -> Verifier:
    return Verifier(VerifySettings(), embed=None, cross_encoder=None)


PASSAGES = st.dictionaries(st.integers(min_value=1, max_value=4), prose(max_words=80), max_size=4)


FACTS = [
    "OpenAI raised $6.6 billion in October 2024.",
    "Thrive Capital led the round.",
    "Amazon, Nvidia and SoftBank participated in the round.",
    "The valuation was $157 billion.",
    "Anthropic's Series F raised $13 billion in September 2025.",
    "Microsoft invested $10 billion in January 2023.",
    "The round did not include Apple.",
]


@st.composite
def grounded(draw: st.DrawFn) -> tuple[str, dict[int, str]]:
    """Passages made of known sentences, and an answer quoting, twisting or inventing them with markers."""
    passages = {
        n: " ".join(draw(st.lists(st.sampled_from(FACTS), min_size=1, max_size=4)))
        for n in range(1, draw(st.integers(1, 4)) + 1)
    }
    sentences = []
    for _ in range(draw(st.integers(1, 5))):
        sentence = draw(st.sampled_from(FACTS))
        twist = draw(st.sampled_from(["", "", "number", "name", "negate"]))
        if twist == "number":
            sentence = re.sub(r"\d+(?:\.\d+)?", lambda m: str(float(m.group()) + 1), sentence, count=1)
        elif twist == "name":
            sentence = sentence.replace("Amazon", "Oracle").replace("Thrive Capital", "Sequoia")
        elif twist == "negate":
            sentence = sentence.replace(" raised ", " did not raise ").replace(" led ", " never led ")
        marker = draw(st.sampled_from(["", " [1]", " [2]", " [3]", " [1, 2]", " [1-3]", " [9]"]))
        sentences.append(sentence[:-1] + marker + ".")
    return draw(st.sampled_from([" ", "\n", "\n- "])).join(sentences), passages


@fuzz(300)
@given(answer=prose(max_words=120, markers=True) | st.text(max_size=600))
def test_split_claims_never_crashes_and_spans_hold(answer: str) -> None:
    EXAMPLES["split_claims"] += 1
    for claim in split_claims(answer):
        assert 0 <= claim.start <= claim.end <= len(answer)
        assert claim.text.strip()
        assert all(isinstance(n, int) and n > 0 for n in claim.citations)


VERDICTS = {"supported", "unsupported", "uncited", "miscited", "not_factual"}


@fuzz(120)
@given(
    case=grounded() | st.tuples(prose(max_words=60, markers=True) | st.text(max_size=300), PASSAGES),
    strict=st.booleans(),
)
def test_checker_never_crashes_and_offsets_are_valid(
    lexical_verifier: Verifier, case: tuple[str, dict[int, str]], strict: bool
) -> None:
    EXAMPLES["verifier.check"] += 1
    answer, passages = case
    result = lexical_verifier.check(answer, passages, strict=strict)
    assert 0.0 <= result.grounding <= 1.0
    for claim in result.claims:
        assert claim.verdict in VERDICTS
        for evidence in claim.evidence:
            assert evidence.n in passages
            assert 0 <= evidence.start <= evidence.end <= len(passages[evidence.n])
    assert isinstance(result.answer, str)


def _respace(text: str, doubled: list[bool]) -> str:
    """Same lines, same words; only runs of spaces inside lines grow."""
    out, k = [], 0
    for piece in re.split(r"( +)", text):
        if piece.startswith(" "):
            out.append(piece + (" " if doubled[k % len(doubled)] else ""))
            k += 1
        else:
            out.append(piece)
    return "  " + "".join(out) + " \n"


@fuzz(100)
@given(
    case=grounded() | st.tuples(prose(max_words=60, markers=True), PASSAGES),
    doubled=st.lists(st.booleans(), min_size=1, max_size=8),
)
def test_verdicts_do_not_depend_on_spacing(
    lexical_verifier: Verifier, case: tuple[str, dict[int, str]], doubled: list[bool]
) -> None:
    EXAMPLES["verifier.spacing"] += 1
    answer, passages = case
    first = lexical_verifier.check(answer, passages)
    VERDICT_COUNTS.update(c.verdict for c in first.claims)
    second = lexical_verifier.check(_respace(answer, doubled), passages)
    assert [(c.text, c.verdict, c.citations) for c in first.claims] == [
        (c.text, c.verdict, c.citations) for c in second.claims
    ]
    assert first.grounding == second.grounding


# -- loaders -------------------------------------------------------------------------------------
def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "Memo"
    document.add_paragraph("Zephyr Capital invested $12 million in Acme Robotics in May 2024.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "a"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


SEEDS = {
    ".pdf": next(iter(sorted(CORPUS.glob("*.pdf")))).read_bytes(),
    ".docx": _docx_bytes(),
    ".html": b"<html><head><title>T</title><meta name='source' content='https://x.org'></head>"
    b"<body><p>Acme raised <b>$5m</b>.</p><table><tr><td>a</td></tr></table></body></html>",
    ".md": b"---\ntitle: Notes\ndate: 2024-01-02\nsources:\n  - https://example.org/a\n---\n"
    b"# Notes\n\nThe ferry leaves.\n",
    ".txt": "Café Zürich raised 5 million francs.\n\nSources:\nhttps://x.org\n".encode(),
}
SEEDS[".markdown"] = SEEDS[".md"]
SEEDS[".htm"] = SEEDS[".html"]
FRONT_MATTER_VALUES = [
    "2024-01-02", "2024-13-45", "2024-02-30 25:61:00", "1e9999", "!!binary Zm9v", "[a, b", "{a: 1}", "~", "&a x",
    "*a", "!!python/object:os.system x", "'", "- a\n  - b", "2001-12-14t21:59:43.10-05:00", "0x1F", "null",
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if operation == "flip":
            data[position] = draw(st.integers(0, 255))
        elif operation == "cut":
            del data[position : position + draw(st.integers(1, 64))]
        elif operation == "insert":
            data[position:position] = draw(st.binary(max_size=32))
        else:
            del data[position:]
    return bytes(data)


@st.composite
def front_matter(draw: st.DrawFn) -> bytes:
    keys = draw(st.lists(st.sampled_from(["title", "date", "sources", "x"]), min_size=1, max_size=4))
    lines = [f"{key}: {draw(st.sampled_from(FRONT_MATTER_VALUES) | st.text(max_size=12))}" for key in keys]
    return ("---\n" + "\n".join(lines) + "\n---\n" + draw(st.text(max_size=60))).encode("utf-8", "surrogatepass")


def file_bytes(suffix: str) -> st.SearchStrategy[bytes]:
    options = st.binary(max_size=2048) | mutated(SEEDS[suffix])
    if suffix in (".md", ".markdown"):
        options = options | front_matter()
    if suffix in (".txt", ".md", ".markdown", ".html", ".htm"):
        options = options | st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass"))
    return options


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-load-") as folder:
        yield Path(folder)


def _load_or_error(path: Path) -> SourceDocument | LoadError:
    try:
        return load_file(path)
    except LoadError as exc:
        return exc


@fuzz(400)
@given(data=st.data(), suffix=st.sampled_from(SUPPORTED_SUFFIXES))
def test_loaders_return_a_document_or_raise_load_error(scratch: Path, data: st.DataObject, suffix: str) -> None:
    EXAMPLES[f"load_file{suffix}"] += 1
    content = data.draw(file_bytes(suffix), label="content")
    path = scratch / f"fuzz{suffix}"
    path.write_bytes(content)
    document = _load_or_error(path)  # any other exception fails the test
    if isinstance(document, LoadError):
        assert str(document), "a LoadError must say why"
        return
    assert isinstance(document, SourceDocument)
    assert document.text.strip()
    assert isinstance(document.title, str)
    assert all(0 <= start <= len(document.text) for start in document.page_starts)
