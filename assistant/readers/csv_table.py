"""CSV and TSV tables with a header row, such as Zotero's CSV export."""

import csv
from collections.abc import Iterator
from pathlib import Path

from assistant.readers.base import (
    COMMON_FIELDS,
    ReadItem,
    Rejected,
    checked,
    decoded_lines,
    folded,
    paper_fields,
)

DELIMITERS = (",", "\t", ";")
_NO_ABSTRACTS = (
    "no abstract column (the header has: {}); export the table with abstracts. PubMed's CSV "
    "has none: save the search as format PubMed (a .txt) instead"
)


def read(path: Path) -> Iterator[ReadItem]:
    """Papers from a delimited table, one per row after the header."""
    lines, bad = decoded_lines(path)
    yield from bad
    rows = _numbered_rows(lines, delimiter_of(path, lines))
    header_line, header = next(rows, (0, []))
    if isinstance(header, str):
        reason = f"unreadable header row: {header}; nothing read"
        yield Rejected(str(path), f"line {header_line}", reason)
        return
    if not any(folded(name) in COMMON_FIELDS["abstract"] for name in header):
        columns = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
        yield Rejected(str(path), f"line {header_line}", _NO_ABSTRACTS.format(columns))
        return
    for number, (line, row) in enumerate(rows, start=1):
        location = f"record {number} (line {line})"
        if isinstance(row, str):
            yield Rejected(str(path), location, f"unreadable row: {row}")
        elif len(row) != len(header):
            yield Rejected(
                str(path),
                location,
                f"{len(row)} columns where the header has {len(header)};"
                " check the quoting and the delimiter",
            )
        else:
            yield checked(paper_fields(dict(zip(header, row))), path, location)


def delimiter_of(path: Path, lines: list[str]) -> str:
    """Tab for .tsv; otherwise the delimiter the header line uses most (comma on a tie)."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    header = next((line for line in lines if line.strip()), "")
    return max(DELIMITERS, key=header.count)


def _numbered_rows(lines: list[str], delimiter: str) -> Iterator[tuple[int, list[str] | str]]:
    """(first line, cells) of each non-blank row, or (first line, why it could not be read)."""
    reader = csv.reader(lines, delimiter=delimiter)
    start = 1
    while True:
        try:
            row: list[str] | str = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row = str(exc)
        if isinstance(row, str) or any(cell.strip() for cell in row):
            yield start, row
        # A quoted cell may span lines, so a row starts on the line after the last one ended.
        start = reader.line_num + 1
