"""EndNote's citations in Word: a field `ADDIN EN.CITE <EndNote><Cite>...</Cite></EndNote>`.
Where that XML is long, the code is only `ADDIN EN.CITE` and the XML sits, base64-encoded, in
the `w:fldData` of a field nested inside it, `ADDIN EN.CITE.DATA`. Each <Cite> holds a <record>
in EndNote's XML export format (read by `assistant.readers.endnote_xml`): title, authors, year,
journal, DOI, and the abstract where the library has one.
"""

import base64
import binascii
import re
from typing import Any
from xml.etree import ElementTree

from assistant.readers.endnote_xml import joined_text, record_fields

CITE_MARK = "EN.CITE"
DATA_MARK = "EN.CITE.DATA"
# A citation whose records are gone: a program other than Word saved the draft without its
# fields' data (LibreOffice keeps the code, drops the base64)
RECORDLESS_KEY = "EndNote citation"
DROPPED_ENDNOTE_RECORDS = (
    "its EndNote records are not in the file (a program other than Word, such as LibreOffice, "
    "saved it without them): check the draft as Word with EndNote saves it"
)
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
        number = _text_of(record.find("rec-number")) or _text_of(cite.find("RecNum"))
        fields = record_fields(record)
        found.append(([f"endnote:{number}" if number else f"title:{fields['title']}"], fields))
    return found


def _text_of(element: ElementTree.Element | None) -> str:
    return joined_text(element) if element is not None else ""
