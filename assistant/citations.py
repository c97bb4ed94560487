"""Citation markers: the `[n]` syntax the prompts ask for, the schema that constrains them, and
parsing a drafted text into sentences with the evidence numbers each one cites.

Evidence given to a model is numbered from 1; a marker names one of those numbers. A model may
also write a citation key in brackets (`[smith2020deep]`): a key of the evidence given counts as
its number, any other key as a citation of nothing. The prompts, this parser and the tests
share the constants below.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema, create_model

from assistant.chunking import split_sentences

# What one bracket may cite: an evidence number, or something shaped like a citation key
# (a letter first, a digit somewhere: `vaswani2017attention`, `@smith2020`).
_ITEM = r"(?:\d+|@?[A-Za-z][\w:.\-]*\d[\w:.\-]*)"
# `[3]`, `[1, 4]`, `[2][5]` or `[smith2020deep]`: citations in square brackets.
MARKER = re.compile(rf"\[\s*({_ITEM}(?:\s*[,;]\s*{_ITEM})*)\s*\]")
# Text left where a marker was removed: no space before punctuation, single spaces.
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")
# Longest sentence a schema lets a model write; long enough for any sentence worth citing.
MAX_SENTENCE_CHARACTERS = 400
_LEADING_MARKERS = re.compile(rf"^(?:\s*{MARKER.pattern})+")


def marker(numbers: list[int]) -> str:
    """How output cites: `[1][3]`."""
    return "".join(f"[{number}]" for number in numbers)


@dataclass
class DraftedSentence:
    """One sentence as the model wrote it, its markers taken out; a negative citation is a key
    that names no evidence."""

    text: str
    citations: list[int]


def cited_numbers(text: str, keys: Mapping[str, int]) -> list[int]:
    """Evidence numbers cited in `text`, in order, each once; `keys` maps the citation keys of
    the evidence to their numbers, and each other key becomes a distinct negative number."""
    found: list[int] = []
    unknown: dict[str, int] = {}
    for group in MARKER.findall(text):
        for item in re.split(r"[,;]", group):
            item = item.strip().lstrip("@")
            if item.isdigit():
                found.append(int(item))
            else:
                found.append(keys.get(item) or unknown.setdefault(item, -1 - len(unknown)))
    return list(dict.fromkeys(found))


def without_markers(text: str) -> str:
    """`text` with every citation marker removed and its spacing tidied."""
    stripped = MARKER.sub("", text)
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(stripped.split()))


def parse_marked_text(text: str, keys: Mapping[str, int]) -> list[DraftedSentence]:
    """Sentences of a text with inline `[n]` markers. A marker written after a sentence's full
    stop ("... works. [2] Next ...") belongs to the sentence before it."""
    pieces = [piece for line in text.splitlines() for piece in split_sentences(line) if piece]
    sentences: list[DraftedSentence] = []
    for piece in pieces:
        leading = _LEADING_MARKERS.match(piece)
        if leading and sentences:
            sentences[-1].citations += [
                n for n in cited_numbers(leading.group(), keys) if n not in sentences[-1].citations
            ]
            piece = piece[leading.end() :]
        body = without_markers(piece)
        if body:
            sentences.append(DraftedSentence(body, cited_numbers(piece, keys)))
    return sentences


class CitedSentence(BaseModel):
    """A sentence of a structured draft and the evidence numbers it relies on."""

    text: str
    citations: list[int]


class Draft(BaseModel):
    """A structured draft: sentences, each citing evidence by number."""

    sentences: list[CitedSentence]


def draft_schema(numbers: list[int], max_sentences: int) -> type[Draft]:
    """The Draft schema as sent to the model: citations limited to `numbers`, at most
    `max_sentences` sentences of at most MAX_SENTENCE_CHARACTERS (a grammar-constrained
    endpoint can write nothing else, and a small model cannot run on until its token limit).
    Validation still accepts any number, so that a model ignoring the schema is caught by the
    citation check, not by a re-ask."""
    number = Annotated[int, WithJsonSchema({"type": "integer", "enum": numbers})]
    sentence = create_model(
        "CitedSentence",
        __base__=CitedSentence,
        text=(str, Field(json_schema_extra={"maxLength": MAX_SENTENCE_CHARACTERS})),
        citations=(list[number], ...),
    )
    return create_model(
        "Draft",
        __base__=Draft,
        sentences=(list[sentence], Field(json_schema_extra={"maxItems": max_sentences})),  # type: ignore[valid-type]
    )


def as_drafted(draft: Draft, keys: Mapping[str, int]) -> list[DraftedSentence]:
    """A structured draft in the parser's terms; markers the model put inside the text count."""
    return [
        DraftedSentence(
            without_markers(s.text),
            list(dict.fromkeys([*s.citations, *cited_numbers(s.text, keys)])),
        )
        for s in draft.sentences
        if without_markers(s.text)
    ]
