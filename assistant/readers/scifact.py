"""SciFact and BEIR corpus files: one JSON object per line, one abstract per object."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.readers.base import ReadItem, paper_fields
from assistant.readers.json_records import read_json_lines


def read(path: Path) -> Iterator[ReadItem]:
    """Papers from a SciFact (`doc_id`, sentence list) or BEIR (`_id`, `text`) corpus."""
    return read_json_lines(path, corpus_fields)


def corpus_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Paper fields of one SciFact or BEIR corpus record; other objects map by field name."""
    if "doc_id" in record:
        abstract = record.get("abstract") or []
        sentences = abstract if isinstance(abstract, list) else None
        return {
            "title": record.get("title") or "",
            "abstract": " ".join(sentences) if sentences is not None else str(abstract),
            "sentences": sentences,
            "external_ids": {"scifact": str(record["doc_id"])},
        }
    if "_id" in record:
        return {
            "title": record.get("title") or "",
            "abstract": record.get("text") or "",
            "external_ids": {"beir": str(record["_id"])},
        }
    return paper_fields(record)
