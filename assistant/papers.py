"""The Paper record, its identity (DOI, arXiv id, normalised title) and its citation key."""

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Iterable

from pydantic import BaseModel, Field, field_validator

MAX_TITLE_CHARS = 1_000
MAX_ABSTRACT_CHARS = 50_000
MAX_AUTHORS = 2_000
MAX_FIELD_CHARS = 2_000
# Share of the shorter abstract's content words that the longer must contain for two records
# with the same title to count as one paper.
SAME_WORK_OVERLAP = 0.6

_DOI_PREFIX = re.compile(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(r"^(https?://arxiv\.org/(abs|pdf)/|arxiv:\s*)", re.IGNORECASE)
_ARXIV_VERSION = re.compile(r"v\d+$")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Initials written after a surname: "J.", "J.-P.", "A.B.", "J" (not "LI": a surname in capitals);
# PubMed's "JA" only where names are known to be written so
_INITIALS = re.compile(r"^(?:[A-Z]\.-?){1,3}$|^[A-Z]$")
_DOTLESS_INITIALS = re.compile(r"^[A-Z]{1,3}$")
_NAME_SUFFIX = re.compile(r"^(?:Jr|Sr|II|III|IV|2nd|3rd|4th)\.?$")
# Words too common to name a paper by; the key takes the first title word not in this set.
_KEY_STOPWORDS = frozenset(
    "a an the of on in for to and or with via from by at is are do does how what why when "
    "towards toward can we our your its".split()
)


class Paper(BaseModel):
    """One paper: what readers produce, what the store keeps, what citations point to."""

    key: str | None = Field(None, description="Citation key, assigned by the store.")
    title: str
    abstract: str
    sentences: list[str] | None = Field(
        None, description="Abstract sentences as given by the source (SciFact); else split later."
    )
    authors: list[str] = Field(default_factory=list)
    author_count: int | None = None
    year: int | None = None
    date: str | None = Field(None, description="Publication date, ISO 8601, when known.")
    doi: str | None = None
    arxiv_id: str | None = None
    url: str | None = None
    venue: str | None = None
    organization: str | None = None
    categories: list[str] = Field(default_factory=list)
    external_ids: dict[str, str] = Field(
        default_factory=dict, description="Ids in other systems, e.g. {'scifact': '4983'}."
    )
    sources: list[str] = Field(default_factory=list, description="file:line it was read from.")
    bibtex_type: str | None = Field(
        None, description="Entry type in the .bib it was read from, e.g. 'inproceedings'."
    )
    bibtex_fields: dict[str, str] = Field(
        default_factory=dict,
        description="That entry's fields as written (LaTeX, brace protection), for export.",
    )

    @field_validator("title", "abstract")
    @classmethod
    def _collapse_whitespace(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("doi")
    @classmethod
    def _normalise_doi(cls, value: str | None) -> str | None:
        return normalise_doi(value) if value else None

    @field_validator("arxiv_id")
    @classmethod
    def _normalise_arxiv(cls, value: str | None) -> str | None:
        return normalise_arxiv_id(value) if value else None

    def identities(self) -> list[str]:
        """Strings that identify this paper: the same paper met twice shares at least one."""
        ids = [f"title:{normalise_title(self.title)}"]
        if self.doi:  # DOIs are case-insensitive; the record keeps the case it was given
            ids.append(f"doi:{self.doi.lower()}")
        if self.arxiv_id:
            ids.append(f"arxiv:{self.arxiv_id}")
        return ids

    def content_hash(self) -> str:
        """Hash of what the chunks are made of: a change means re-chunking and re-embedding."""
        text = "\x1f".join([self.title, self.abstract, *(self.sentences or [])])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def problems(paper: Paper) -> list[str]:
    """Reasons a record cannot be stored; empty when it is fine."""
    found = []
    if not paper.title:
        found.append("missing title")
    if not paper.abstract:
        found.append("missing abstract")
    if len(paper.title) > MAX_TITLE_CHARS:
        found.append(f"title is {len(paper.title):,} characters (limit {MAX_TITLE_CHARS:,})")
    if len(paper.abstract) > MAX_ABSTRACT_CHARS:
        found.append(
            f"abstract is {len(paper.abstract):,} characters (limit {MAX_ABSTRACT_CHARS:,})"
        )
    if len(paper.authors) > MAX_AUTHORS:
        found.append(f"{len(paper.authors):,} authors (limit {MAX_AUTHORS:,})")
    for name in ("venue", "url", "doi", "arxiv_id", "organization", "date"):
        value = getattr(paper, name)
        if value and len(value) > MAX_FIELD_CHARS:
            found.append(f"{name} is {len(value):,} characters (limit {MAX_FIELD_CHARS:,})")
    if any(len(a) > MAX_FIELD_CHARS for a in paper.authors):
        found.append(f"an author name is over {MAX_FIELD_CHARS:,} characters")
    return found


def normalise_doi(doi: str) -> str:
    """DOI without resolver prefix, in the case it was given (compare with `.lower()`)."""
    return _DOI_PREFIX.sub("", doi.strip())


def normalise_arxiv_id(arxiv_id: str) -> str:
    """arXiv id without prefix or version suffix (2310.01234v2 -> 2310.01234)."""
    return _ARXIV_VERSION.sub("", _ARXIV_PREFIX.sub("", arxiv_id.strip()))


def normalise_title(title: str) -> str:
    """Title reduced to lower-case ASCII words, so punctuation and case don't split a paper."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub(" ", ascii_title.lower()).strip()


def same_work(first: Paper, second: Paper) -> bool:
    """Whether two records that share a title describe one paper, not two with a generic title.

    Records that name different DOIs or arXiv ids are different papers. Otherwise their
    abstracts must mostly overlap: most content words of the shorter one (a truncated copy,
    a reworded export) appear in the longer. SciFact alone has three papers titled "Summary".
    """
    for name in ("doi", "arxiv_id"):
        mine, theirs = getattr(first, name), getattr(second, name)
        if mine and theirs and mine.lower() != theirs.lower():
            return False
    words = [
        {w for w in normalise_title(p.abstract).split() if len(w) > 3} for p in (first, second)
    ]
    shorter = min(words, key=len)
    if not shorter:
        return True
    return len(words[0] & words[1]) / len(shorter) >= SAME_WORK_OVERLAP


def merge(existing: Paper, incoming: Paper) -> Paper:
    """The same paper seen again: keep what is known, fill what is missing, never lose data."""
    update: dict[str, object] = {}
    kept_apart = ("key", "sources", "external_ids", "categories", "authors", "abstract")
    for name in Paper.model_fields:
        if name in (*kept_apart, "bibtex_type", "bibtex_fields"):
            continue
        if getattr(existing, name) in (None, "", []) and getattr(incoming, name) not in (None, ""):
            update[name] = getattr(incoming, name)
    if len(incoming.abstract) > len(existing.abstract):
        update["abstract"] = incoming.abstract
        update["sentences"] = incoming.sentences
    if len(incoming.authors) > len(existing.authors):
        update["authors"] = incoming.authors
    if not existing.bibtex_fields:  # type and fields come from one entry, never mixed
        update["bibtex_type"] = incoming.bibtex_type
        update["bibtex_fields"] = incoming.bibtex_fields
    update["categories"] = _union(existing.categories, incoming.categories)
    update["external_ids"] = {**incoming.external_ids, **existing.external_ids}
    update["sources"] = _union(existing.sources, incoming.sources)
    return existing.model_copy(update=update)


def citation_key(paper: Paper, taken: set[str]) -> str:
    """A readable key like `vaswani2017attention`, made unique against `taken` by a suffix."""
    words = [w for w in normalise_title(paper.title).split() if w not in _KEY_STOPWORDS]
    words = words or normalise_title(paper.title).split() or ["paper"]
    # No year leaves the year out, as Better BibTeX keys do (`memoryr1`, not `memoryndr1`).
    year = str(paper.year) if paper.year else ""
    if paper.authors:
        surname = normalise_title(surname_of(paper.authors[0])).replace(" ", "") or "anon"
        base = f"{surname}{year}{words[0]}"
    else:
        base = f"{words[0]}{year}{words[1] if len(words) > 1 else ''}"
    base = base[:48]
    key, n = base, 0
    while key in taken:
        n += 1
        key = f"{base}{_suffix(n)}"
    return key


def comma_name(author: str, dotless_initials: bool = False) -> str:
    """'Vaswani A.' (Scopus: the surname, then initials) as 'Vaswani, A.', the form BibTeX
    reads, and with `dotless_initials` PubMed's 'Roe RB Jr' as 'Roe, RB Jr'; any other name as
    given."""
    parts = author.split()
    initials_end = len(parts)
    while initials_end > 1 and _NAME_SUFFIX.match(parts[initials_end - 1]):
        initials_end -= 1
    cut = initials_end
    while cut > 1 and (
        _INITIALS.match(parts[cut - 1])
        or dotless_initials
        and _DOTLESS_INITIALS.match(parts[cut - 1])
    ):
        cut -= 1
    if "," in author or cut == initials_end:
        return author
    return f"{' '.join(parts[:cut])}, {' '.join(parts[cut:])}"


def near_key(key: str, keys: list[str]) -> str | None:
    """The key among `keys` that a missing `key` most likely meant: the same but for case, or
    one a letter or two away among those sharing its first three (so a large store is quick)."""
    folded = key.lower()
    same = [k for k in keys if k.lower() == folded]
    candidates = [k for k in keys if k[:3].lower() == folded[:3]]
    near = same or difflib.get_close_matches(key, candidates, n=1, cutoff=0.85)
    return near[0] if near else None


def surname_of(author: str) -> str:
    """'Vaswani, Ashish', 'Ashish Vaswani' and 'Vaswani A.' all give 'Vaswani'."""
    author = comma_name(author.strip())
    if "," in author:
        return author.split(",", 1)[0]
    parts = author.split()
    return parts[-1] if parts else ""


def _suffix(n: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa: the suffixes BibTeX users expect for key collisions."""
    letters = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return letters


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))
