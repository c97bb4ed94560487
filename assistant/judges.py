"""The judge seam: `judge(claim, source) -> Verdict`, deciding whether a source supports a claim.

Backends, chosen by `judge.backend` from the table at the bottom:
- `local` (default): offline, built in: `assistant.trained_judge`, a small model trained on the
  SciFact and Citation-Integrity training splits over MiniLM similarities and word cues.
- `similarity`: offline, untrained, the baseline the trained one improves on. The mean of two
  scores, against `judge.min_support`:
  the claim's cosine similarity to the source's closest sentence under the bundled MiniLM, and
  the share of the claim's content words (stemmed) found in the source. On the training
  splits: ROC AUC 0.758 on SciFact and 0.641 on Citation-Integrity, against 0.704 and 0.622
  for the similarity alone. It tells grounded from off-topic claims, not supported from
  contradicted ones: that needs a trained judge (or the llm one).
- `llm`: the configured OpenAI-compatible endpoint (the judge section's, else the llm one),
  every pair of a draft in one batched call.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
from pydantic import BaseModel, Field

from assistant.chunking import split_sentences
from assistant.lexical import terms
from assistant.prompts import render
from assistant.settings import EmbeddingSettings, JudgeSettings

if TYPE_CHECKING:  # the openai SDK loads with the chat model, not with every command
    from assistant.llm.chat import ChatModel

Label = Literal["supported", "unsupported", "contradicted"]


class Verdict(BaseModel):
    """What a judge decided about one claim and its source; `score` in [0, 1], higher = more
    support."""

    label: Label
    score: float

    @property
    def supported(self) -> bool:
        return self.label == "supported"


class Judge(Protocol):
    """Decides, for (claim, source) pairs, whether each source supports its claim."""

    name: str

    def judge(self, claim: str, source: str) -> Verdict:
        """One verdict."""
        ...

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        """One verdict per pair, in order; an LLM judge makes one call for all of them."""
        ...


# Function words that say nothing about whether a source backs a claim (bm25s' English list,
# which the lexical index keeps, lacks most of them).
FUNCTION_WORDS = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with we our us also has have had been were which who whom "
    "its those from than can could may might would should all any both each more most other some "
    "only very between during after before about against over under while whereas however thus "
    "therefore here when where how what whether do does did"
)


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


class JudgedPair(BaseModel):
    """The LLM judge's answer for one numbered pair."""

    pair: int
    verdict: Label


class JudgeReply(BaseModel):
    """The LLM judge's whole answer."""

    verdicts: list[JudgedPair] = Field(default_factory=list)


class LLMJudge:
    """Judges with a chat model, every pair of a call in one request. A pair the model leaves
    out of its reply counts as unsupported: silence is not support."""

    name = "llm"
    scores: dict[Label, float] = {"supported": 1.0, "unsupported": 0.0, "contradicted": 0.0}

    def __init__(self, chat: "ChatModel") -> None:
        self.chat = chat

    def judge(self, claim: str, source: str) -> Verdict:
        return self.judge_all([(claim, source)])[0]

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        if not pairs:
            return []
        listed = "\n\n".join(
            f"PAIR {number}\nCLAIM: {claim}\nSOURCE: {source}"
            for number, (claim, source) in enumerate(pairs, 1)
        )
        prompt = render("judge", pairs=listed, count=str(len(pairs)))
        reply = self.chat.structured([{"role": "user", "content": prompt}], JudgeReply)
        labels = {item.pair: item.verdict for item in reply.verdicts}
        return [
            Verdict(label=label, score=self.scores[label])
            for label in (labels.get(number, "unsupported") for number in range(1, len(pairs) + 1))
        ]


def make_judge(settings: JudgeSettings, chat: Callable[[], "ChatModel"]) -> Judge:
    """The judge `settings.backend` names; `chat` gives the judge's chat model when needed."""
    from assistant.trained_judge import TrainedJudge

    backends: dict[str, Callable[[], Judge]] = {
        "local": TrainedJudge,
        "similarity": lambda: SimilarityJudge(settings),
        "llm": lambda: LLMJudge(chat()),
    }
    return backends[settings.backend]()
