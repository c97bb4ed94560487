"""Token budgets: size a prompt before it is sent, and cut what does not fit.

Counts use tiktoken's cl100k_base (shipped offline). Other models tokenise differently, so a
share of the context window (`llm.tokenizer_margin`) is kept free; see BENCHMARKS.md for how
far cl100k_base is from the bundled model's tokenizer.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from assistant.tokens import count_tokens

# Chat formats wrap each message in a few tokens of role markers (OpenAI documents 3-4).
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3

Item = TypeVar("Item")


def message_tokens(messages: Sequence[dict[str, str]]) -> int:
    """Tokens a list of chat messages takes, role markers included."""
    return TOKENS_PER_REPLY + sum(
        TOKENS_PER_MESSAGE + count_tokens(message["content"]) for message in messages
    )


@dataclass
class Packed(Generic[Item]):
    """Items that fit a budget, in their original order, and the ones cut."""

    kept: list[Item]
    cut: list[Item]
    tokens: int


def pack(items: Sequence[Item], texts: Sequence[str], budget: int) -> Packed[Item]:
    """Keep items in order while their texts fit `budget` tokens; the rest are cut.

    Items are assumed to be ranked best first: a later item that would still fit after an
    earlier one was cut is kept, so the budget is used, but never at a better item's expense.
    """
    kept: list[Item] = []
    cut: list[Item] = []
    used = 0
    for item, text in zip(items, texts, strict=True):
        cost = count_tokens(text)
        if used + cost <= budget:
            kept.append(item)
            used += cost
        else:
            cut.append(item)
    return Packed(kept, cut, used)


def usable_window(context_window: int, tokenizer_margin: float) -> int:
    """The part of the context window our cl100k_base counts may fill."""
    return int(context_window * (1 - tokenizer_margin))
