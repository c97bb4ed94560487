"""The papers a draft cites: its .bib entries (ingested into the store first) or stored papers."""

from collections.abc import Mapping, Sequence
from pathlib import Path

from assistant.draftcheck.author_year import is_typed, resolve_typed, typed_entries
from assistant.draftcheck.numbered import is_listed, resolve_listed
from assistant.errors import StoreError
from assistant.ingest import ingest_items
from assistant.papers import Paper, near_key
from assistant.readers import Rejected, read_file
from assistant.readers.base import ReadItem
from assistant.readers.bibtex import entry_key
from assistant.settings import Settings
from assistant.store import Store
from assistant.workspace import existing_store

NO_ABSTRACT = "no abstract"
NOT_FOUND = "not in the library"

Resolved = dict[str, Paper | str]
"""Cited key -> the stored paper, or why there is none to judge against."""


def cited_papers(
    keys: list[str],
    settings: Settings,
    bibs: Sequence[Path],
    carried: Sequence[ReadItem] = (),
    references: Mapping[str, str] | None = None,
) -> Resolved:
    """Each key's paper: from the records the draft `carried` (a Word draft's items), else the
    first of `bibs` that has the key, else from the store (a typed citation by its author and
    year); else, for a key of the draft's own reference list (`references`: a numbered one, a
    LaTeX `\\bibitem`), the stored paper its entry names; else a reason."""
    found: Resolved = _from_entries(list(carried), "the draft", settings) if carried else {}
    for bib in bibs:
        for key, paper in _from_entries(list(read_file(bib)), bib.name, settings).items():
            found.setdefault(key, paper)
    rest = [key for key in dict.fromkeys(keys) if key not in found]
    if rest:
        store = existing_store(settings.store)
        names = ", ".join(bib.name for bib in bibs)
        where = f"not in {names} nor in the store" if bibs else "not in the store"
        found.update(_stored_papers([key for key in rest if not stands_in(key)], store, where))
        references = references or {}
        unfound = [key for key in rest if not isinstance(found.get(key), Paper)]
        made = [key for key in unfound if is_typed(key) or key in references]
        if made:
            found.update(_made_papers(made, store, references))
    return found


def stands_in(key: str) -> bool:
    """Whether a cited key stands in for a paper the draft names otherwise: by author and year
    ("Vaswani (2017)") or by its number in the reference list ("[3]")."""
    return is_typed(key) or is_listed(key)


def _stored_papers(keys: list[str], store: Store, where: str) -> Resolved:
    """Each key's stored paper, or that it is `where` not, with the key it likely meant."""
    stored = {paper.key: paper for paper in store.papers_by_key(keys)} if keys else {}
    known = store.keys() if len(stored) < len(keys) else []  # read only for a missing key
    found: Resolved = {}
    for key in keys:
        near = near_key(key, known) if key not in stored else None
        hint = f" (did you mean {near}?)" if near else ""
        found[key] = stored.get(key) or f"{NOT_FOUND}: {where}{hint}"
    return found


def _made_papers(made: list[str], store: Store, references: Mapping[str, str]) -> Resolved:
    """The stored paper each typed citation ("Vaswani (2017)") or key of the draft's reference
    list ("[3]", a `\\bibitem`'s) names, or why none."""
    papers = store.papers()
    by_key = {paper.key: paper for paper in papers}
    typed = [key for key in made if is_typed(key)]
    resolved = resolve_listed([key for key in made if not is_typed(key)], references, papers)
    # a typed citation by the entry of the draft's list it names first ("Smith (2020a)": APA's
    # letters tell apart what the store cannot), else by the store's authors and years
    entries = typed_entries(typed, references)
    by_entry = {
        key: found
        for key, found in resolve_listed(list(entries), entries, papers).items()
        if found[0]
    }
    resolved |= resolve_typed([key for key in typed if key not in by_entry], papers) | by_entry
    return {
        key: by_key[stored] if stored else f"{NOT_FOUND}: {why}"
        for key, (stored, why) in resolved.items()
    }


def _from_entries(items: list[ReadItem], source: str, settings: Settings) -> Resolved:
    """A bibliography's entries (a .bib, pandoc's CSL JSON, a Word draft's items) by their own
    key, as stored (ingested first). An entry without an abstract is judged against the stored
    paper it names, where the store holds one."""
    found: Resolved = {}
    bare: list[Paper] = []
    for item in items:
        if isinstance(item, Rejected) and (key := _key_of(item)):
            found[key] = NO_ABSTRACT if "missing abstract" in item.reason else item.reason
            if found[key] == NO_ABSTRACT and item.paper is not None:
                bare.append(item.paper)
    entries = [item for item in items if isinstance(item, Paper) and item.key]
    if entries:
        ingest_items(items, settings)
    elif not bare:
        return found
    try:
        matched = _stored_as(existing_store(settings.store), [*entries, *bare])
    except StoreError:  # nothing to ingest and no store: the bare entries stay unjudged
        return found
    for entry in entries:
        found[entry.key or ""] = matched.get(
            entry.key or "", f"{NOT_FOUND}: {source}'s entry was not stored"
        )
    for entry in bare:
        found[entry.key or ""] = matched.get(entry.key or "", NO_ABSTRACT)
    return found


def _key_of(rejected: Rejected) -> str | None:
    """The cited key of a rejected entry: the record's, or the one its location names."""
    return (rejected.paper.key if rejected.paper else None) or entry_key(rejected.location)


def _stored_as(store: Store, entries: list[Paper]) -> dict[str, Paper]:
    """The stored paper of each entry, by the entry's key: the one under that key when it is
    the same work, else the one sharing its identity (DOI, arXiv id, title); ingest may have
    given it another key (the entry's was taken, or the paper was already stored)."""
    by_key = {paper.key: paper for paper in store.papers_by_key([p.key or "" for p in entries])}
    by_identity: dict[str, Paper] | None = None
    matched: dict[str, Paper] = {}
    for entry in entries:
        stored = by_key.get(entry.key)
        if stored is None or not set(stored.identities()) & set(entry.identities()):
            if by_identity is None:  # read the whole store only when some key moved
                by_identity = {i: p for p in store.papers() for i in p.identities()}
            stored = next((by_identity[i] for i in entry.identities() if i in by_identity), None)
        if stored is not None:
            matched[entry.key or ""] = stored
    return matched
