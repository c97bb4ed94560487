"""EndNote's citations in Word: a field `ADDIN EN.CITE <EndNote><Cite>...</Cite></EndNote>`.
Where that XML is long, the code is only `ADDIN EN.CITE` and the XML sits, base64-encoded, in
the `w:fldData` of a field nested inside it, `ADDIN EN.CITE.DATA`. Each <Cite> holds a <record>
in EndNote's XML export format: title, authors, year, journal, DOI, and the abstract where the
library has one.
"""

import base64
import binascii
import re
from typing import Any
from xml.etree import ElementTree

from assistant.readers.base import year_of

CITE_MARK = "EN.CITE"
DATA_MARK = "EN.CITE.DATA"
_XML_START = re.compile(r"<EndNote\b")


def endnote_xml(code: str, data: str) -> str:
    """The citation's XML: in its field code, or in the base64 data of its nested field."""
    start = _XML_START.search(code)
    if start:
        return code[start.start() :]
    try:
        raw = base64.b64decode("".join(data.split()), validate=False)
    except (binascii.Error, ValueError):
        return ""
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw[1:2] == b"\x00"
    return raw.decode("utf-16" if utf16 else "utf-8-sig", "replace")


def endnote_records(xml: str) -> list[tuple[list[str], dict[str, Any]]]:
    """(ids, Paper fields) of each reference the citation's XML cites; none where it is not
    well-formed."""
    try:
        root = ElementTree.fromstring(xml.strip().rstrip("\x00"))
    except ElementTree.ParseError:
        return []
    found = []
    for cite in root.iter("Cite"):
        record = cite.find("record")
        if record is None:
            continue
        number = _text(record, "rec-number") or _text(cite, "RecNum")
        fields = _fields(record)
        found.append(([f"endnote:{number}" if number else f"title:{fields['title']}"], fields))
    return found


def _fields(record: ElementTree.Element) -> dict[str, Any]:
    authors = record.findall("contributors/authors/author")
    return {
        "title": _text(record, "titles/title"),
        "abstract": _text(record, "abstract"),
        "authors": [name for name in map(_joined, authors) if name],
        "year": year_of(_text(record, "dates/year")),
        "doi": _text(record, "electronic-resource-num") or None,
        "venue": _text(record, "titles/secondary-title")
        or _text(record, "periodical/full-title")
        or None,
        "url": _text(record, "urls/related-urls/url") or None,
    }


def _text(element: ElementTree.Element, path: str) -> str:
    found = element.find(path)
    return _joined(found) if found is not None else ""


def _joined(element: ElementTree.Element) -> str:
    """An element's text, its <style> runs joined, whitespace collapsed."""
    return " ".join("".join(element.itertext()).split())
