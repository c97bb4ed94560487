"""The cascade judge: the offline judge settles the pairs it is sure of, and only the pairs in
the band between `judge.cascade_low` and `judge.cascade_high` reach the model, in one batched
call, against a scripted endpoint on loopback and the bundled model."""

import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from fault_server import FaultServer, ok

from assistant.cascade_judge import CascadeJudge
from assistant.errors import ConfigError
from assistant.judges import LLMJudge, make_judge
from assistant.llm.chat import ChatModel
from assistant.settings import JudgeSettings, LLMSettings, read_settings
from assistant.verdicts import Grid, Label, Verdict, grid_from_pairs

TINY = Path(__file__).parent / "fixtures" / "judge_tiny"
SOURCE = "Honeybees communicate the distance to food by the length of the waggle run."


class FixedJudge:
    """An offline judge whose verdicts are given: claim -> (label, score)."""

    name = "fixed"

    def __init__(self, verdicts: dict[str, tuple[Label, float]]) -> None:
        self.verdicts = verdicts

    def judge(self, claim: str, source: str) -> Verdict:
        return self.judge_all([(claim, source)])[0]

    def judge_grid(self, claims: Sequence[str], sources: Sequence[str]) -> Grid:
        return grid_from_pairs(self.judge_all, claims, sources)

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        return [Verdict(label=self.verdicts[c][0], score=self.verdicts[c][1]) for c, _ in pairs]


OFFLINE: dict[str, tuple[Label, float]] = {
    "Bees dance.": ("supported", 0.95),  # clear support
    "Bees sing.": ("unsupported", 0.05),  # clearly not
    "Bees never dance.": ("contradicted", 0.1),  # clearly contradicted: stays so
    "Bees dance at night.": ("unsupported", 0.45),  # uncertain: the model decides
    "Bees dance for food.": ("supported", 0.6),  # uncertain: the model decides
}


def _chat(server: FaultServer) -> ChatModel:
    return ChatModel(LLMSettings(base_url=server.base_url, timeout=2.0, max_retries=0))


def test_only_pairs_in_the_band_reach_the_model_and_the_clear_ones_keep_their_verdict() -> None:
    pairs = [(claim, SOURCE) for claim in OFFLINE]
    # the model sees the two band pairs as its pairs 1 and 2
    with FaultServer([ok("PAIR 1: contradicted\nPAIR 2: unsupported")]) as server:
        cascade = CascadeJudge(FixedJudge(OFFLINE), LLMJudge(_chat(server)), low=0.2, high=0.8)
        verdicts = cascade.judge_all(pairs)
        requests = server.chat_requests
    assert len(requests) == 1  # the band goes in one batched call
    asked = re.findall(r"CLAIM: (.*)", requests[0]["messages"][-1]["content"])
    assert asked == ["Bees dance at night.", "Bees dance for food."]
    assert [v.label for v in verdicts] == [
        "supported",
        "unsupported",
        "contradicted",
        "contradicted",  # the model's word
        "unsupported",  # the model's word, over the offline judge's 0.6
    ]
    assert [v.score for v in verdicts[:3]] == [0.95, 0.05, 0.1]
    assert (cascade.pairs, cascade.asked) == (5, 2)
    assert "2 of 5 pairs" in cascade.summary()


def test_a_batch_with_nothing_uncertain_makes_no_call() -> None:
    clear = {claim: OFFLINE[claim] for claim in ("Bees dance.", "Bees sing.")}
    with FaultServer([ok("PAIR 1: supported")]) as server:
        cascade = CascadeJudge(FixedJudge(clear), LLMJudge(_chat(server)), low=0.2, high=0.8)
        verdicts = cascade.judge_all([(claim, SOURCE) for claim in clear])
        assert server.chat_requests == []
    assert [v.label for v in verdicts] == ["supported", "unsupported"]


def test_the_band_edges_decide_outside_the_band() -> None:
    """At or above `high` a pair is supported, at or below `low` it is not, whatever label the
    offline judge gave it at its own threshold."""
    offline: dict[str, tuple[Label, float]] = {
        "Bees dance.": ("unsupported", 0.7),
        "Bees sing.": ("supported", 0.3),
    }
    with FaultServer([ok("PAIR 1: supported")]) as server:
        cascade = CascadeJudge(FixedJudge(offline), LLMJudge(_chat(server)), low=0.3, high=0.7)
        verdicts = cascade.judge_all([(claim, SOURCE) for claim in offline])
        assert server.chat_requests == []
    assert [v.label for v in verdicts] == ["supported", "unsupported"]


def test_a_grid_sends_only_its_uncertain_rows_and_sources_in_one_call() -> None:
    claims = ["Bees dance.", "Bees dance at night.", "Bees sing."]
    sources = ["Source A.", "Source B."]
    offline: dict[str, tuple[Label, float]] = {c: OFFLINE[c] for c in claims}
    # the band holds (row 2, every source): one row against both sources, each listed once
    reply = '{"sentences": [{"sentence": 1, "supported_by": [2], "contradicted_by": [1]}]}'
    with FaultServer([ok(reply)]) as server:
        cascade = CascadeJudge(FixedJudge(offline), LLMJudge(_chat(server)), low=0.2, high=0.8)
        grid = cascade.judge_grid(claims, sources)
        requests = server.chat_requests
    assert len(requests) == 1
    prompt = requests[0]["messages"][-1]["content"]
    assert "(1) Bees dance at night." in prompt and "Bees sing." not in prompt
    assert "Bees dance." not in prompt.replace("Bees dance at night.", "")
    assert [[v.label for v in row] for row in grid] == [
        ["supported", "supported"],
        ["contradicted", "supported"],
        ["unsupported", "unsupported"],
    ]
    assert (cascade.pairs, cascade.asked) == (6, 2)


def test_the_band_is_validated() -> None:
    assert JudgeSettings(cascade_low=0.4, cascade_high=0.4)  # an empty band is allowed
    with pytest.raises(ValueError, match="cascade_low"):
        JudgeSettings(cascade_low=0.8, cascade_high=0.2)
    with pytest.raises(ValueError):
        JudgeSettings(cascade_high=1.5)


def test_a_reversed_band_from_the_environment_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_LOW", "0.9")
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_HIGH", "0.1")
    with pytest.raises(ConfigError, match="cascade_low"):
        read_settings()


def test_the_table_builds_a_cascade_over_the_local_judge_and_the_model() -> None:
    from assistant.trained_judge import TrainedJudge

    with FaultServer([ok("PAIR 1: supported")]) as server:
        settings = JudgeSettings(backend="cascade", cascade_low=0.1, cascade_high=0.9)
        judge = make_judge(settings, chat=lambda: _chat(server))
    assert isinstance(judge, CascadeJudge) and judge.name == "cascade"
    assert isinstance(judge.offline, TrainedJudge) and isinstance(judge.llm, LLMJudge)
    assert (judge.low, judge.high) == (0.1, 0.9)


def _eval_judge(cli, *extra: str):  # type: ignore[no-untyped-def]
    return cli(
        "eval", "judge", "--corpus", TINY / "corpus.jsonl", "--claims", TINY / "claims.jsonl",
        "--judge", "cascade", *extra,
    )  # fmt: skip


def test_eval_judge_with_the_cascade_needs_a_model(cli) -> None:
    result = _eval_judge(cli)
    assert result.code == 1
    assert "cascade judge needs a model" in result.err and "--llm local" in result.err
    assert "Traceback" not in result.err


def test_eval_judge_with_the_cascade_reports_the_pairs_sent_to_the_model(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a band of all of [0, 1]: every pair is uncertain; an empty band: none is
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_LOW", "0")
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_HIGH", "1")
    reply = "PAIR 1: supported\nPAIR 2: contradicted\nPAIR 3: unsupported\nPAIR 4: unsupported"
    with FaultServer([ok(reply)]) as server:
        result = _eval_judge(cli, "--llm", server.base_url, "--json")
        asked = len(server.chat_requests)
    assert result.code == 0, result.err
    assert "cascade judge: 4 of 4 pairs" in result.err and asked == 1
    assert result.json()["cascade"] == {"pairs": 4, "sent_to_model": 4}
    assert result.json()["confusion"]["REFUTE"]["contradicted"] == 1  # the model's verdict
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_LOW", "0.5")
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_HIGH", "0.5")
    with FaultServer([ok(reply)]) as server:
        result = _eval_judge(cli, "--llm", server.base_url)
        assert server.chat_requests == []
    assert result.code == 0, result.err
    assert "cascade judge: 0 of 4 pairs" in result.err


def test_the_cascade_with_the_bundled_model(cli, local_model: str, monkeypatch) -> None:
    monkeypatch.setenv("LITREVIEW_LLM__CONTEXT_WINDOW", "4096")  # what the test server allocates
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_LOW", "0")
    monkeypatch.setenv("LITREVIEW_JUDGE__CASCADE_HIGH", "1")
    result = _eval_judge(cli, "--llm", local_model, "--json")
    assert result.code == 0, result.err
    assert "cascade judge: 4 of 4 pairs" in result.err
    assert result.json()["n"] == 4


def test_a_resumed_eval_counts_the_pairs_the_interrupted_run_sent_to_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.evaluation.checkpoint import Checkpoint
    from assistant.evaluation.judging import JudgeCase, evaluate_judge

    cases = [JudgeCase(f"c{i}", claim, SOURCE, "SUPPORT") for i, claim in enumerate(OFFLINE)]

    def run(interrupt: bool) -> dict[str, int]:
        def stop(done: int, total: int) -> None:
            if interrupt:
                raise KeyboardInterrupt

        checkpoint = Checkpoint(tmp_path / "judge.jsonl", {"judge": "cascade"})
        with FaultServer([ok("PAIR 1: supported")] * 2) as server:
            cascade = CascadeJudge(FixedJudge(OFFLINE), LLMJudge(_chat(server)), 0.2, 0.8)
            try:
                evaluate_judge(cases, cascade, checkpoint, stop)
            except KeyboardInterrupt:
                pass
        return cascade.as_json()

    # batches of 4: the first holds one of the two pairs in the band, the second the other
    monkeypatch.setattr("assistant.evaluation.judging.BATCH", 4)
    assert run(interrupt=True) == {"pairs": 4, "sent_to_model": 1}
    assert run(interrupt=False) == {"pairs": 5, "sent_to_model": 2}  # as one whole run counts
