"""The items a word processor's citations hold: Zotero and Mendeley write each citation's
items as CSL JSON into the document (`ZOTERO_ITEM CSL_CITATION {...}`, `CSL_CITATION {...}`),
EndNote its records as XML (`endnote_cites`).

The items are the draft's own bibliography: each gets its citation key (Better BibTeX's, or one
made as the store makes keys) and its record goes to `PlainText.entries`, where check treats it
as a .bib entry: judged against its abstract, or, without one, against the stored paper its
DOI, arXiv id or title names.
"""

import json
import re
from pathlib import Path
from typing import Any

from assistant.draftcheck.endnote_cites import (
    CITE_MARK,
    DATA_MARK,
    DROPPED_ENDNOTE_RECORDS,
    RECORDLESS_KEY,
    endnote_records,
    endnote_xml,
)
from assistant.draftcheck.sentences import PlainText
from assistant.papers import Paper, citation_key
from assistant.readers.base import checked
from assistant.readers.json_fields import json_paper_fields

CITATION_MARK = "CSL_CITATION"  # Zotero writes ZOTERO_ITEM CSL_CITATION, Mendeley not
_DECODER = json.JSONDecoder()
_ITEM_NUMBER = re.compile(r"^ITEM-\d+$")


def is_citation(code: str) -> bool:
    """Whether a field code or reference-mark name is a Zotero or Mendeley citation."""
    return CITATION_MARK in code


def is_endnote_citation(code: str) -> bool:
    """Whether a field code is an EndNote citation (not the data field nested in one)."""
    return CITE_MARK in code and DATA_MARK not in code


class CitedItems:
    """Turns citation codes into placeholders in `text`, one key per distinct item."""

    def __init__(self, text: PlainText, path: Path) -> None:
        self.text = text
        self.path = path
        self.keys: dict[str, str] = {}  # an item's id or URI -> its key

    def cite(self, code: str, line: int) -> str:
        """The placeholder for the citation whose code (CSL JSON after its name) is `code`."""
        items = [item for item in _items(code) if isinstance(item, dict)]
        return self.cite_records([(_ids(item), _csl_fields(item)) for item in items], line)

    def cite_field(self, code: str, line: int, data: str = "") -> str:
        """The placeholder for a citation field's code: Zotero's or Mendeley's CSL JSON, or
        EndNote's XML (in the code, or base64 in its nested field's `data`). An EndNote field
        whose records are gone is cited under a key that says so, never skipped."""
        if not is_endnote_citation(code):
            return self.cite(code, line)
        records = endnote_records(endnote_xml(code, data))
        if records:
            return self.cite_records(records, line)
        self.text.unread[RECORDLESS_KEY] = DROPPED_ENDNOTE_RECORDS
        return self.text.cite([RECORDLESS_KEY], line)

    def cite_records(self, records: list[tuple[list[str], dict[str, Any]]], line: int) -> str:
        """The placeholder for a citation of `records`: each one's ids and Paper fields."""
        return self.text.cite([self._key(ids, fields) for ids, fields in records], line)

    def _key(self, ids: list[str], fields: dict[str, Any]) -> str:
        """The record's key, the record added to the draft's bibliography the first time."""
        known = next((self.keys[i] for i in ids if i in self.keys), None)
        if known is not None:
            return known
        key = fields.get("key") or _made_key(fields, set(self.keys.values()))
        self.text.entries.append(checked({**fields, "key": key}, self.path, f"citation {key}"))
        self.keys.update(dict.fromkeys(ids, key))
        return key


def _ids(item: dict[str, Any]) -> list[str]:
    """What names one item across citations: its URIs; else its id, unless that is Mendeley
    Desktop's number within the citation (ITEM-1), which names nothing beyond it."""
    uris = item.get("uris")
    if isinstance(uris, list) and uris:
        return [str(uri) for uri in uris]
    known = item.get("id")
    return [] if known is None or _ITEM_NUMBER.match(str(known)) else [str(known)]


def _csl_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The item's Paper fields; its CSL `id` is the word processor's, no citation key."""
    data = item.get("itemData")
    fields = data if isinstance(data, dict) else {}
    try:
        return json_paper_fields({name: value for name, value in fields.items() if name != "id"})
    # an item of another shape than CSL JSON's is no record: rejected as untitled
    except (TypeError, ValueError, AttributeError, IndexError, KeyError):
        return {"title": "", "abstract": ""}


def _items(code: str) -> list[Any]:
    """The citation items of a code; none where its JSON is cut or malformed."""
    start = code.find("{")
    try:
        data, _ = _DECODER.raw_decode(code, start) if start >= 0 else ({}, 0)
    except json.JSONDecodeError:
        return []
    items = data.get("citationItems") if isinstance(data, dict) else None
    return items if isinstance(items, list) else []


def _made_key(fields: dict[str, Any], taken: set[str]) -> str:
    """A key as the store makes them, from the item's first author, year and title."""
    named = Paper.model_construct(
        title=str(fields.get("title") or ""),
        abstract="",
        authors=[str(a) for a in fields.get("authors") or []],
        year=fields.get("year") if isinstance(fields.get("year"), int) else None,
    )
    return citation_key(named, taken)
