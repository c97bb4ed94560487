"""What every reader shares: the Rejected record, safe text decoding, mapping common fields."""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.papers import Paper, comma_name, problems

BINARY_SNIFF_BYTES = 8_192
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|2100)\b")


@dataclass(frozen=True)
class Rejected:
    """An input record that was not ingested, and where and why."""

    path: str
    location: str
    reason: str
    # the record as read, where it was read whole but fails a check (no abstract)
    paper: Paper | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.location}: {self.reason}"


ReadItem = Paper | Rejected


def is_binary(path: Path) -> bool:
    """True for files that hold NUL bytes near the start: images, PDFs, archives."""
    with path.open("rb") as handle:
        return b"\x00" in handle.read(BINARY_SNIFF_BYTES)


def decoded_lines(path: Path) -> tuple[list[str], list[Rejected]]:
    """The file's lines as text; a line that is not UTF-8 becomes empty and is reported."""
    lines: list[str] = []
    bad: list[Rejected] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                lines.append(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
            except UnicodeDecodeError as exc:
                lines.append("\n")
                bad.append(
                    Rejected(
                        str(path),
                        f"line {number}",
                        f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1});"
                        " re-save the file as UTF-8",
                    )
                )
    return lines, bad


def checked(fields: Mapping[str, Any], path: Path, location: str) -> ReadItem:
    """Build a Paper from reader fields, or say why the record is rejected."""
    try:
        paper = Paper.model_validate(
            {**fields, "sources": [f"{path}:{location.removeprefix('line ')}"]}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return Rejected(str(path), location, f"invalid {where}: {first['msg']}")
    found = problems(paper)
    if found:
        return Rejected(str(path), location, "; ".join(found), paper)
    return paper


def year_of(value: Any) -> int | None:
    """The year in 2023, '2023-05-01', 'May 2023' or [2023, 5, 1]; None when there is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, list) and value:
        return year_of(value[0])
    if isinstance(value, dict):
        return year_of(value.get("date-parts") or value.get("year"))
    match = _YEAR.search(str(value)) if value else None
    return int(match.group()) if match else None


def author_names(value: Any) -> list[str]:
    """Author names from a list of strings or name dicts, or one 'A and B' / 'A; B' string."""
    if not value:
        return []
    if isinstance(value, str):
        # ";" first: Zotero writes "Bill and Melinda Gates Foundation; Smith, J."
        separator = ";" if ";" in value else " and "
        return [comma_name(name.strip()) for name in value.split(separator) if name.strip()]
    names = []
    for author in value:
        if isinstance(author, dict):  # CSL's given/family or literal, OpenAlex's display_name
            name = author.get("name") or author.get("display_name") or author.get("literal")
            name = name or " ".join(
                str(part) for part in (author.get("given"), author.get("family")) if part
            )
        elif isinstance(author, list) and author:  # arXiv authors_parsed: [last, first, suffix]
            name = " ".join(str(part) for part in (*author[1:2], author[0]) if part)
        elif isinstance(author, str):
            name = comma_name(author.strip())
        else:
            continue
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return names


def folded(name: str) -> str:
    """A field name in lower-case letters and digits: 'Publication Year' is 'publicationyear'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


# Field names seen in JSON, CSV and reference-manager exports, folded to lower-case letters;
# the two-letter ones are Web of Science's field tags.
COMMON_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "papertitle", "articletitle", "ti"),
    "abstract": ("abstract", "abstractnote", "summary", "description", "text", "ab"),
    "authors": ("authors", "author", "creators", "authornames", "au"),
    "year": ("year", "publicationyear", "date", "published", "publicationdate", "issued", "py"),
    "doi": ("doi", "di"),
    "arxiv_id": ("arxivid", "arxiv", "eprint"),
    "url": ("url", "link", "pdfurl"),
    "venue": ("venue", "journal", "booktitle", "containertitle", "publicationtitle")
    + ("sourcetitle", "so"),  # Scopus, Web of Science
}


def paper_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """Map a record with common field names (any case or punctuation) to Paper fields."""
    by_folded = {folded(str(k)): v for k, v in record.items() if v not in (None, "")}
    fields: dict[str, Any] = {}
    for target, names in COMMON_FIELDS.items():
        value = next((by_folded[n] for n in names if n in by_folded), None)
        if value is None:
            continue
        if target == "authors":
            fields["authors"] = author_names(value)
        elif target == "year":
            fields["year"] = year_of(value)
        elif target == "abstract" and isinstance(value, list):
            fields["abstract"] = " ".join(str(part) for part in value)
        elif text := _text_of(value):
            fields[target] = text
    fields.setdefault("title", "")
    fields.setdefault("abstract", "")
    return fields


def _text_of(value: Any) -> str:
    """A field's text; an object (Semantic Scholar's `journal`) gives its name."""
    if isinstance(value, dict):
        return str(value.get("name") or value.get("display_name") or "")
    return value if isinstance(value, str) else str(value)


def read_nothing_from(path: Path, reason: str) -> Iterator[ReadItem]:
    """A whole file rejected at once (empty, binary, unreadable)."""
    yield Rejected(str(path), "file", reason)
