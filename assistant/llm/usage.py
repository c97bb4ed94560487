"""What the model calls of one command cost: calls, tokens, and money when a price is set."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.llm.endpoint import Chat, Completion, Message
from assistant.settings import ModelPrice


@dataclass
class Usage:
    """Running totals over every call a command makes, cached ones counted apart."""

    prices: dict[str, ModelPrice] = field(default_factory=dict)
    llm_calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    priced: bool = True  # False once a call used a model without a configured price

    def record(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        """One call that reached the endpoint."""
        self.llm_calls += 1
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        price = self.prices.get(model)
        if price is None:
            self.priced = False
        else:
            self.cost += (prompt_tokens * price.prompt + completion_tokens * price.completion) / 1e6

    def record_cached(self) -> None:
        """One call answered from the response cache: free."""
        self.cached_calls += 1

    def as_json(self) -> dict[str, Any]:
        """`{"llm_calls", "cached_calls", "prompt_tokens", "completion_tokens", "cost"}`."""
        return {
            "llm_calls": self.llm_calls,
            "cached_calls": self.cached_calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost": self._known_cost(),
        }

    def summary(self) -> str:
        """One line for the end of a command's output."""
        calls = f"{self.llm_calls} LLM call{'' if self.llm_calls == 1 else 's'}"
        if self.cached_calls:
            calls += f" (+{self.cached_calls} from cache)"
        line = (
            f"usage: {calls}, {self.prompt_tokens:,} prompt + "
            f"{self.completion_tokens:,} completion tokens"
        )
        cost = self._known_cost()
        return line if cost is None else f"{line}, cost {cost:.4f}"

    def _known_cost(self) -> float | None:
        # A partial sum would understate the cost: report none unless every call was priced.
        return self.cost if self.prices and self.priced else None


class MeteredChat:
    """A chat model whose every call is counted in `usage`, cached ones apart; `model` names
    the model (resolved on the first call) for its price."""

    def __init__(self, inner: Chat, usage: Usage, model: Callable[[], str]) -> None:
        self.inner = inner
        self.usage = usage
        self.model = model

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        """The inner model's completion, recorded."""
        completion = self.inner.complete(
            messages, max_tokens=max_tokens, response_format=response_format
        )
        if completion.cached:
            self.usage.record_cached()
        else:
            self.usage.record(self.model(), completion.prompt_tokens, completion.completion_tokens)
        return completion
