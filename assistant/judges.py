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
- `llm`: the configured OpenAI-compatible endpoint (the judge section's, else the llm one),
  every pair of a draft in one batched call. The reply is read leniently (`read_verdicts`):
  the schema's JSON, other JSON shapes and wordings, or numbered lines, so a weak local model
  that ignores the format still gets its verdicts counted; a pair left out is no support.
"""

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Protocol

import numpy as np
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    model_validator,
)

from assistant.chunking import split_sentences
from assistant.lexical import terms
from assistant.prompts import render
from assistant.settings import EmbeddingSettings, JudgeSettings
from assistant.tokens import count_tokens

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


# Verdict words as models write them, most specific first: "not supported" is no support,
# and a contradiction is named as such even where the word "support" also appears.
_VERDICT_WORDS: tuple[tuple[re.Pattern[str], Label], ...] = (
    (re.compile(r"contradict|refut|opposite|conflict|inconsistent", re.IGNORECASE), "contradicted"),
    (
        re.compile(
            r"un-?supported|\bnot?\b|n't\b|\bfalse\b|insufficient|unclear|neutral|unverif|irrelevant",
            re.IGNORECASE,
        ),
        "unsupported",
    ),
    (
        re.compile(r"support|entail|\byes\b|\btrue\b|\bcorrect\b|consistent", re.IGNORECASE),
        "supported",
    ),
)
_NUMBER = re.compile(r"\d+")
# A line that starts with a pair's number: "PAIR 2: supported", "2. Supported", "**Pair 2**".
_NUMBERED_LINE = re.compile(r"^[\s>*#•-]*(?:pair\b\W*)?(\d+)\b(.*)$", re.IGNORECASE)
# Lines that repeat the prompt's pairs rather than judge them.
_ECHOED_LINE = re.compile(r"^\W*(?:claim|source)\b", re.IGNORECASE)


def verdict_word(text: str) -> Label | None:
    """The verdict a model's wording names ("Supported.", "not supported", "REFUTES"), if any."""
    for pattern, label in _VERDICT_WORDS:
        if pattern.search(text):
            return label
    return None


def _pair_number(value: Any) -> Any:
    """A pair number written as "2", "Pair 2" or "#2", as an int; anything else is left for
    validation to reject."""
    if isinstance(value, str) and (found := _NUMBER.search(value)):
        return int(found.group())
    return value


def _verdict(value: Any) -> Any:
    """A verdict in any wording as a Label; wording naming none is no support."""
    if isinstance(value, bool):
        return "supported" if value else "unsupported"
    if isinstance(value, str):
        return verdict_word(value) or "unsupported"
    return value


_PAIR_NAMES = ("pair", "id", "index", "number")
_VERDICT_NAMES = ("verdict", "label", "judgement", "judgment", "decision")


class JudgedPair(BaseModel):
    """The LLM judge's answer for one numbered pair. The schema asks for `pair` and `verdict`;
    replies naming them otherwise (`id`, `label`, ...) or wording verdicts freely still count."""

    pair: Annotated[int, BeforeValidator(_pair_number)] = Field(
        validation_alias=AliasChoices(*_PAIR_NAMES)
    )
    verdict: Annotated[Label, BeforeValidator(_verdict)] = Field(
        validation_alias=AliasChoices(*_VERDICT_NAMES)
    )


class JudgeReply(BaseModel):
    """The LLM judge's whole answer."""

    verdicts: list[JudgedPair]

    @model_validator(mode="before")
    @classmethod
    def _other_shapes(cls, data: Any) -> Any:
        """A bare list of verdicts, one verdict object, {"1": "supported", ...}, or the list
        under another name, read as {"verdicts": [...]}."""
        if isinstance(data, list):
            return {"verdicts": data}
        if not isinstance(data, dict) or isinstance(data.get("verdicts"), list):
            return data
        if data.keys() & set(_PAIR_NAMES) and data.keys() & set(_VERDICT_NAMES):
            return {"verdicts": [data]}
        by_number = data.get("verdicts", data)
        if (
            isinstance(by_number, dict)
            and by_number
            and all(_NUMBER.search(str(key)) for key in by_number)
        ):
            return {"verdicts": [{"pair": k, "verdict": v} for k, v in by_number.items()]}
        lists = [value for value in data.values() if isinstance(value, list)]
        return {"verdicts": lists[0]} if len(lists) == 1 else data


def read_verdicts(text: str) -> JudgeReply:
    """A judge reply as JSON in any of the shapes above, or else as numbered lines ("PAIR 1:
    supported", "1. Supported", or a pair's number with its verdict on the next line). Raises
    the JSON's ValidationError when neither reading finds a verdict, so the model is re-asked."""
    # the outermost object, else the outermost list, else the text itself (for the error)
    candidates = [_outermost(text, "{", "}"), _outermost(text, "[", "]"), text]
    first_error: ValidationError | None = None
    for candidate in filter(None, candidates):
        try:
            return JudgeReply.model_validate_json(candidate)
        except ValidationError as exc:
            first_error = first_error or exc
    listed = _numbered_verdicts(text)
    if listed:
        return JudgeReply(verdicts=listed)
    assert first_error is not None
    raise first_error


def _outermost(text: str, opening: str, closing: str) -> str | None:
    """The text from the first `opening` to the last `closing`, if both occur in that order."""
    start, end = text.find(opening), text.rfind(closing)
    return text[start : end + 1] if 0 <= start < end else None


def _numbered_verdicts(text: str) -> list[JudgedPair]:
    """Verdicts from lines that number their pair; the first verdict for a pair counts."""
    found: dict[int, Label] = {}
    waiting: int | None = None  # a pair named on a line of its own, its verdict to follow
    for line in text.splitlines():
        numbered = _NUMBERED_LINE.match(line)
        if numbered:
            waiting = int(numbered.group(1))
            line = numbered.group(2)
        if waiting is None or _ECHOED_LINE.match(line):
            continue
        label = verdict_word(line)
        if label is not None:
            found.setdefault(waiting, label)
            waiting = None
    return [JudgedPair(pair=number, verdict=label) for number, label in found.items()]


class LLMJudge:
    """Judges with a chat model, as many pairs to a request as its context window holds. A pair
    the model leaves out of its reply counts as unsupported: silence is not support."""

    name = "llm"
    scores: ClassVar[dict[Label, float]] = {
        "supported": 1.0,
        "unsupported": 0.0,
        "contradicted": 0.0,
    }
    # Room kept for the reply, per pair: {"pair": 12, "verdict": "contradicted"} is 14 tokens.
    reply_tokens_per_pair = 16

    def __init__(self, chat: "ChatModel") -> None:
        self.chat = chat

    def judge(self, claim: str, source: str) -> Verdict:
        return self.judge_all([(claim, source)])[0]

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        return [verdict for group in self._requests(pairs) for verdict in self._judge(group)]

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

    def _requests(self, pairs: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
        """Consecutive groups of pairs whose prompt, schema instructions and reply fit the
        model's window; a pair too long for any window goes alone, for the model to refuse."""
        from assistant.llm.budget import message_tokens, usable_window  # loads with the model

        settings = self.chat.settings
        window = usable_window(settings.context_window, settings.tokenizer_margin)
        empty = render("judge", pairs="", count=str(len(pairs)))
        fixed = message_tokens([{"role": "user", "content": empty}]) + count_tokens(
            json.dumps(JudgeReply.model_json_schema())  # sent as instructions where no schema
        )
        groups: list[list[tuple[str, str]]] = []
        used = 0
        for pair in pairs:
            cost = count_tokens(_listing(len(pairs), pair)) + self.reply_tokens_per_pair
            if not groups or used + cost > window:
                groups.append([])
                used = fixed
            groups[-1].append(pair)
            used += cost
        return groups


def _listing(number: int, pair: tuple[str, str]) -> str:
    claim, source = pair
    return render("judge_pair", number=str(number), claim=claim, source=source)


def make_judge(settings: JudgeSettings, chat: Callable[[], "ChatModel"]) -> Judge:
    """The judge `settings.backend` names; `chat` gives the judge's chat model when needed."""
    from assistant.trained_judge import TrainedJudge

    backends: dict[str, Callable[[], Judge]] = {
        "local": TrainedJudge,
        "similarity": lambda: SimilarityJudge(settings),
        "llm": lambda: LLMJudge(chat()),
    }
    return backends[settings.backend]()
