"""``rag eval``: the bundled question set, the pure metric functions, run comparison and one end-to-end run.

The metric tests use hand-computed numbers (worked out in the comments), so a
change in a formula shows up as a failing expectation rather than a silently
different baseline.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

from rag.evaluation.answer_metrics import (
    contains_reference,
    exact_match,
    key_fact_recall,
    normalize_answer,
    required_fact_recall,
    token_f1,
)
from rag.evaluation.gold import CorpusTexts, GoldSpan, find_quote
from rag.evaluation.metrics import (
    abstention_scores,
    hit_at_k,
    is_correct,
    ndcg_at_k,
    percentile,
    recall_at_k,
    reciprocal_rank,
    retrieval_metrics,
    summarise,
)
from rag.evaluation.questions import EvidenceSpan, QuestionSetError, load_questions, parse_question
from rag.evaluation.results import QuestionResult
from rag.evaluation.rundir import compare_runs
from rag.ingest.loaders import load_file
from rag.types import Chunk

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
QUESTIONS = REPO / "eval" / "questions.jsonl"
ISSUE_EXAMPLES = {
    "How much did Amazon commit in OpenAI's 2026 round?",
    "Who led Anthropic's Series F and at what valuation?",
    "What is Stargate and who funds it?",
    "Which companies participated in OpenAI's latest financing round?",
}


# --- the bundled question set -------------------------------------------------------


@pytest.fixture(scope="module")
def question_set():  # type: ignore[no-untyped-def]
    return load_questions(QUESTIONS)


def test_question_set_size_and_mix(question_set) -> None:  # type: ignore[no-untyped-def]
    tags = [t for q in question_set for t in q.tags]
    assert len(question_set) >= 85
    assert sum(q.unanswerable for q in question_set) >= 18
    for tag in ("numeric", "comparison", "disagreement", "multi-hop", "names"):
        assert tags.count(tag) >= 5, tag
    assert {q.question for q in question_set} >= ISSUE_EXAMPLES


def test_every_quote_is_verbatim_in_its_file(question_set) -> None:  # type: ignore[no-untyped-def]
    texts: dict[str, str] = {}
    for q in question_set:
        for ev in q.evidence:
            assert ev.source, f"{q.id}: evidence without a source"
            path = CORPUS / ev.source
            assert path.is_file(), f"{q.id}: {ev.source} is not in corpus/"
            if ev.source not in texts:
                texts[ev.source] = load_file(path).text
            assert ev.quote in texts[ev.source], f"{q.id}: quote not found verbatim in {ev.source}: {ev.quote[:60]!r}"


def test_fields_are_consistent(question_set) -> None:  # type: ignore[no-untyped-def]
    ids = [q.id for q in question_set]
    assert len(ids) == len(set(ids))
    for q in question_set:
        assert q.tags, q.id
        if q.unanswerable:
            assert q.answer is None, q.id
            assert not q.evidence, q.id
            assert "unanswerable" in q.tags, q.id
        else:
            assert q.answer, q.id
            assert q.evidence, q.id
        if "comparison" in q.tags or "multi-hop" in q.tags:
            assert len({ev.source for ev in q.evidence}) >= 2, f"{q.id}: needs evidence from two documents"


def test_question_lines_are_raw_json_objects_with_our_fields() -> None:
    for number, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), start=1):
        data = json.loads(line)
        assert set(data) == {"id", "question", "answer", "unanswerable", "evidence", "tags"}, number


# --- loading question sets ------------------------------------------------------------


def test_ragas_field_names_are_accepted() -> None:
    q = parse_question(
        {"user_input": "What did X raise?", "reference": "$5 billion.", "reference_contexts": ["X raised $5 billion."]},
        default_id="q7",
    )
    assert (q.id, q.question, q.answer, q.unanswerable) == ("q7", "What did X raise?", "$5 billion.", False)
    assert q.evidence == (EvidenceSpan(None, "X raised $5 billion."),)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('{"id": "a", "question": ""}', "line 2: 'question' (or 'user_input') must be a non-empty string"),
        ('{"id": "a", "question": "Q?"}', "line 2: id 'a' already used on line 1"),
        ('{"id": "b", "question": "Q?", "answer": "x", "unanswerable": true}', "line 2: an unanswerable question"),
        ('{"id": "b", "question": "Q?", "evidence": [{"source": "a/b.md", "quote": "x"}]}', "evidence[0].source"),
        ('{"id": "b", "question": "Q?", "tags": "numeric"}', "line 2: 'tags' must be a list"),
        ("[1, 2]", "line 2: each line must be a JSON object"),
    ],
)
def test_bad_lines_are_reported_with_line_number(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "First?"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(QuestionSetError, match=re.escape(message)):
        load_questions(path)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(QuestionSetError, match="no such file"):
        load_questions(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n# only a comment\n", encoding="utf-8")
    with pytest.raises(QuestionSetError, match="no questions"):
        load_questions(tmp_path / "empty.jsonl")


def test_quote_location_tolerates_pdf_line_breaks(tmp_path: Path) -> None:
    assert find_quote("a b\nc d", "b c") == (2, 5)
    assert find_quote("abc", "zzz") is None
    (tmp_path / "doc.txt").write_text("Title\n\nAmazon put in\n$50 billion.\n", encoding="utf-8")
    texts = CorpusTexts(tmp_path)
    assert texts.locate(EvidenceSpan("doc.txt", "Amazon put in $50 billion.")) == GoldSpan("doc.txt", 7, 33)
    assert texts.locate(EvidenceSpan(None, "put in")) == GoldSpan("doc.txt", 14, 20)
    assert texts.locate(EvidenceSpan("nope.txt", "put in")) is None


# --- pure retrieval metrics -------------------------------------------------------------


def test_hit_at_k_and_reciprocal_rank() -> None:
    ranked = [False, False, True, False, True]
    assert [hit_at_k(ranked, k) for k in (1, 2, 3, 10)] == [0.0, 0.0, 1.0, 1.0]
    assert reciprocal_rank(ranked) == pytest.approx(1 / 3)
    assert reciprocal_rank([False, False]) == 0.0
    assert hit_at_k([], 5) == 0.0


def test_recall_counts_evidence_items_not_chunks() -> None:
    # two evidence items; item 0 is covered twice (ranks 1 and 2), item 1 at rank 4
    covers = [[0], [0], [], [1]]
    assert recall_at_k(covers, 2, 1) == 0.5
    assert recall_at_k(covers, 2, 3) == 0.5
    assert recall_at_k(covers, 2, 4) == 1.0
    assert recall_at_k(covers, 0, 4) == 0.0


def test_ndcg_hand_computed() -> None:
    # relevant at ranks 2 and 3 of 3 relevant chunks in the index:
    # DCG = 1/log2(3) + 1/log2(4) = 0.63093 + 0.5 = 1.13093
    # IDCG = 1 + 0.63093 + 0.5 = 2.13093  -> 0.53072
    assert ndcg_at_k([False, True, True], 3, 10) == pytest.approx(1.13093 / 2.13093, abs=1e-5)
    assert ndcg_at_k([True, False], 1, 10) == 1.0
    assert ndcg_at_k([False, True], 1, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k([False], 0, 10) == 0.0
    # only the first k ranks count
    assert ndcg_at_k([False, False, True], 1, 2) == 0.0


def test_retrieval_metrics_from_chunk_offsets() -> None:
    def chunk(source: str, start: int, end: int) -> Chunk:
        return Chunk(f"{source}:{start}", "d", "", source, source, "", None, start, end)

    gold = [GoldSpan("a.md", 100, 150), GoldSpan("b.md", 0, 20)]
    ranked = [chunk("a.md", 0, 99), chunk("b.md", 10, 40), chunk("a.md", 140, 300), chunk("c.md", 100, 150)]
    m = retrieval_metrics(ranked, gold, n_relevant=3)
    assert (m["hit@1"], m["hit@3"], m["recall@1"], m["recall@3"], m["first_relevant_rank"]) == (0.0, 1.0, 0.0, 1.0, 2)
    assert m["mrr"] == 0.5
    # document level: a.md at rank 1, b.md at rank 2
    assert (m["doc_hit@1"], m["doc_recall@1"], m["doc_recall@5"]) == (1.0, 0.5, 1.0)
    # relevant at ranks 2, 3; three relevant chunks exist
    assert m["ndcg@10"] == pytest.approx(1.13093 / 2.13093, abs=1e-5)


# --- pure answer metrics ----------------------------------------------------------------


def test_normalisation_keeps_numbers_whole() -> None:
    assert normalize_answer("The round raised $1.25 billion [2].") == "round raised 1.25 billion"
    assert normalize_answer("1,250 million, an amount") == "1250 million amount"
    assert exact_match("The $13 billion.", "$13 billion") == 1.0
    assert contains_reference("ICONIQ led a $13 billion round [1].", "$13 billion") == 1.0
    assert contains_reference("ICONIQ led it.", "$13 billion") == 0.0


def test_token_f1_hand_computed() -> None:
    # pred tokens: amazon committed 50 billion (4); ref: amazon 50 billion total (4); common 3
    # P = R = 3/4 -> F1 = 0.75
    assert token_f1("Amazon committed $50 billion.", "Amazon: $50 billion total") == pytest.approx(0.75)
    assert token_f1("", "") == 1.0
    assert token_f1("x", "") == 0.0
    assert token_f1("apples", "oranges") == 0.0


def test_key_fact_recall_normalises_money_and_skips_question_facts() -> None:
    # facts: $50 billion, $15 billion, Nvidia; the answer states the first two in other spellings
    recall, missing = key_fact_recall(
        "Amazon put in $50B, starting with 15 billion dollars.", "$50 billion, $15 billion, Nvidia"
    )
    assert recall == pytest.approx(2 / 3)
    assert missing == ["Nvidia"]
    # "Amazon" is in the question, so only $50 billion counts
    assert key_fact_recall("It was $50bn.", "Amazon gave $50 billion.", "How much did Amazon give?") == (1.0, [])
    assert key_fact_recall("anything", "no facts here") == (None, [])


def test_abstention_scores_hand_computed() -> None:
    abstained = [True, True, False, False, True]
    unanswerable = [True, False, True, False, False]
    # TP=1 FP=2 FN=1; precision 1/3, recall 1/2, wrong rate 2 of 3 answerable
    scores = abstention_scores(abstained, unanswerable)
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(0.5)
    assert scores["f1"] == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))
    assert scores["wrong_rate"] == pytest.approx(2 / 3)
    assert scores["rate"] == pytest.approx(3 / 5)
    assert abstention_scores([False], [False])["precision"] == 1.0


def test_percentile_interpolates_like_numpy() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    # position = 3 * q / 100: p50 -> 1.5 -> 25; p95 -> 2.85 -> 38.5; p10 -> 0.3 -> 13
    assert percentile(values, 50) == pytest.approx(25.0)
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile(values, 10) == pytest.approx(13.0)
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))


def test_correctness_rule() -> None:
    assert is_correct(True, True, None, None)
    assert not is_correct(True, False, None, None)
    assert not is_correct(False, True, 1.0, 1.0)
    assert is_correct(False, False, 0.5, 0.0)
    assert not is_correct(False, False, 0.4, 1.0)
    assert is_correct(False, False, None, 0.6)  # a reference without facts falls back to its words


def _result(qid: str, correct: bool, unanswerable: bool = False, **metrics: object) -> QuestionResult:
    answer = {"abstained": unanswerable and correct, "grounding": 1.0, "timings_ms": {"total": 100.0}, "claims": []}
    return QuestionResult(
        id=qid,
        question=f"{qid}?",
        tags=["t"],
        unanswerable=unanswerable,
        reference=None if unanswerable else "ref",
        evidence=[],
        answer=answer,
        retrieved=[],
        gold=[] if unanswerable else [{"source": "a.md", "start": 0, "end": 1}],
        metrics=dict(metrics),
        correct=correct,
    )


def test_summarise_averages_over_the_right_questions() -> None:
    results = [
        _result("a", True, **{"hit@5": 1.0, "key_fact_recall": 1.0}),
        _result("b", False, **{"hit@5": 0.0, "key_fact_recall": 0.0}),
        _result("c", True, unanswerable=True),
    ]
    m = summarise(results)
    assert m["n.questions"] == 3
    assert m["n.unanswerable"] == 1
    assert m["retrieval.hit@5"] == 0.5
    assert m["answer.key_fact_recall"] == 0.5
    assert m["overall.correct"] == pytest.approx(0.666667)
    assert m["abstention.precision"] == 1.0
    assert m["abstention.recall"] == 1.0
    assert m["by_tag.t.n"] == 3
    assert m["retrieval.hit@10"] is None  # no data -> null, never NaN


def test_compare_reports_deltas_and_flips(tmp_path: Path) -> None:
    for name, correct, score in (("a", [True, False], 0.5), ("b", [False, False], 0.75)):
        run = tmp_path / name
        run.mkdir()
        (run / "metrics.json").write_text(json.dumps({"overall.correct": score, "n.questions": 2}), "utf-8")
        rows = [
            {"id": f"q{i}", "question": f"Q{i}?", "correct": c, "answer": {"answer": "x"}}
            for i, c in enumerate(correct)
        ]
        (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    comparison = compare_runs(tmp_path / "a", tmp_path / "b")
    assert comparison["metrics"]["overall.correct"]["delta"] == 0.25
    assert [(f["id"], f["a_correct"], f["b_correct"]) for f in comparison["flips"]] == [("q0", True, False)]


def test_compare_missing_run_is_a_readable_error(tmp_path: Path) -> None:
    from rag.cli import main

    assert main(["eval", "--compare", str(tmp_path / "nope"), str(tmp_path)]) == 2


def test_cli_reports_missing_question_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main

    assert main(["eval", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "run")]) == 2
    assert "missing.jsonl: no such file" in capsys.readouterr().err


# --- end to end -------------------------------------------------------------------------

SUBSET = ("openai-2026-amazon", "anthropic-series-f-lead", "stargate-what", "xai-x-valuations", "un-apple-openai")
REQUIRED_KEYS = (
    "n.questions",
    "overall.correct",
    "retrieval.hit@1",
    "retrieval.hit@3",
    "retrieval.hit@5",
    "retrieval.hit@10",
    "retrieval.recall@5",
    "retrieval.mrr",
    "retrieval.ndcg@10",
    "answer.exact_match",
    "answer.token_f1",
    "answer.key_fact_recall",
    "answer.semantic_similarity",
    "abstention.precision",
    "abstention.recall",
    "abstention.wrong_rate",
    "citation.recall",
    "citation.precision",
    "citation.fully_cited",
    "citation.grounding.mean",
    "citation.grounding.p10",
    "citation.grounding.p50",
    "latency.retrieve.p50_ms",
    "latency.generate.p95_ms",
    "latency.verify.p50_ms",
    "latency.total.p50_ms",
    "latency.total.p95_ms",
    "cost.questions_per_second",
)


@pytest.mark.slow
def test_eval_end_to_end_and_self_comparison(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``rag eval`` on five questions over a four-file corpus, then ``--compare`` of the run with itself."""
    from rag.cli import main

    lines = [line for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if json.loads(line)["id"] in SUBSET]
    assert len(lines) == len(SUBSET)
    questions = tmp_path / "subset.jsonl"
    questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for line in lines:
        for ev in json.loads(line)["evidence"]:
            shutil.copy(CORPUS / ev["source"], corpus / ev["source"])
    shutil.copy(CORPUS / "openai-2024-thrive-6-6b-round.md", corpus)  # a distractor
    settings = ["--set", f"store.data_dir={tmp_path / 'data'}", "--set", f"ingest.corpus_dir={corpus}"]
    run = tmp_path / "run"

    assert main([*settings, "eval", str(questions), "--out", str(run), "--generator", "extractive"]) == 0
    captured = capsys.readouterr()
    assert "is empty: ingesting" in captured.err
    assert "retrieval hit@5" in captured.out

    results = [json.loads(line) for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in results] == [json.loads(line)["id"] for line in lines]
    assert all(not r["error"] and r["answer"]["timings_ms"]["total"] > 0 for r in results)
    assert all(r["retrieved"] and "key_fact_recall" in r["metrics"] for r in results if not r["unanswerable"])
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert set(REQUIRED_KEYS) <= set(metrics)
    assert metrics["n.questions"] == 5
    assert metrics["n.unanswerable"] == 1
    assert metrics["retrieval.hit@10"] > 0
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert info["generator"] == "extractive"
    assert info["settings"]["generator"]["name"] == "extractive"
    assert len(info["corpus"]["sha256"]) == 64
    assert info["corpus"]["files"] == 5
    assert len(info["questions"]["sha256"]) == 64
    assert "chromadb" in info["packages"]
    ragas = [json.loads(line) for line in (run / "ragas.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {"user_input", "response", "retrieved_contexts", "reference"} <= set(ragas[0])
    assert "# Evaluation run" in (run / "report.md").read_text(encoding="utf-8")
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "<script" not in page
    assert 'src="http' not in page
    assert "<link" not in page
    assert "OpenAI&#x27;s" in page or "OpenAI&#39;s" in page  # text is escaped

    compared = tmp_path / "cmp"
    assert main(["eval", "--compare", str(run), str(run), "--out", str(compared), "--json"]) == 0
    comparison = json.loads(capsys.readouterr().out)
    deltas = [d["delta"] for d in comparison["metrics"].values() if d["delta"] is not None]
    assert deltas
    assert all(d == 0 for d in deltas)
    assert comparison["flips"] == []
    assert (compared / "compare.md").is_file()
    assert (compared / "compare.json").is_file()


def test_listed_key_facts_must_all_be_stated_in_any_spelling() -> None:
    """Analyst sets list their key facts; "$13bn" states "$13 billion", a phrase needs all its words."""
    answer = "ICONIQ led it [1]. The round was $13bn at $183 billion [2]. It used a special purpose vehicle [3]."
    recall, missing = required_fact_recall(answer, ["$13 billion", "ICONIQ", "special purpose vehicle"])
    assert (recall, missing) == (1.0, [])
    recall, missing = required_fact_recall(answer, ["$13 billion", "Fidelity"])
    assert (recall, missing) == (0.5, ["Fidelity"])
    assert is_correct(False, False, 1.0, 1.0, required_recall=0.5) is False
    assert is_correct(False, False, 0.0, 0.0, required_recall=1.0) is True


def test_questions_carry_their_split_and_key_facts() -> None:
    question = parse_question(
        {"id": "q", "question": "How much?", "answer": "$1 billion.", "key_facts": ["$1 billion"], "split": "heldout"}
    )
    assert question.key_facts == ("$1 billion",)
    assert question.split == "heldout"
    with pytest.raises(ValueError, match="key_facts"):
        parse_question({"question": "How much?", "key_facts": "$1 billion"})
