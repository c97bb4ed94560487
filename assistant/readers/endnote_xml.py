"""EndNote's XML export (File > Export, type XML): `<xml><records><record>...`, each field's
text wrapped in <style> runs. The same <record> is what EndNote writes into a Word citation
(`assistant.draftcheck.endnote_cites`)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from assistant.readers.base import ReadItem, Rejected, checked, decoded_lines, year_of


def read(path: Path) -> Iterator[ReadItem]:
    """Papers from an EndNote XML file, one per record; a line that is not UTF-8 is reported
    and read as empty."""
    lines, bad = decoded_lines(path)
    yield from bad
    try:
        root = ElementTree.fromstring("".join(lines))
    except ElementTree.ParseError as exc:
        line, column = exc.position
        yield Rejected(
            str(path), f"line {line}", f"not well-formed XML (column {column + 1}); nothing read"
        )
        return
    for number, record in enumerate(root.iter("record"), start=1):
        yield checked(record_fields(record), path, f"record {number}")


def record_fields(record: ElementTree.Element) -> dict[str, Any]:
    """Paper fields of one EndNote <record>."""
    authors = record.findall("contributors/authors/author")
    return {
        "title": _text(record, "titles/title"),
        "abstract": _text(record, "abstract"),
        "authors": [name for name in map(joined_text, authors) if name],
        "year": year_of(_text(record, "dates/year")),
        "doi": _text(record, "electronic-resource-num") or None,
        "venue": _text(record, "titles/secondary-title")
        or _text(record, "periodical/full-title")
        or None,
        "url": _text(record, "urls/related-urls/url") or None,
    }


def joined_text(element: ElementTree.Element) -> str:
    """An element's text, its <style> runs joined, whitespace collapsed."""
    return " ".join("".join(element.itertext()).split())


def _text(element: ElementTree.Element, path: str) -> str:
    found = element.find(path)
    return joined_text(found) if found is not None else ""
