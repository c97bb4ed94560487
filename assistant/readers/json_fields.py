"""Paper fields of one JSON record: the common field names (`paper_fields`), and what the JSON
of reference managers and scholarly APIs names otherwise or nests.

- litreview's own `papers export --format json`: every field read back as written.
- CSL JSON (Zotero, Better BibTeX, pandoc's bibliographies): `citation-key`, or `id` where it
  is a key rather than Zotero's item URI.
- OpenAlex works: `display_name`, `abstract_inverted_index`, `authorships`, `primary_location`.
- Semantic Scholar: `externalIds` (DOI, ArXiv).
"""

import re
from typing import Any

from assistant.papers import Paper
from assistant.readers.base import author_names, folded, paper_fields

# Fields the export always writes and no other JSON this reads is known to.
_OWN_EXPORT = frozenset(("sources", "external_ids", "bibtex_fields"))
_PAPER_FIELDS = frozenset(Paper.model_fields) - {"sources"}
_KEY_FIELDS = ("citationkey", "citekey")
# A CSL `id` that is a citation key: no spaces or slashes (Zotero's are URIs), some letter.
_CITATION_KEY = re.compile(r"^[^\s/]*[A-Za-z][^\s/]*$")


def json_paper_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Paper fields of one JSON object."""
    if _OWN_EXPORT <= record.keys():
        # where it was read from is this file now, not the exporter's
        return {name: value for name, value in record.items() if name in _PAPER_FIELDS}
    fields = paper_fields(record)
    by_folded = {folded(str(name)): value for name, value in record.items()}
    key = _citation_key(record, by_folded)
    if key:
        fields["key"] = key
    if not fields["title"] and isinstance(record.get("display_name"), str):
        fields["title"] = record["display_name"]
    inverted = by_folded.get("abstractinvertedindex")
    if not fields["abstract"] and isinstance(inverted, dict):
        fields["abstract"] = _from_inverted_index(inverted)
    if not fields.get("authors") and isinstance(record.get("authorships"), list):
        fields["authors"] = author_names([a.get("author") or {} for a in record["authorships"]])
    ids = by_folded.get("externalids")
    if isinstance(ids, dict):
        given = {folded(str(name)): value for name, value in ids.items()}
        for field, name in (("doi", "doi"), ("arxiv_id", "arxiv")):
            if not fields.get(field) and isinstance(given.get(name), str):
                fields[field] = given[name]
    if not fields.get("venue"):
        fields["venue"] = _openalex_venue(record)
    return fields


def _citation_key(record: dict[str, Any], by_folded: dict[str, Any]) -> str | None:
    key = next((by_folded[name] for name in _KEY_FIELDS if by_folded.get(name)), None)
    csl_id = record.get("id") if "type" in record else None
    if key is None and isinstance(csl_id, str) and _CITATION_KEY.match(csl_id):
        key = csl_id
    return key.strip() if isinstance(key, str) and key.strip() else None


def _from_inverted_index(index: dict[str, Any]) -> str:
    """OpenAlex's abstract as text: each word put back at its positions."""
    placed = sorted((int(position), str(word)) for word, at in index.items() for position in at)
    return " ".join(word for _, word in placed)


def _openalex_venue(record: dict[str, Any]) -> str | None:
    location = record.get("primary_location") or record.get("host_venue") or {}
    source = location.get("source") if isinstance(location, dict) else None
    named = source if isinstance(source, dict) else location
    name = named.get("display_name") if isinstance(named, dict) else None
    return name if isinstance(name, str) and name else None
