"""The judge seam: `judge(claim, source) -> Verdict`, deciding whether a source supports a claim.

Backends, chosen by `judge.backend` from the table at the bottom:
- `local` (default): offline, built in: `assistant.trained_judge`, a small model trained on the
  SciFact and Citation-Integrity training splits over MiniLM similarities and word cues.
- `similarity`: offline, untrained, the baseline the trained one improves on. The mean of two
  scores, against `judge.min_support`:
  the claim's cosine similarity to the source's closest sentence under the bundled MiniLM, and
  the share of the claim's content words (stemmed) found in the source (figures: BENCHMARKS.md).
  It tells grounded from off-topic claims, not supported from
  contradicted ones: that needs a trained judge (or the llm one).
- `llm`: the configured OpenAI-compatible endpoint (the judge section's, else the llm one):
  a draft's sentences against its evidence in one call, each source listed once. Replies are
  read leniently (`assistant.judge_replies`); a pair left out is no support.
- `cascade`: `local` settles the pairs it scores outside the band from `judge.cascade_low` to
  `judge.cascade_high`; the `llm` judge gets the rest (`assistant.cascade_judge`).
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.cascade_judge import CascadeJudge
from assistant.chunking import split_sentences
from assistant.lexical import terms
from assistant.llm_judge import LLMJudge
from assistant.settings import EmbeddingSettings, JudgeSettings
from assistant.verdicts import FUNCTION_WORDS, Grid, Judge, Label, Verdict, grid_from_pairs

if TYPE_CHECKING:  # the openai SDK loads with the chat model, not with every command
    from assistant.llm.chat import ChatModel

__all__ = ["Judge", "LLMJudge", "Label", "SimilarityJudge", "Verdict", "make_judge"]


class SimilarityJudge:
    """Offline: a claim is supported when it is close to some sentence of its source and its
    content words occur there."""

    name = "similarity"

    def __init__(self, settings: JudgeSettings) -> None:
        from assistant.embedders.minilm_numpy import MiniLMQueryEncoder

        self.threshold = settings.min_support
        self.encoder = MiniLMQueryEncoder(EmbeddingSettings())
        self.function_words = set(terms([FUNCTION_WORDS])[0])

    def judge(self, claim: str, source: str) -> Verdict:
        return self.judge_all([(claim, source)])[0]

    def judge_grid(self, claims: Sequence[str], sources: Sequence[str]) -> Grid:
        return grid_from_pairs(self.judge_all, claims, sources)

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        if not pairs:
            return []
        sentences = [split_sentences(source) or [source] for _, source in pairs]
        texts = [claim for claim, _ in pairs] + [s for group in sentences for s in group]
        vectors = self.encoder.embed(texts)
        claims, rest = vectors[: len(pairs)], vectors[len(pairs) :]
        shared = self._shared_words(pairs)
        verdicts = []
        offset = 0
        for claim_vector, group, overlap in zip(claims, sentences, shared, strict=True):
            similarity = float(np.max(rest[offset : offset + len(group)] @ claim_vector))
            offset += len(group)
            score = max(0.0, min(1.0, (similarity + overlap) / 2))
            label: Label = "supported" if score >= self.threshold else "unsupported"
            verdicts.append(Verdict(label=label, score=score))
        return verdicts

    def _shared_words(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Per pair, the share of the claim's content words (stemmed) that its source uses."""
        claim_terms = terms([claim for claim, _ in pairs])
        source_terms = terms([source for _, source in pairs])
        shares = []
        for claim, source in zip(claim_terms, source_terms, strict=True):
            content = {t for t in claim if t not in self.function_words and len(t) > 1}
            shares.append(len(content & set(source)) / len(content) if content else 0.0)
        return shares


def make_judge(
    settings: JudgeSettings, chat: Callable[[], "ChatModel"], model_cache: Path | None = None
) -> Judge:
    """The judge `settings.backend` names; `chat` gives the judge's chat model when needed;
    `model_cache` holds the `local` judge's int8 MiniLM (None: the default cache)."""
    from assistant.trained_judge import TrainedJudge

    backends: dict[str, Callable[[], Judge]] = {
        "local": lambda: TrainedJudge(model_cache=model_cache),
        "similarity": lambda: SimilarityJudge(settings),
        "llm": lambda: LLMJudge(chat()),
        "cascade": lambda: CascadeJudge(
            TrainedJudge(model_cache=model_cache),
            LLMJudge(chat()),
            settings.cascade_low,
            settings.cascade_high,
        ),
    }
    return backends[settings.backend]()
