"""PubMed's MEDLINE tagged text (PubMed's "Save" as PubMed format, citation managers' .nbib):
records from one `PMID- ` line to the next; a tag in the first four columns, its value after
"- ", continued on lines indented by six spaces."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.readers.base import ReadItem, checked, decoded_lines, year_of

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{}/"
_TAGGED = re.compile(r"^([A-Z0-9]{2,4}) *- ?(.*)$")
_CONTINUED = re.compile(r"^ {6}(\S.*)$")
_DOI = re.compile(r"^(\S+) \[doi\]$")


def read(path: Path) -> Iterator[ReadItem]:
    """Papers from a MEDLINE file, one per PMID record."""
    lines, bad = decoded_lines(path)
    yield from bad
    for number, (first_line, tags) in enumerate(_records(lines), start=1):
        yield checked(medline_fields(tags), path, f"record {number} (line {first_line})")


def medline_fields(tags: dict[str, list[str]]) -> dict[str, Any]:
    """Paper fields of one record's tags (each tag's values in order)."""
    pmid = _first(tags, "PMID")
    dois = (_DOI.match(value) for value in tags.get("LID", []) + tags.get("AID", []))
    return {
        "title": _first(tags, "TI") or _first(tags, "BTI") or "",
        "abstract": " ".join(tags.get("AB", [])),
        # full names ("Smith, John A") where given; AU has initials only ("Smith JA")
        "authors": tags.get("FAU") or tags.get("AU") or [],
        "year": year_of(_first(tags, "DP")),
        "doi": next((match.group(1) for match in dois if match), None),
        "url": PUBMED_URL.format(pmid) if pmid else None,
        "venue": _first(tags, "JT") or _first(tags, "TA"),
        "external_ids": {"pubmed": pmid} if pmid else {},
    }


def _first(tags: dict[str, list[str]], tag: str) -> str | None:
    values = tags.get(tag)
    return values[0] if values else None


def _records(lines: list[str]) -> Iterator[tuple[int, dict[str, list[str]]]]:
    """(line of its PMID, tag -> values) of each record; a wrapped value joined with spaces."""
    tags: dict[str, list[str]] = {}
    first_line = 0
    last: list[str] | None = None
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        continued = _CONTINUED.match(line)
        if continued and last:
            last[-1] += " " + continued.group(1)
            continue
        tagged = _TAGGED.match(line)
        if not tagged:
            last = None  # a blank line, or one not in the format, ends the value before it
            continue
        tag, value = tagged.groups()
        if tag == "PMID" and tags:
            yield first_line, tags
            tags = {}
        if not tags:
            first_line = number
        last = tags.setdefault(tag, [])
        last.append(value.strip())
    if tags:
        yield first_line, tags
