"""The papers a draft cites: its .bib entries (ingested into the store first) or stored papers."""

from pathlib import Path

from assistant.ingest import ingest_items
from assistant.papers import Paper, near_key
from assistant.readers import Rejected, read_file
from assistant.readers.bibtex import entry_key
from assistant.settings import Settings
from assistant.store import Store
from assistant.workspace import existing_store

NO_ABSTRACT = "no abstract"
NOT_FOUND = "not in the library"

Resolved = dict[str, Paper | str]
"""Cited key -> the stored paper, or why there is none to judge against."""


def cited_papers(keys: list[str], settings: Settings, bib: Path | None) -> Resolved:
    """Each key's paper: from `bib` where it has the key, else from the store; else a reason."""
    found: Resolved = _from_bib(bib, settings) if bib is not None else {}
    rest = [key for key in dict.fromkeys(keys) if key not in found]
    if rest:
        store = existing_store(settings.store)
        stored = {paper.key: paper for paper in store.papers_by_key(rest)}
        where = f"not in {bib.name} nor in the store" if bib else "not in the store"
        known = store.keys() if len(stored) < len(rest) else []  # read only for a missing key
        for key in rest:
            near = near_key(key, known) if key not in stored else None
            hint = f" (did you mean {near}?)" if near else ""
            found[key] = stored.get(key) or f"{NOT_FOUND}: {where}{hint}"
    return found


def _from_bib(bib: Path, settings: Settings) -> Resolved:
    """The .bib's entries by their own key, as stored: ingest may have given a paper another
    key (the bib's key was taken, or the paper was already stored), so they are matched by
    identity (DOI, arXiv id, title)."""
    items = list(read_file(bib, "bibtex"))
    found: Resolved = {}
    for item in items:
        if isinstance(item, Rejected) and (key := entry_key(item.location)):
            found[key] = NO_ABSTRACT if "missing abstract" in item.reason else item.reason
    entries = [item for item in items if isinstance(item, Paper) and item.key]
    if not entries:
        return found
    ingest_items(items, settings)
    store = Store(settings.store)
    by_key = {paper.key: paper for paper in store.papers_by_key([p.key or "" for p in entries])}
    by_identity: dict[str, Paper] | None = None
    for entry in entries:
        stored = by_key.get(entry.key)
        if stored is None or not set(stored.identities()) & set(entry.identities()):
            if by_identity is None:  # read the whole store only when some key moved
                by_identity = {i: p for p in store.papers() for i in p.identities()}
            stored = next((by_identity[i] for i in entry.identities() if i in by_identity), None)
        found[entry.key or ""] = stored or f"{NOT_FOUND}: {bib.name}'s entry was not stored"
    return found
