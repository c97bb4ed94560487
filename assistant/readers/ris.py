"""RIS files (Zotero, Mendeley, EndNote exports): records from `TY  -` to `ER  -`."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import rispy

from assistant.papers import comma_name
from assistant.readers.base import (
    ReadItem,
    Rejected,
    author_names,
    checked,
    decoded_lines,
    year_of,
)

# rispy's names for the tags we read, in order of preference within each Paper field.
TITLE_KEYS = ("title", "primary_title")  # TI, T1
ABSTRACT_KEYS = ("abstract", "notes_abstract")  # AB, N2
AUTHOR_KEYS = ("authors", "first_authors")  # AU, A1
YEAR_KEYS = ("year", "publication_year", "date")  # PY, Y1, DA
VENUE_KEYS = ("secondary_title", "journal_name", "alternate_title3")  # T2, JO, JF
_START = re.compile(r"^TY {2}-")
_END = re.compile(r"^ER {2}-")


def read(path: Path) -> Iterator[ReadItem]:
    """Papers from an RIS file, one per record."""
    lines, bad = decoded_lines(path)
    yield from bad
    # rispy silently drops a record without TY or ER, so records are cut here, with line numbers.
    for number, (first_line, record_lines) in enumerate(_records(lines), start=1):
        location = f"record {number} (line {first_line})"
        if not _END.match(record_lines[-1]):
            yield Rejected(str(path), location, "no 'ER  -' line closing the record")
            continue
        parsed = rispy.loads("".join(record_lines))
        if not parsed:
            yield Rejected(str(path), location, "no 'TY  -' line opening the record")
            continue
        yield checked(ris_fields(parsed[0]), path, location)


def ris_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Paper fields of one record as rispy names its tags."""
    urls = record.get("urls") or []
    authors = author_names(_first(record, AUTHOR_KEYS))
    return {
        "title": _first(record, TITLE_KEYS) or "",
        "abstract": _first(record, ABSTRACT_KEYS) or "",
        # RIS writes "Surname, Given"; a name without a comma is PubMed's "Smith JA"
        "authors": [comma_name(name, dotless_initials=True) for name in authors],
        "year": year_of(_first(record, YEAR_KEYS)),
        "doi": record.get("doi"),
        "url": urls[0] if urls else None,
        "venue": _first(record, VENUE_KEYS),
    }


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((record[key] for key in keys if record.get(key)), None)


def _records(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line, lines) of each record: it ends at its ER line or where the next TY starts."""
    current: list[str] = []
    first_line, opened = 0, False
    for number, line in enumerate(lines, start=1):
        if opened and _START.match(line):
            yield first_line, current
            current, opened = [], False
        if not current:
            if not line.strip():
                continue
            first_line = number
        current.append(line)
        opened = opened or bool(_START.match(line))
        if _END.match(line):
            yield first_line, current
            current, opened = [], False
    if current:
        yield first_line, current
