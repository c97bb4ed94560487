"""The `llm` judge: a chat model decides, with as many pairs or sentences to a request as its
context window holds. Anything the model leaves out of its reply counts as unsupported:
silence is not support."""

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

from pydantic import BaseModel

from assistant.judge_replies import GridReply, JudgeReply, read_grid, read_verdicts
from assistant.prompts import render
from assistant.tokens import count_tokens
from assistant.verdicts import Grid, Label, Verdict

if TYPE_CHECKING:  # the openai SDK loads with the chat model, not with every command
    from assistant.llm.chat import ChatModel

T = TypeVar("T")


class LLMJudge:
    """Judges with a chat model: pairs one by one in a numbered list, or a grid of sentences
    against sources with each source listed once."""

    name = "llm"
    scores: ClassVar[dict[Label, float]] = {
        "supported": 1.0,
        "unsupported": 0.0,
        "contradicted": 0.0,
    }
    # Room kept for the reply, per pair: {"pair": 12, "verdict": "contradicted"} is 14 tokens.
    reply_tokens_per_pair = 16
    # Per grid row: {"sentence": 3, "supported_by": [1, 4], "contradicted_by": []} and spare.
    reply_tokens_per_row = 40

    def __init__(self, chat: "ChatModel") -> None:
        self.chat = chat

    def judge(self, claim: str, source: str) -> Verdict:
        return self.judge_all([(claim, source)])[0]

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        costs = [
            count_tokens(_listing(len(pairs), pair)) + self.reply_tokens_per_pair for pair in pairs
        ]
        empty = render("judge", pairs="", count=str(len(pairs)))
        groups = self._requests(list(pairs), costs, empty, JudgeReply)
        return [verdict for group in groups for verdict in self._judge(group)]

    def judge_grid(self, claims: Sequence[str], sources: Sequence[str]) -> Grid:
        """Every claim against every source: the sources listed once a request, the claims in
        as many requests as the window needs."""
        if not claims:
            return []
        evidence = "\n".join(f"[{n}] {source}" for n, source in enumerate(sources, 1))
        costs = [
            count_tokens(f"({len(claims)}) {claim}") + self.reply_tokens_per_row for claim in claims
        ]
        empty = _grid_prompt(evidence, [], len(sources))
        groups = self._requests(list(claims), costs, empty, GridReply)
        return [row for group in groups for row in self._judge_grid(group, evidence, len(sources))]

    def _judge_grid(self, claims: Sequence[str], evidence: str, width: int) -> Grid:
        """One request: `claims`, numbered from 1, against the `width` numbered sources."""
        prompt = _grid_prompt(evidence, claims, width)
        reply = self.chat.structured(
            [{"role": "user", "content": prompt}], GridReply, parse=read_grid
        )
        rows = {row.sentence: row for row in reply.sentences}
        grid = []
        for number in range(1, len(claims) + 1):
            row = rows.get(number)
            supported = set(row.supported_by) if row else set()
            contradicted = set(row.contradicted_by) - supported if row else set()
            labels: list[Label] = [
                "supported"
                if m in supported
                else "contradicted"
                if m in contradicted
                else "unsupported"
                for m in range(1, width + 1)
            ]
            grid.append([Verdict(label=label, score=self.scores[label]) for label in labels])
        return grid

    def _judge(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        """One request for `pairs`, numbered from 1."""
        listed = "\n\n".join(_listing(number, pair) for number, pair in enumerate(pairs, 1))
        prompt = render("judge", pairs=listed, count=str(len(pairs)))
        reply = self.chat.structured(
            [{"role": "user", "content": prompt}], JudgeReply, parse=read_verdicts
        )
        labels = {item.pair: item.verdict for item in reply.verdicts}
        return [
            Verdict(label=label, score=self.scores[label])
            for label in (labels.get(number, "unsupported") for number in range(1, len(pairs) + 1))
        ]

    def _requests(
        self, items: list[T], costs: list[int], empty_prompt: str, reply: type[BaseModel]
    ) -> list[list[T]]:
        """Consecutive groups of items whose prompt, schema instructions and reply fit the
        model's window; an item too long for any window goes alone, for the model to refuse."""
        from assistant.llm.budget import message_tokens, usable_window  # loads with the model

        settings = self.chat.settings
        window = usable_window(settings.context_window, settings.tokenizer_margin)
        fixed = message_tokens([{"role": "user", "content": empty_prompt}]) + count_tokens(
            json.dumps(reply.model_json_schema())  # sent as instructions where no schema
        )
        groups: list[list[T]] = []
        used = 0
        for item, cost in zip(items, costs, strict=True):
            if not groups or used + cost > window:
                groups.append([])
                used = fixed
            groups[-1].append(item)
            used += cost
        return groups


def _listing(number: int, pair: tuple[str, str]) -> str:
    claim, source = pair
    return render("judge_pair", number=str(number), claim=claim, source=source)


def _grid_prompt(evidence: str, claims: Sequence[str], width: int) -> str:
    sentences = "\n".join(f"({n}) {claim}" for n, claim in enumerate(claims, 1))
    return render(
        "judge_grid",
        evidence=evidence,
        sentences=sentences,
        sources=str(width),
        claims=str(len(claims)),
    )
