"""The trained offline judge, with its real weights and the real bundled MiniLM."""

from pathlib import Path

import pytest

from assistant.evaluation.judging import read_judge_cases
from assistant.trained_judge import TrainedJudge, clean_claim
from tests.conftest import SCIFACT_400, SCIFACT_400_CLAIMS

SOURCE = (
    "Zoology: Measuring and Improving Recall in Efficient Language Models. On this task, termed "
    "associative recall, we find that attention outperforms gated-convolutions by a large margin."
)
GROUNDED = "Attention outperforms gated convolutions on associative recall."
UNRELATED = "Bread needs a long fermentation for a crisp crust."
# A source stating a result, a claim saying what it says, and three saying the opposite.
RESULT = (
    "Air pollution and anxiety. In a cohort of 71,271 women, higher exposure to fine particulate "
    "matter was significantly associated with high symptoms of anxiety."
)
FAITHFUL = "Exposure to fine particulate matter is associated with anxiety symptoms."
OPPOSITES = [
    "Exposure to fine particulate matter is not associated with anxiety symptoms.",
    "Exposure to fine particulate matter is unrelated to anxiety symptoms.",
    "Exposure to fine particulate matter lowers anxiety symptoms.",
]


@pytest.fixture(scope="module")
def judge(model_cache: Path) -> TrainedJudge:
    return TrainedJudge(model_cache=model_cache)


def test_a_grounded_claim_scores_above_an_unrelated_one(judge: TrainedJudge) -> None:
    grounded, unrelated = judge.judge_all([(GROUNDED, SOURCE), (UNRELATED, SOURCE)])
    assert grounded.score > unrelated.score
    assert (grounded.label, unrelated.label) == ("supported", "unsupported")


def test_batches_keep_their_order_and_scores_are_probabilities(judge: TrainedJudge) -> None:
    pairs = [
        (UNRELATED, SOURCE),
        ("Sourdough starters contain wild yeast.", "Wild yeast and lactobacilli live in starters."),
        (GROUNDED, SOURCE),
        ("A claim.", ""),
    ]
    batch = judge.judge_all(pairs)
    one_by_one = [judge.judge(claim, source) for claim, source in pairs]
    assert [v.score for v in batch] == pytest.approx([v.score for v in one_by_one], abs=1e-5)
    assert all(0.0 <= v.score <= 1.0 for v in batch)
    assert judge.judge_all([]) == []


def test_the_threshold_can_be_set() -> None:
    lenient, strict = TrainedJudge(threshold=0.0), TrainedJudge(threshold=1.01)
    assert lenient.judge(UNRELATED, SOURCE).label == "supported"
    assert strict.judge(GROUNDED, SOURCE).label == "unsupported"


def test_citation_markers_are_dropped_but_ordinary_brackets_kept() -> None:
    assert clean_claim("RNAs regulate p53 [<|multi_cit|>,7].") == "RNAs regulate p53."
    assert clean_claim("It is linked (<|cit|>) to growth.") == "It is linked to growth."
    assert clean_claim("Doses (2, 3) differ.") == "Doses (2, 3) differ."


def test_a_claim_saying_the_opposite_of_its_source_scores_below_the_faithful_one(
    judge: TrainedJudge,
) -> None:
    faithful, *opposites = judge.judge_all([(claim, RESULT) for claim in [FAITHFUL, *OPPOSITES]])
    assert faithful.label == "supported"
    assert all(faithful.score > opposite.score for opposite in opposites)


def test_contradicted_is_said_of_refuted_pairs_only(judge: TrainedJudge) -> None:
    cases = read_judge_cases(SCIFACT_400, SCIFACT_400_CLAIMS)
    verdicts = judge.judge_all([(case.claim, case.source) for case in cases])
    said = [
        case.label for case, v in zip(cases, verdicts, strict=True) if v.label == "contradicted"
    ]
    # the head is tuned for precision: it rarely speaks, and then of a REFUTE pair
    assert said and set(said) == {"REFUTE"}
