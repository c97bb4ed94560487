"""Citation markers: the `[n]` syntax the prompts ask for, the schema that constrains them, and
parsing a drafted text into sentences with the evidence numbers each one cites.

Evidence given to a model is numbered from 1; a marker names one of those numbers. The prompts,
this parser and the tests share the constants below.
"""

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema, create_model

from assistant.chunking import split_sentences

# `[3]`, `[1, 4]` or `[2][5]`: one or more evidence numbers in square brackets.
MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
# Text left where a marker was removed: no space before punctuation, single spaces.
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")
# Longest sentence a schema lets a model write; long enough for any sentence worth citing.
MAX_SENTENCE_CHARACTERS = 400
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")


def marker(numbers: list[int]) -> str:
    """How output cites: `[1][3]`."""
    return "".join(f"[{number}]" for number in numbers)


@dataclass
class DraftedSentence:
    """One sentence as the model wrote it, its markers taken out."""

    text: str
    citations: list[int]


def cited_numbers(text: str) -> list[int]:
    """Evidence numbers cited in `text`, in order, each once."""
    found = [int(n) for group in MARKER.findall(text) for n in re.split(r"[,;]", group)]
    return list(dict.fromkeys(found))


def without_markers(text: str) -> str:
    """`text` with every citation marker removed and its spacing tidied."""
    stripped = MARKER.sub("", text)
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(stripped.split()))


def parse_marked_text(text: str) -> list[DraftedSentence]:
    """Sentences of a text with inline `[n]` markers. A marker written after a sentence's full
    stop ("... works. [2] Next ...") belongs to the sentence before it."""
    pieces = [piece for line in text.splitlines() for piece in split_sentences(line) if piece]
    sentences: list[DraftedSentence] = []
    for piece in pieces:
        leading = _LEADING_MARKERS.match(piece)
        if leading and sentences:
            sentences[-1].citations += [
                n for n in cited_numbers(leading.group()) if n not in sentences[-1].citations
            ]
            piece = piece[leading.end() :]
        body = without_markers(piece)
        if body:
            sentences.append(DraftedSentence(body, cited_numbers(piece)))
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


def as_drafted(draft: Draft) -> list[DraftedSentence]:
    """A structured draft in the parser's terms; markers the model put inside the text count."""
    return [
        DraftedSentence(
            without_markers(s.text),
            list(dict.fromkeys([*s.citations, *cited_numbers(s.text)])),
        )
        for s in draft.sentences
        if without_markers(s.text)
    ]
