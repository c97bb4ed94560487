"""Reading an LLM judge's reply leniently: the schema's JSON, other JSON shapes and wordings,
or numbered lines, so that a weak local model that ignores the format still has its verdicts
counted. What is asked for stays the strict schema, so grammar-constrained endpoints are
unchanged."""

import re
from typing import Annotated, Any, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    model_validator,
)

from assistant.verdicts import Label

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
    try:
        return _json_reply(text, JudgeReply)
    except ValidationError:
        listed = _numbered_verdicts(text)
        if listed:
            return JudgeReply(verdicts=listed)
        raise


Reply = TypeVar("Reply", bound=BaseModel)


def _json_reply(text: str, model: type[Reply]) -> Reply:
    """`model` read from the outermost object in `text`, else the outermost list, else the
    whole text; raises the first ValidationError when none reads."""
    candidates = [_outermost(text, "{", "}"), _outermost(text, "[", "]"), text]
    first_error: ValidationError | None = None
    for candidate in filter(None, candidates):
        try:
            return model.model_validate_json(candidate)
        except ValidationError as exc:
            first_error = first_error or exc
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


def _numbers(value: Any) -> Any:
    """Source numbers written as [1, 3], "1, 3", "[1][3]" or one number, as a list of ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, str):
        return [int(found) for found in _NUMBER.findall(value)]
    if isinstance(value, list):
        return [_pair_number(item) for item in value]
    return value


SourceNumbers = Annotated[list[int], BeforeValidator(_numbers)]


class GridRow(BaseModel):
    """The LLM judge's answer for one numbered sentence: the sources that support it and those
    that contradict it; a source named in neither list does neither."""

    sentence: Annotated[int, BeforeValidator(_pair_number)] = Field(
        validation_alias=AliasChoices("sentence", "claim", *_PAIR_NAMES)
    )
    supported_by: SourceNumbers = Field(
        default_factory=list,
        validation_alias=AliasChoices("supported_by", "supported", "supports", "support"),
    )
    contradicted_by: SourceNumbers = Field(
        default_factory=list,
        validation_alias=AliasChoices("contradicted_by", "contradicted", "contradicts"),
    )


class GridReply(BaseModel):
    """The LLM judge's whole answer to a grid of sentences against sources."""

    sentences: list[GridRow]

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, data: Any) -> Any:
        """A bare list of rows, or the list under another name, read as {"sentences": [...]}."""
        if isinstance(data, list):
            return {"sentences": data}
        if isinstance(data, dict) and not isinstance(data.get("sentences"), list):
            lists = [value for value in data.values() if isinstance(value, list)]
            return {"sentences": lists[0]} if len(lists) == 1 else data
        return data


def read_grid(text: str) -> GridReply:
    """A grid reply as JSON (the outermost object or list); raises the first ValidationError
    when none reads, so the model is re-asked."""
    return _json_reply(text, GridReply)
