"""Check an analyst question set before anyone scores the system on it.

    .venv/bin/python eval/validate_questions.py eval/questions_analyst_v3.jsonl \
        --against eval/questions_analyst.jsonl eval/questions_analyst_v2.jsonl eval/questions.jsonl

A held-out set is run once per code version, so a broken line cannot be fixed after the fact without spoiling it:
a quote that the loader's text does not contain makes the retrieval metrics silently wrong, a key fact that the gold
answer and its evidence never state cannot be scored fairly, and a question that repeats an earlier (tuned-on) set
measures the tuning rather than the system. This script checks, for every line:

- the schema of the analyst sets (``id``, ``question``, ``answer``, ``key_facts``, ``unanswerable``, ``evidence``,
  ``tags``, ``split``), unique ids and tags from the analyst kinds; unanswerable lines carry no answer, evidence or
  key facts, answerable ones carry all three;
- that every evidence quote occurs, whitespace-normalised, in ``load_file(corpus/source).text``, the same text the
  index is built from;
- that every number in a key fact occurs in the line's evidence quotes or gold answer, and that the gold answer
  states every key fact;
- that no question is a near duplicate (token Jaccard >= 0.6) of another question in the set or in the ``--against``
  sets.

Each problem is printed on its own line naming the file, line and id; the exit status is 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rag.ingest.loaders import load_file  # noqa: E402  (needs the repository on sys.path when run as a script)

# The analyst sets' question kinds (eval/README.md); an unanswerable question is its own kind.
ANSWERABLE_KINDS = frozenset(
    "amount valuation investors date comparison breakdown latest total list why yesno multihop".split()
)
UNANSWERABLE_KIND = "unanswerable"
REQUIRED_FIELDS = ("id", "question", "answer", "key_facts", "unanswerable", "evidence", "tags", "split")
NEAR_DUPLICATE_JACCARD = 0.6

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Line:
    """One parsed question line and where it came from, so every problem can name its file, line and id."""

    path: Path
    number: int
    row: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.path} line {self.number} ({self.row.get('id', '?')})"

    @property
    def question(self) -> str:
        text = self.row.get("question") or self.row.get("user_input") or ""
        return text if isinstance(text, str) else ""


def normalise_space(text: str) -> str:
    """Collapse whitespace runs, as the evaluation does when it locates a quote (PDF text keeps its line breaks)."""
    return " ".join(text.split())


def numbers_in(text: str) -> set[str]:
    """The numbers a text states, thousands separators removed, so "9,216" in a key fact matches "9,216-chip"."""
    return {match.replace(",", "") for match in _NUMBER.findall(text)}


def question_tokens(question: str) -> frozenset[str]:
    return frozenset(_WORD.findall(question.lower()))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def read_lines(path: Path) -> Iterator[Line | str]:
    """Yield each JSON line of a set (blank lines and ``#`` comments skipped), or a problem string for a bad line."""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            row = json.loads(stripped)
        except json.JSONDecodeError as error:
            yield f"{path} line {number}: not valid JSON ({error.msg})"
            continue
        if not isinstance(row, dict):
            yield f"{path} line {number}: not a JSON object"
            continue
        yield Line(path, number, row)


def schema_problems(line: Line) -> list[str]:
    """Field presence and types, the allowed tags, and the answerable/unanswerable contract."""
    row = line.row
    problems = [f"{line.label}: missing field {name!r}" for name in REQUIRED_FIELDS if name not in row]
    if problems:
        return problems
    if not isinstance(row["id"], str) or not row["id"].strip():
        problems.append(f"{line.label}: 'id' must be a non-empty string")
    if not line.question.strip():
        problems.append(f"{line.label}: 'question' must be a non-empty string")
    if not isinstance(row["split"], str) or not row["split"].strip():
        problems.append(f"{line.label}: 'split' must be a non-empty string")
    tags = row["tags"]
    allowed = ANSWERABLE_KINDS | {UNANSWERABLE_KIND}
    if not isinstance(tags, list) or not tags or not all(isinstance(tag, str) for tag in tags):
        problems.append(f"{line.label}: 'tags' must be a non-empty list of strings")
        tags = []
    problems.extend(f"{line.label}: tag {tag!r} is not one of the analyst kinds" for tag in tags if tag not in allowed)
    if not isinstance(row["unanswerable"], bool):
        problems.append(f"{line.label}: 'unanswerable' must be true or false")
    elif row["unanswerable"]:
        problems.extend(_unanswerable_problems(line, tags))
    else:
        problems.extend(_answerable_problems(line, tags))
    return problems


def _unanswerable_problems(line: Line, tags: list[str]) -> list[str]:
    row = line.row
    problems = []
    if row["answer"] is not None:
        problems.append(f"{line.label}: an unanswerable question must have answer null")
    if row["evidence"] != []:
        problems.append(f"{line.label}: an unanswerable question must have no evidence")
    if row["key_facts"] != []:
        problems.append(f"{line.label}: an unanswerable question must have no key facts")
    if UNANSWERABLE_KIND not in tags:
        problems.append(f"{line.label}: an unanswerable question must be tagged {UNANSWERABLE_KIND!r}")
    return problems


def _answerable_problems(line: Line, tags: list[str]) -> list[str]:
    row = line.row
    problems = []
    if not isinstance(row["answer"], str) or not row["answer"].strip():
        problems.append(f"{line.label}: an answerable question needs a non-empty gold answer")
    facts = row["key_facts"]
    if not isinstance(facts, list) or not facts or not all(isinstance(f, str) and f.strip() for f in facts):
        problems.append(f"{line.label}: 'key_facts' must be a non-empty list of non-empty strings")
    evidence = row["evidence"]
    if not isinstance(evidence, list) or not evidence:
        problems.append(f"{line.label}: an answerable question needs evidence")
    else:
        for item in evidence:
            if not isinstance(item, dict) or not isinstance(item.get("source"), str):
                problems.append(f"{line.label}: each evidence item needs a 'source' file name")
            elif not isinstance(item.get("quote"), str) or not item["quote"].strip():
                problems.append(f"{line.label}: evidence from {item['source']} needs a non-empty 'quote'")
    if UNANSWERABLE_KIND in tags:
        problems.append(f"{line.label}: an answerable question must not be tagged {UNANSWERABLE_KIND!r}")
    return problems


class CorpusTexts:
    """The loader's text of each corpus file, loaded once per file however many quotes cite it."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self._texts: dict[str, str | None] = {}

    def normalised_text(self, source: str) -> str | None:
        if source not in self._texts:
            path = self.corpus_dir / source
            self._texts[source] = normalise_space(load_file(path).text) if path.is_file() else None
        return self._texts[source]


def evidence_problems(line: Line, corpus: CorpusTexts) -> list[str]:
    """Every quote must be findable in its file's loader text, or gold spans (and retrieval metrics) go missing."""
    problems = []
    for item in line.row["evidence"]:
        source, quote = item["source"], item["quote"]
        text = corpus.normalised_text(source)
        if text is None:
            problems.append(f"{line.label}: evidence source {source!r} is not a file in {corpus.corpus_dir}")
        elif normalise_space(quote) not in text:
            problems.append(f"{line.label}: quote not found in {source}: {quote[:80]!r}")
    return problems


def key_fact_problems(line: Line) -> list[str]:
    """A key fact's numbers must be stated by the evidence or the answer, and the answer must state the fact."""
    answer = line.row["answer"]
    quotes = " ".join(item["quote"] for item in line.row["evidence"])
    stated_numbers = numbers_in(quotes) | numbers_in(answer)
    answer_text = normalise_space(answer).lower()
    problems = []
    for fact in line.row["key_facts"]:
        missing = sorted(numbers_in(fact) - stated_numbers)
        if missing:
            problems.append(f"{line.label}: key fact {fact!r} has numbers {missing} in neither evidence nor answer")
        if normalise_space(fact).lower() not in answer_text:
            problems.append(f"{line.label}: key fact {fact!r} is not stated in the gold answer")
    return problems


def near_duplicate_problems(lines: Sequence[Line], others: Sequence[Line]) -> list[str]:
    """Questions worded almost like another one in the set, or like one in an earlier (tuned-on) set."""
    problems = []
    tokens = [question_tokens(line.question) for line in lines]
    other_tokens = [question_tokens(other.question) for other in others]
    for index, line in enumerate(lines):
        candidates = [(lines[j], tokens[j]) for j in range(index)] + list(zip(others, other_tokens, strict=True))
        for other, other_set in candidates:
            score = jaccard(tokens[index], other_set)
            if score >= NEAR_DUPLICATE_JACCARD:
                problems.append(
                    f"{line.label}: near duplicate (Jaccard {score:.2f}) of {other.label}: {other.question!r}"
                )
    return problems


def validate(path: Path, against: Sequence[Path], corpus: CorpusTexts) -> tuple[list[Line], list[str]]:
    """All problems of one question set, in file order, with the lines that parsed."""
    lines: list[Line] = []
    problems: list[str] = []
    seen_ids: dict[str, int] = {}
    for item in read_lines(path):
        if isinstance(item, str):
            problems.append(item)
            continue
        lines.append(item)
        line_problems = schema_problems(item)
        problems.extend(line_problems)
        identifier = item.row.get("id")
        if isinstance(identifier, str):
            if identifier in seen_ids:
                problems.append(f"{item.label}: duplicate id, first used on line {seen_ids[identifier]}")
            seen_ids.setdefault(identifier, item.number)
        if not line_problems and not item.row["unanswerable"]:
            problems.extend(evidence_problems(item, corpus))
            problems.extend(key_fact_problems(item))
    others = [other for other_path in against for other in read_lines(other_path) if isinstance(other, Line)]
    problems.extend(near_duplicate_problems(lines, others))
    return lines, problems


def tag_counts(lines: Sequence[Line]) -> str:
    counts = Counter(tag for line in lines for tag in line.row.get("tags", []) if isinstance(tag, str))
    return ", ".join(f"{tag} {count}" for tag, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("questions", type=Path, help="the question set to check (JSON lines)")
    parser.add_argument(
        "--against", type=Path, nargs="*", default=[], help="earlier sets whose questions must not be repeated"
    )
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus", help="corpus folder (default: corpus/)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    lines, problems = validate(args.questions, args.against, CorpusTexts(args.corpus))
    for problem in problems:
        print(problem)
    print(f"{args.questions}: {len(lines)} questions ({tag_counts(lines)}); {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
