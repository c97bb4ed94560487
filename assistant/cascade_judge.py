"""The `cascade` judge: the offline judge settles the pairs it is sure of and the model is asked
only about the rest, so a configured model costs calls only where the offline judge is unsure.

Every pair gets the offline judge's score. At or above `high` it is supported; at or below
`low` it keeps the offline verdict, unsupported or contradicted; strictly between, the model's
verdict stands, all such pairs of a call going to the model in one batched request (figures
for the band: BENCHMARKS.md, "Cascade judge").
"""

from collections.abc import Sequence

from assistant.verdicts import Grid, Judge, Verdict


class CascadeJudge:
    """The offline judge where its score is clear, the llm judge in the band between."""

    name = "cascade"

    def __init__(self, offline: Judge, llm: Judge, low: float, high: float) -> None:
        self.offline = offline
        self.llm = llm
        self.low = low
        self.high = high
        self.pairs = 0  # pairs judged
        self.asked = 0  # of them, pairs the model was asked about

    def judge(self, claim: str, source: str) -> Verdict:
        """One verdict."""
        return self.judge_all([(claim, source)])[0]

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        """One verdict per pair, in order; the band's pairs go to the model in one call."""
        return self.judged(pairs)[0]

    def judged(self, pairs: Sequence[tuple[str, str]]) -> tuple[list[Verdict], list[bool]]:
        """`judge_all`'s verdicts, and for each pair whether the model was asked about it."""
        verdicts = [self._settled(verdict) for verdict in self.offline.judge_all(pairs)]
        band = [i for i, verdict in enumerate(verdicts) if self._uncertain(verdict)]
        if band:
            for i, verdict in zip(band, self.llm.judge_all([pairs[i] for i in band]), strict=True):
                verdicts[i] = verdict
        self.count(len(pairs), len(band))
        asked = set(band)
        return verdicts, [i in asked for i in range(len(pairs))]

    def count(self, pairs: int, asked: int) -> None:
        """Add pairs to the counts: judged now, or by the run a resumed one carries on."""
        self.pairs += pairs
        self.asked += asked

    def judge_grid(self, claims: Sequence[str], sources: Sequence[str]) -> Grid:
        """Every claim against every source; the model gets the claims with an uncertain cell
        against the sources of those cells, each source listed once as the llm judge does."""
        grid = [[self._settled(v) for v in row] for row in self.offline.judge_grid(claims, sources)]
        rows = [r for r, row in enumerate(grid) if any(map(self._uncertain, row))]
        columns = [c for c in range(len(sources)) if any(self._uncertain(grid[r][c]) for r in rows)]
        if rows:
            asked = self.llm.judge_grid([claims[r] for r in rows], [sources[c] for c in columns])
            for r, row in zip(rows, asked, strict=True):
                for c, verdict in zip(columns, row, strict=True):
                    if self._uncertain(grid[r][c]):
                        grid[r][c] = verdict
        self.count(len(claims) * len(sources), len(rows) * len(columns))
        return grid

    def summary(self) -> str:
        """One line for the end of a command's output: how much the offline judge settled."""
        settled = self.pairs - self.asked
        share = f" ({settled / self.pairs:.0%} settled offline)" if self.pairs else ""
        return f"cascade judge: {self.asked} of {self.pairs} pairs sent to the model{share}"

    def as_json(self) -> dict[str, int]:
        """The counts of `summary`, for --json."""
        return {"pairs": self.pairs, "sent_to_model": self.asked}

    def _settled(self, verdict: Verdict) -> Verdict:
        """The offline verdict with the band's edges as its thresholds."""
        if verdict.score >= self.high:
            return Verdict(label="supported", score=verdict.score)
        if verdict.supported and verdict.score <= self.low:
            return Verdict(label="unsupported", score=verdict.score)
        return verdict

    def _uncertain(self, verdict: Verdict) -> bool:
        """Whether the score falls strictly inside the band."""
        return self.low < verdict.score < self.high
