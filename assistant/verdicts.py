"""What every judge shares: the verdict on one (claim, source) pair and the Judge seam.

The backends live in `assistant.judges` (similarity, llm, the table that picks one) and
`assistant.trained_judge` (the built-in `local` one); both import their types from here, so
neither imports the other.
"""

from collections.abc import Callable, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel

Label = Literal["supported", "unsupported", "contradicted"]


class Verdict(BaseModel):
    """What a judge decided about one claim and its source; `score` in [0, 1], higher = more
    support."""

    label: Label
    score: float

    @property
    def supported(self) -> bool:
        return self.label == "supported"


Grid = list[list[Verdict]]
"""Verdicts of claims (rows) against sources (columns)."""


class Judge(Protocol):
    """Decides, for (claim, source) pairs, whether each source supports its claim."""

    name: str

    def judge(self, claim: str, source: str) -> Verdict:
        """One verdict."""
        ...

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        """One verdict per pair, in order; an LLM judge batches them into few calls."""
        ...

    def judge_grid(self, claims: Sequence[str], sources: Sequence[str]) -> Grid:
        """Every claim against every source; an LLM judge lists each source once."""
        ...


def grid_from_pairs(
    judge_all: Callable[[Sequence[tuple[str, str]]], list[Verdict]],
    claims: Sequence[str],
    sources: Sequence[str],
) -> Grid:
    """A grid judged pair by pair, for judges whose cost does not depend on how pairs group."""
    flat = judge_all([(claim, source) for claim in claims for source in sources])
    width = len(sources)
    return [flat[row * width : (row + 1) * width] for row in range(len(claims))]


# Function words that say nothing about whether a source backs a claim (bm25s' English list,
# which the lexical index keeps, lacks most of them).
FUNCTION_WORDS = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with we our us also has have had been were which who whom "
    "its those from than can could may might would should all any both each more most other some "
    "only very between during after before about against over under while whereas however thus "
    "therefore here when where how what whether do does did"
)
