"""The lexical half of hybrid search: a BM25 index (bm25s) over the store's papers.

Local Chroma has no BM25, so the index lives beside the store (in `<store>/lexical/`, or in the
user cache for a Chroma server) with each paper's key and year. It records the store's write
generation and is rebuilt when the store has been written since. One document per paper (title
and abstract) ranked better than one per chunk on SciFact's training claims (see BENCHMARKS.md).
"""

import hashlib
import json
import math
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from assistant.settings import StoreSettings, user_cache_dir

INDEX_FORMAT = 2
TABLE_FILE = "papers.json"


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(texts: list[str]) -> list[list[str]]:
    """Lower-cased, Snowball-stemmed terms of each text. Stop words are kept: BM25's IDF already
    discounts them, and removing them cost nDCG on SciFact's training claims."""
    import bm25s

    return bm25s.tokenize(  # type: ignore[no-any-return]
        texts,
        stopwords=None,
        stemmer=_stemmer().stemWords,
        return_ids=False,
        show_progress=False,
    )


def index_folder(settings: StoreSettings) -> Path:
    """Where the lexical index of a store lives (for a server: each client machine's own)."""
    if settings.chroma_url:
        digest = hashlib.sha256(settings.chroma_url.encode()).hexdigest()[:16]
        return user_cache_dir() / "lexical" / digest
    return settings.path / "lexical"


def rebuild_lock(folder: Path) -> FileLock:
    """The lock a process holds while it rebuilds the index in `folder`."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(folder.with_name(f".{folder.name}.lock"))


def _scratch_prefix(folder: Path) -> str:
    """Names of a rebuild's temporary folders beside `folder`: staging, and the one replaced."""
    return f".{folder.name}-"


@dataclass(frozen=True)
class PaperTable:
    """Per paper, in index order: key and year (None when unknown)."""

    keys: list[str]
    years: list[int | None]


class LexicalIndex:
    """BM25 over papers (title and abstract), with the paper table beside it."""

    def __init__(self, retriever: Any, table: PaperTable) -> None:
        self.retriever = retriever
        self.table = table
        # document frequency of each term: the length of its column in the CSC score matrix
        self._document_frequency = np.diff(np.asarray(retriever.scores["indptr"]))

    @classmethod
    def build(
        cls, folder: Path, table: PaperTable, texts: list[str], generation: str
    ) -> "LexicalIndex":
        """Index `texts` and swap them in for the saved index; the caller holds `rebuild_lock`.

        A reader sees the old index, the new one, or none (and then waits for the lock).
        """
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(terms(texts), show_progress=False)
        prefix = _scratch_prefix(folder)
        for leftover in folder.parent.glob(f"{prefix}*"):  # of rebuilds killed midway
            shutil.rmtree(leftover, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=prefix, dir=folder.parent))
        retriever.save(str(staging), show_progress=False)
        saved = {
            "format": INDEX_FORMAT,
            "generation": generation,
            # Unique per build: `load` reads it twice to notice a swap in the middle.
            "build": uuid.uuid4().hex,
            "keys": table.keys,
            "years": table.years,
        }
        (staging / TABLE_FILE).write_text(json.dumps(saved), encoding="utf-8")
        # A fresh empty folder to move the old index onto: rename may replace an empty folder.
        old = Path(tempfile.mkdtemp(prefix=prefix, dir=folder.parent))
        if folder.exists():
            os.replace(folder, old)
        os.replace(staging, folder)
        shutil.rmtree(old, ignore_errors=True)
        return cls(retriever, table)

    @classmethod
    def load(cls, folder: Path, generation: str) -> "LexicalIndex | None":
        """The saved index, or None when it is missing, of another format, stale, or was
        swapped for another while being read."""
        import bm25s

        try:
            saved = json.loads((folder / TABLE_FILE).read_text(encoding="utf-8"))
            if saved.get("format") != INDEX_FORMAT or saved.get("generation") != generation:
                return None
            retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False, verbosity=0)
            again = json.loads((folder / TABLE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if again.get("build") != saved.get("build"):
            return None
        return cls(retriever, PaperTable(saved["keys"], saved["years"]))

    def search(self, query_terms: list[str], depth: int) -> list[tuple[int, float]]:
        """(row, BM25 score) of up to `depth` papers sharing a term with the query, best first."""
        known = [term for term in query_terms if term in self.retriever.vocab_dict]
        if not known or not self.table.keys:
            return []
        depth = min(depth, len(self.table.keys))
        rows, scores = self.retriever.retrieve([known], k=depth, show_progress=False, n_threads=1)
        return [(int(row), float(score)) for row, score in zip(rows[0], scores[0]) if score > 0]

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a stemmed term (0 for an unknown one)."""
        column = self.retriever.vocab_dict.get(term)
        if column is None:
            return 0.0
        total = len(self.table.keys)
        frequency = float(self._document_frequency[column])
        return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))
