"""Readers, one per input format, chosen from a table by extension and content sniffing."""

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from assistant.errors import LitreviewError
from assistant.readers import (
    arxiv,
    bibtex,
    csv_table,
    endnote_xml,
    json_records,
    listing,
    medline,
    ris,
    scifact,
)
from assistant.readers.base import ReadItem, Rejected, is_binary, read_nothing_from

Reader = Callable[[Path], Iterator[ReadItem]]

READERS: dict[str, Reader] = {
    "listing": listing.read,
    "json": json_records.read,
    "scifact": scifact.read,
    "arxiv": arxiv.read,
    "csv": csv_table.read,
    "bibtex": bibtex.read,
    "ris": ris.read,
    "medline": medline.read,
    "endnote": endnote_xml.read,
}

_BY_EXTENSION = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ris": "ris",
    ".csv": "csv",
    ".tsv": "csv",
    ".nbib": "medline",
}
_JSON_EXTENSIONS = {".json", ".jsonl", ".ndjson"}
PDF_REASON = (
    "a PDF: PDFs are not read; export the papers' metadata with abstracts from Zotero (or "
    "your reference manager) as BibTeX, RIS or CSV and ingest that file"
)
ZIP_REASON = (
    "a zip archive, such as a Word or OpenDocument file: ingest reads reference exports "
    "(BibTeX, RIS, CSV, JSON); to check a draft's citations, run `litreview check {}`"
)
# Keys that tell a JSON-lines flavour apart from generic records.
_JSONL_FLAVOURS = (
    ({"doc_id", "abstract"}, "scifact"),
    ({"_id", "text"}, "scifact"),
    ({"id", "categories", "update_date"}, "arxiv"),
)


def detect_format(path: Path) -> str | None:
    """The reader name for this file, from its extension and first bytes; None if unknown."""
    suffix = path.suffix.lower()
    if suffix in _JSON_EXTENSIONS:
        return _json_flavour(path)
    if suffix in _BY_EXTENSION:
        return _BY_EXTENSION[suffix]
    with path.open("rb") as handle:
        head = handle.read(4096).decode("utf-8-sig", "ignore").lstrip()
    if head.startswith("@"):
        return "bibtex"
    if head.startswith("TY  -"):
        return "ris"
    if head.startswith("PT\t"):  # Web of Science's tab-delimited export
        return "csv"
    if head.startswith("PMID-"):  # PubMed's MEDLINE format
        return "medline"
    if suffix == ".xml" and "<records>" in head:  # EndNote's XML export
        return "endnote"
    if head.startswith(("{", "[")):
        return _json_flavour(path)
    # a .txt is a listing page unless its first bytes said otherwise (RIS, Web of Science,
    # PubMed)
    return "listing" if suffix == ".txt" else None


def _json_flavour(path: Path) -> str:
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8-sig", "ignore").strip()
    try:
        record = json.loads(first)
    except json.JSONDecodeError:
        return "json"
    keys = set(record) if isinstance(record, dict) else set()
    return next((name for needed, name in _JSONL_FLAVOURS if needed <= keys), "json")


def input_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus every non-hidden file under the folders named, sorted, as
    resolved paths: a paper's sources then name a file the same way whatever path reached it."""
    paths = list(paths)
    files: list[Path] = []
    for given in paths:
        path = given.resolve()
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.parts[-1:])
            )
        elif path.exists():
            files.append(path)
        else:
            raise LitreviewError(f"No such file or folder: {given}")
    if not files:
        named = ", ".join(map(str, paths))
        raise LitreviewError(
            f"No files to read in {named} (hidden files are skipped): put your exports there "
            "(BibTeX, RIS, CSV, JSON or saved listing pages), or name the files to ingest."
        )
    return files


def read_file(path: Path, format_name: str | None = None) -> Iterator[ReadItem]:
    """Papers and rejections from one file; `format_name` overrides detection."""
    if path.stat().st_size == 0:
        return read_nothing_from(path, "empty file")
    if _is_pdf(path):  # even under --format: no reader takes PDFs
        return read_nothing_from(path, PDF_REASON)
    if _is_zip(path):
        return read_nothing_from(path, ZIP_REASON.format(path))
    if is_binary(path):
        return read_nothing_from(path, "binary file, not a text export; nothing read")
    name = format_name or detect_format(path)
    if name is None:
        known = ", ".join(READERS)
        return read_nothing_from(path, f"unknown format; pass --format with one of: {known}")
    if name not in READERS:
        raise LitreviewError(f"Unknown format {name!r}; choose one of: {', '.join(READERS)}")
    return READERS[name](path)


def _is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _is_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return path.suffix.lower() == ".pdf" or handle.read(5) == b"%PDF-"


__all__ = ["READERS", "ReadItem", "Rejected", "detect_format", "input_files", "read_file"]
