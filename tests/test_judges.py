"""The untrained similarity judge (the trained one's baseline): grounded claims pass, claims
their source does not speak to fail; the judge table builds each backend; the llm judge reads
verdicts however a model words them, against a scripted endpoint on loopback."""

import json
import re
from typing import Any

import pytest
from fault_server import FaultServer, ok

from assistant.judges import LLMJudge, SimilarityJudge, make_judge
from assistant.llm.budget import message_tokens, usable_window
from assistant.llm.chat import ChatModel
from assistant.settings import JudgeSettings, LLMSettings
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
    assert verdicts[0].score > verdicts[1].score
    assert judge.judge("Bread needs a long fermentation.", SOURCE).label == "unsupported"
    assert judge.judge_all([]) == []


def test_the_threshold_is_a_setting() -> None:
    claim = "Efficient language models are studied."
    lenient = SimilarityJudge(JudgeSettings(min_support=0.3)).judge(claim, SOURCE)
    strict = SimilarityJudge(JudgeSettings(min_support=0.95)).judge(claim, SOURCE)
    assert lenient.score == strict.score
    assert (lenient.label, strict.label) == ("supported", "unsupported")


PAIRS = [
    ("Attention outperforms gated convolutions on associative recall.", SOURCE),
    ("Gated convolutions outperform attention on associative recall.", SOURCE),
    ("Bread needs a long fermentation.", SOURCE),
]


@pytest.mark.parametrize(
    ("reply", "labels"),
    [
        (  # the schema's own shape, worded loosely
            (
                '{"verdicts": [{"pair": 1, "verdict": "Supported."}, '
                '{"pair": "2", "verdict": "REFUTED"}, {"pair": 3, "verdict": "not supported"}]}'
            ),
            ["supported", "contradicted", "unsupported"],
        ),
        (  # a bare list with other field names, in a code fence; pair 3 left out
            '```json\n[{"id": 1, "label": "yes"}, {"id": "Pair 2", "label": "contradicts"}]\n```',
            ["supported", "contradicted", "unsupported"],
        ),
        (  # verdicts keyed by pair number
            '{"1": "entailed", "2": "unsupported", "3": "supported"}',
            ["supported", "unsupported", "supported"],
        ),
        (  # the same under the schema's key
            '{"verdicts": {"3": "contradicted"}}',
            ["unsupported", "unsupported", "contradicted"],
        ),
        (  # one verdict object on its own
            '{"pair": 2, "verdict": "supported"}',
            ["unsupported", "supported", "unsupported"],
        ),
        (  # the list under another name, a boolean verdict
            '{"results": [{"pair": 1, "verdict": true}]}',
            ["supported", "unsupported", "unsupported"],
        ),
        (  # numbered lines, no JSON at all
            (
                "PAIR 1: supported\nPAIR 2: contradicted (the source says the opposite)\n"
                "PAIR 3: unsupported"
            ),
            ["supported", "contradicted", "unsupported"],
        ),
        (  # a pair named on its own line, the claim echoed, the verdict below
            (
                "**Pair 1**\nCLAIM: attention supports recall\nVerdict: Unsupported\n\n"
                "**Pair 3**\nVerdict: Supported"
            ),
            ["unsupported", "unsupported", "supported"],
        ),
    ],
)
def test_the_llm_judge_reads_verdicts_however_a_model_words_them(
    reply: str, labels: list[str]
) -> None:
    with FaultServer([ok(reply)]) as server:
        verdicts = LLMJudge(_chat(server)).judge_all(PAIRS)
        requests = server.chat_requests
    assert [v.label for v in verdicts] == labels
    assert [v.score for v in verdicts] == [1.0 if label == "supported" else 0.0 for label in labels]
    assert len(requests) == 1  # read as it came: no repair turn
    # what is asked for is still the strict shape, so a grammar-constrained model writes it
    schema = json.dumps(requests[0]["response_format"])
    assert '"pair"' in schema and '"enum": ["supported", "unsupported", "contradicted"]' in schema


def test_an_unreadable_judge_reply_is_re_asked_and_silence_is_no_support() -> None:
    script = [ok("These claims are interesting."), ok("PAIR 2: supported")]
    with FaultServer(script) as server:
        verdicts = LLMJudge(_chat(server)).judge_all(PAIRS)
        requests = server.chat_requests
    assert [v.label for v in verdicts] == ["unsupported", "supported", "unsupported"]
    assert len(requests) == 2
    assert requests[1]["messages"][-2]["content"] == "These claims are interesting."


def test_the_llm_judge_splits_pairs_across_requests_to_fit_the_window() -> None:
    long_source = f"{SOURCE} " + "The models were trained on the Pile for many steps. " * 25
    pairs = [(f"Claim number {i} about recall.", long_source) for i in range(6)]
    reply = "PAIR 1: supported\nPAIR 2: unsupported\nPAIR 3: supported\nPAIR 4: unsupported"
    with FaultServer([ok(reply)]) as server:
        chat = _chat(server, context_window=2048)
        verdicts = LLMJudge(chat).judge_all(pairs)
        requests = server.chat_requests
    window = usable_window(2048, chat.settings.tokenizer_margin)
    prompts = [request["messages"][-1]["content"] for request in requests]
    sizes = [prompt.count("\nCLAIM: ") for prompt in prompts]
    assert len(requests) > 1 and sum(sizes) == 6
    assert all(message_tokens(request["messages"]) < window for request in requests)
    # numbering restarts in every request, and each reply maps back to its own pairs
    for prompt, size in zip(prompts, sizes, strict=True):
        assert "PAIR 1\n" in prompt and f"PAIR {size + 1}\n" not in prompt
    replied = ["supported", "unsupported", "supported", "unsupported"]
    assert [v.label for v in verdicts] == [label for size in sizes for label in replied[:size]]
    assert [c for c, _ in pairs] == [c for p in prompts for c in re.findall(r"CLAIM: (.*)", p)]


def _chat(server: FaultServer, **settings: Any) -> ChatModel:
    return ChatModel(LLMSettings(base_url=server.base_url, timeout=2.0, max_retries=0, **settings))


def _no_chat():  # type: ignore[no-untyped-def]
    raise AssertionError("only the llm judge needs a chat model")
