"""The untrained similarity judge (the trained one's baseline): grounded claims pass, claims
their source does not speak to fail; the judge table builds each backend."""

from assistant.judges import SimilarityJudge, make_judge
from assistant.settings import JudgeSettings
from assistant.trained_judge import TrainedJudge

SOURCE = (
    "Zoology: Measuring and Improving Recall in Efficient Language Models. On this task, termed "
    "associative recall, we find that attention outperforms gated-convolutions by a large margin."
)


def test_grounded_claims_pass_and_unrelated_ones_fail_in_order() -> None:
    assert isinstance(make_judge(JudgeSettings(), chat=_no_chat), TrainedJudge)  # the default
    judge = make_judge(JudgeSettings(backend="similarity"), chat=_no_chat)
    assert isinstance(judge, SimilarityJudge)
    verdicts = judge.judge_all(
        [
            ("Attention outperforms gated convolutions on associative recall.", SOURCE),
            ("Bread needs a long fermentation for a crisp crust.", SOURCE),
            (
                "Sourdough starters contain wild yeast.",
                "Wild yeast and lactobacilli live in sourdough starters.",
            ),
        ]
    )
    assert [v.label for v in verdicts] == ["supported", "unsupported", "supported"]
    assert verdicts[0].score > 0.8 > 0.2 > verdicts[1].score
    assert judge.judge("Bread needs a long fermentation.", SOURCE).label == "unsupported"
    assert judge.judge_all([]) == []


def test_the_threshold_is_a_setting() -> None:
    claim = "Efficient language models are studied."
    lenient = SimilarityJudge(JudgeSettings(min_support=0.3)).judge(claim, SOURCE)
    strict = SimilarityJudge(JudgeSettings(min_support=0.95)).judge(claim, SOURCE)
    assert lenient.score == strict.score
    assert (lenient.label, strict.label) == ("supported", "unsupported")


def _no_chat():  # type: ignore[no-untyped-def]
    raise AssertionError("only the llm judge needs a chat model")
