"""The arXiv metadata snapshot (Kaggle `arxiv-metadata-oai-snapshot.json`): one paper per line,
its TeX marks (`15\\%`, `\\emph{..}`, `Sch\\"olkopf`) read as plain text, math kept."""

import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from assistant.readers.base import ReadItem, author_names, year_of
from assistant.readers.json_records import read_json_lines
from assistant.readers.tex_marks import plain_text

ABS_URL = "https://arxiv.org/abs/{}"
# "A, B, and C" / "A, B and C": commas and the word "and" both separate names.
_AUTHOR_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")


def read(path: Path) -> Iterator[ReadItem]:
    """Papers from an arXiv metadata snapshot in JSON Lines."""
    return read_json_lines(path, arxiv_fields)


def arxiv_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Paper fields of one snapshot record."""
    arxiv_id = str(record.get("id") or "")
    submitted = _first_submitted(record)
    parsed = record.get("authors_parsed")
    authors = author_names(parsed) if parsed else _split_authors(record.get("authors") or "")
    return {
        "title": plain_text(str(record.get("title") or "")),
        "abstract": plain_text(str(record.get("abstract") or "")),
        "authors": [plain_text(name) for name in authors],
        # update_date is the last revision, so it only stands in when v1's date is missing.
        "year": year_of(submitted or record.get("update_date")),
        "date": submitted,
        "doi": next(iter(str(record.get("doi") or "").split()), None),
        "arxiv_id": arxiv_id or None,
        "url": ABS_URL.format(arxiv_id) if arxiv_id else None,
        "venue": record.get("journal-ref") or None,
        "categories": str(record.get("categories") or "").split(),
    }


def _split_authors(authors: str) -> list[str]:
    return [name for name in _AUTHOR_SEPARATOR.split(authors.strip()) if name]


def _first_submitted(record: dict[str, Any]) -> str | None:
    """ISO date of version 1, when the paper appeared on arXiv; None when not given."""
    versions = record.get("versions") or [{}]
    try:
        return parsedate_to_datetime(versions[0]["created"]).date().isoformat()
    except (KeyError, TypeError, ValueError):
        return None
