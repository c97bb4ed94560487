"""The eval harness on tiny fixtures whose right answers were worked out by hand: judge
agreement, ALCE citation recall and precision, the suite, and resuming an interrupted run."""

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from fault_server import FaultServer, ok

from assistant.errors import LitreviewError
from assistant.evaluation.checkpoint import Checkpoint
from assistant.evaluation.faithfulness import evaluate_citations, read_answers
from assistant.evaluation.judging import evaluate_judge, read_judge_cases
from assistant.evaluation.metrics import accuracy, macro_f1, roc_auc
from assistant.evaluation.suite import SuiteQuestion, read_questions, run_suite
from assistant.judges import LLMJudge, Verdict
from assistant.llm.chat import ChatModel
from assistant.search import Searcher
from assistant.settings import LLMSettings, Settings
from assistant.store import Store
from assistant.verdicts import Grid, grid_from_pairs
from assistant.workspace import Writers

TINY = Path(__file__).parent / "fixtures" / "judge_tiny"
RECALL_QUESTION = "why do recurrent models fail at associative recall"


class ScriptedJudge:
    """Supported when the claim (lower case, without its full stop) occurs in the source;
    or, given `scores`, those scores in order against 0.5."""

    name = "scripted"

    def __init__(self, scores: list[float] | None = None) -> None:
        self.scores = list(scores or [])
        self.pairs: list[tuple[str, str]] = []

    def judge(self, claim: str, source: str) -> Verdict:
        return self.judge_all([(claim, source)])[0]

    def judge_grid(self, claims: Sequence[str], sources: Sequence[str]) -> Grid:
        return grid_from_pairs(self.judge_all, claims, sources)

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        self.pairs += pairs
        verdicts = []
        for claim, source in pairs:
            if self.scores:
                score = self.scores.pop(0)
            else:
                score = float(claim.lower().rstrip(".") in source.lower())
            verdicts.append(
                Verdict(label="supported" if score >= 0.5 else "unsupported", score=score)
            )
        return verdicts


def test_classification_metrics_by_hand() -> None:
    gold = [True, True, False, False]
    assert accuracy(gold, [True, False, False, False]) == 0.75
    # positive F1 2/3, negative F1 4/5
    assert macro_f1(gold, [True, False, False, False]) == pytest.approx((2 / 3 + 0.8) / 2)
    # pairs (positive, negative): 0.9>0.1, 0.9>0.4, 0.4>0.1, 0.4=0.4 (half) -> 3.5/4
    assert roc_auc([True, False, True, False], [0.9, 0.1, 0.4, 0.4]) == 0.875


def test_judge_cases_are_labelled_support_refute_or_nei() -> None:
    cases = read_judge_cases(TINY / "corpus.jsonl", TINY / "claims.jsonl")
    assert [(c.id, c.label) for c in cases] == [
        ("10:1", "SUPPORT"),
        ("11:2", "REFUTE"),
        ("12:3", "NEI"),
        ("12:1", "NEI"),
    ]
    assert cases[0].claim == "Honeybees encode the distance to food in the waggle run."
    assert cases[0].source.startswith("Honeybee waggle dance. Honeybees communicate")


def test_judge_agreement_by_hand(tmp_path: Path) -> None:
    cases = read_judge_cases(TINY / "corpus.jsonl", TINY / "claims.jsonl")
    judge = ScriptedJudge(scores=[0.9, 0.7, 0.2, 0.8])  # says supported, supported, not, supported
    report = evaluate_judge(cases, judge, Checkpoint(tmp_path / "c.jsonl", {}))
    # gold supported: yes, no, no, no -> 2 of 4 right; F1 0.5 for both classes; the only
    # supported case outscores every other: AUC 1
    assert report.as_json() == {
        "accuracy": 0.5,
        "macro_f1": 0.5,
        "auc": 1.0,
        "n": 4,
        "confusion": {
            "SUPPORT": {"supported": 1, "unsupported": 0, "contradicted": 0},
            "REFUTE": {"supported": 1, "unsupported": 0, "contradicted": 0},
            "NEI": {"supported": 1, "unsupported": 1, "contradicted": 0},
        },
    }


def test_contradicted_verdicts_get_their_own_column(tmp_path: Path) -> None:
    cases = read_judge_cases(TINY / "corpus.jsonl", TINY / "claims.jsonl")
    judge = ScriptedJudge(scores=[0.9, 0.1, 0.2, 0.3])
    said = ["supported", "contradicted", "unsupported", "contradicted"]
    judge.judge_all = lambda pairs: [  # type: ignore[method-assign]
        Verdict(label=label, score=score)  # type: ignore[arg-type]
        for label, score in zip(said, [0.9, 0.1, 0.2, 0.3], strict=True)
    ]
    report = evaluate_judge(cases, judge, Checkpoint(tmp_path / "c.jsonl", {}))
    # a contradicted verdict is a "not supported" one: every case judged right
    assert (report.accuracy, report.macro_f1) == (1.0, 1.0)
    assert report.confusion == {
        "SUPPORT": {"supported": 1, "unsupported": 0, "contradicted": 0},
        "REFUTE": {"supported": 0, "unsupported": 0, "contradicted": 1},
        "NEI": {"supported": 0, "unsupported": 1, "contradicted": 1},
    }


def test_eval_judge_command_with_the_local_judge(cli) -> None:
    result = cli(
        "eval", "judge", "--corpus", TINY / "corpus.jsonl", "--claims", TINY / "claims.jsonl",
        "--judge", "local", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    report = result.json()
    assert report["n"] == 4 and set(report) == {"accuracy", "macro_f1", "auc", "n", "confusion"}
    assert sum(sum(row.values()) for row in report["confusion"].values()) == 4
    assert (
        cli(
            "eval",
            "judge",
            "--corpus",
            TINY / "corpus.jsonl",
            "--claims",
            TINY / "claims.jsonl",
            "--judge",
            "llm",
        ).code
        == 1
    )  # no model: says how to fix


def test_alce_citation_recall_and_precision_by_hand(tmp_path: Path) -> None:
    answers = read_answers(TINY / "answers.jsonl", paper_text=lambda key: None)
    report = evaluate_citations(answers, ScriptedJudge(), Checkpoint(tmp_path / "c.jsonl", {}))
    # answer 1: "Bees dance [1]" supported, precise; "Caffeine shortens sleep [1][2]" supported,
    # [1] neither supports alone nor is needed, [2] is precise; "Glaciers grow [3]" cites no
    # source; "Unsourced claim." cites nothing. answer 2: "Dogs bark [a][b]": both precise.
    # recall 3/5 sentences; precision 4/6 citations (the one to nothing counts as imprecise).
    assert report.as_json() == {
        "citation_recall": 0.6,
        "citation_precision": 0.6667,
        "citations_to_nothing": 1,
        "answers": 2,
        "sentences": 5,
        "citations": 6,
    }


def test_eval_citations_reads_ask_json_output(cli, seed_store: Path, tmp_path: Path) -> None:
    answer = cli("ask", RECALL_QUESTION, "--store", seed_store, "--json").json()
    answer["sentences"].append({"text": "Made up.", "citations": ["nobody2099"], "verdict": "x"})
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps(answer) + "\n")
    result = cli("eval", "citations", answers, "--store", seed_store, "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["citations_to_nothing"] == 1
    assert report["sentences"] == len(answer["sentences"])
    # an extractive answer quotes its sources, so all but the made-up sentence are supported
    expected = (report["sentences"] - 1) / report["sentences"]
    assert report["citation_recall"] == pytest.approx(expected, abs=1e-4)


def _suite_questions() -> list[SuiteQuestion]:
    return [
        SuiteQuestion(
            id="recall",
            question=RECALL_QUESTION,
            gold=[
                "zoology2023measuring",
                "Just read twice: closing the recall gap for recurrent language models",
            ],
        ),
        SuiteQuestion(id="bread", question="best recipe for sourdough bread", gold=[]),
    ]


def test_suite_scores_recall_abstention_and_citations(seed_store: Path, tmp_path: Path) -> None:
    settings = Settings()
    settings.store.path = seed_store
    report = run_suite(
        _suite_questions(), Searcher(settings, Store(settings.store)), Writers(None, None), ScriptedJudge(),
        Checkpoint(tmp_path / "c.jsonl", {}),
    )  # fmt: skip
    by_id = {q.id: q for q in report.questions}
    assert by_id["recall"].recall_at_10 == 1.0 and not by_id["recall"].abstained
    assert by_id["bread"].abstained and by_id["bread"].recall_at_10 is None
    assert report.abstention_accuracy == 1.0 and report.recall_at_10 == 1.0
    # an extractive digest quotes its evidence: every printed citation supports its sentence
    assert by_id["recall"].citations > 0 and report.printed_outside_evidence == 0
    assert report.citation_recall == report.citation_precision == 1.0


def test_an_interrupted_suite_resumes_without_redoing_finished_questions(
    seed_store: Path, tmp_path: Path
) -> None:
    settings = Settings()
    settings.store.path = seed_store
    searcher = Searcher(settings, Store(settings.store))
    path = tmp_path / "progress.jsonl"

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_suite(
            _suite_questions(), searcher, Writers(None, None), ScriptedJudge(),
            Checkpoint(path, {"r": 1}), interrupt,
        )  # fmt: skip
    lines = path.read_text().splitlines()
    assert len(lines) == 2  # the run's description and the first question
    record = json.loads(lines[1])
    record["result"]["answer"] = "kept from the first run"
    path.write_text(lines[0] + "\n" + json.dumps(record) + "\n")
    report = run_suite(
        _suite_questions(), searcher, Writers(None, None), ScriptedJudge(),
        Checkpoint(path, {"r": 1}),
    )  # fmt: skip
    assert report.questions[0].answer == "kept from the first run"
    assert report.questions[1].abstained
    fresh = run_suite(
        _suite_questions(), searcher, Writers(None, None), ScriptedJudge(),
        Checkpoint(path, {"r": 2}),
    )  # fmt: skip
    assert fresh.questions[0].answer != "kept from the first run"  # another run starts over


def test_the_suite_counts_what_the_check_did_to_a_models_draft(
    seed_store: Path, tmp_path: Path
) -> None:
    recall = "Attention beats gated convolutions on associative recall."
    drafted = [
        (recall, [1]),
        (recall, [1]),
        ("Recurrent models forget what they read.", [2]),
        ("A paper nobody was given says so.", [42]),
    ]
    script = [
        ok(json.dumps({"sentences": [{"text": t, "citations": c} for t, c in drafted]})),
        ok('{"sentences": [{"sentence": 1, "supported_by": [1]}, {"sentence": 2}]}'),
    ]
    settings = Settings()
    settings.store.path = seed_store
    with FaultServer(script) as server:
        chat = ChatModel(LLMSettings(base_url=server.base_url, max_retries=0))
        report = run_suite(
            _suite_questions()[:1], Searcher(settings, Store(settings.store)), Writers(chat, LLMJudge(chat)),
            ScriptedJudge(scores=[1.0]), Checkpoint(tmp_path / "c.jsonl", {}),
        )  # fmt: skip
    result = report.questions[0]
    assert (result.drafted_sentences, result.printed_sentences, result.supported_sentences) == (
        4, 1, 1,
    )  # fmt: skip
    assert result.repeated_sentences == 1 and result.llm_calls == 2
    # measured before the check removed [42]: 3 of the 4 drafted citations were in the evidence
    assert (result.drafted_citations, result.drafted_in_evidence) == (4, 3)
    assert report.drafted_citation_validity == 0.75 and report.printed_outside_evidence == 0
    assert report.citation_recall == report.citation_precision == 1.0


def test_suite_command_writes_json_and_markdown_reports(
    cli, seed_store: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(q.model_dump_json() + "\n" for q in _suite_questions()))
    report_dir = tmp_path / "reports"
    result = cli(
        "eval", "suite", questions, "--report", report_dir, "--store", seed_store, "--json"
    )
    assert result.code == 0, result.err
    summary = result.json()
    assert set(summary) == {
        "recall@10",
        "abstention_accuracy",
        "drafted_citation_validity",
        "printed_outside_evidence",
        "citation_recall",
        "citation_precision",
        "questions",
    }
    assert json.loads((report_dir / "report.json").read_text()) == summary
    assert "| recall | yes | no | yes | 1.00 |" in (report_dir / "report.md").read_text()
    assert not (report_dir / ".suite-progress.jsonl").exists()  # finished: nothing to resume


def test_a_gold_paper_missing_from_the_store_is_an_error(seed_store: Path, tmp_path: Path) -> None:
    settings = Settings()
    settings.store.path = seed_store
    wrong = [SuiteQuestion(id="x", question=RECALL_QUESTION, gold=["A Paper Nobody Wrote"])]
    with pytest.raises(LitreviewError, match="A Paper Nobody Wrote"):
        run_suite(
            wrong, Searcher(settings, Store(settings.store)), Writers(None, None), ScriptedJudge(),
            Checkpoint(tmp_path / "c", {}),
        )  # fmt: skip


def test_the_shipped_seed_questions_parse_and_include_unanswerable_ones() -> None:
    questions = read_questions(Path(__file__).parents[1] / "evals" / "seed_questions.jsonl")
    assert len(questions) >= 20
    assert sum(1 for q in questions if not q.gold) >= 3
    assert len({q.id for q in questions}) == len(questions)
