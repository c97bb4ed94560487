"""Sentence-aware chunks under a token budget, each naming the sentences it covers.

By default a chunk is one sentence: the vector search then scores, and later cites, the very
sentence that matches a query.
"""

import re
from dataclasses import dataclass

from assistant.papers import Paper
from assistant.settings import ChunkingSettings
from assistant.tokens import encoding

# A sentence ends at . ! or ? followed by space and a capital, digit, quote or bracket,
# unless the period closes one of these abbreviations.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "Fig.", "Figs.", "Eq.", "cf.", "approx.", "Dr.")
# Abbreviations that only a whole word is ("p. 4", not "group."): a page, a chapter, a volume
_WORD_ABBREVIATIONS = frozenset(("p.", "pp.", "ch.", "chap.", "sec.", "vol."))
# Sentences run together ("knowledge consistency.Existing models"): an end mark straight before
# a capitalised word. Whether it ends a sentence depends on the text around it (_run_together).
_JOINED = re.compile(r"[.!?](?=[A-Z][a-z])")
# A dot between letters elsewhere in the same word: a dotted name (torch.nn.Module, U.S.Army).
_DOTTED = re.compile(r"[A-Za-z](?=[.!?][A-Za-z])")
# The word around a position: the non-space run before it, and the one from it on.
_WORD_HEAD = re.compile(r"\S*\Z")
_WORD_TAIL = re.compile(r"\S*")
_MIN_SENTENCE_BUDGET = 32


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive abstract sentences, [sentence_start, sentence_end), of one paper."""

    paper_key: str
    content_hash: str
    index: int
    text: str
    sentence_start: int
    sentence_end: int
    token_count: int

    @property
    def id(self) -> str:
        """Stable id: the same text chunked the same way always gives the same ids."""
        return f"{self.paper_key}#{self.content_hash}#{self.index}"


def split_sentences(text: str) -> list[str]:
    """Sentences of an abstract, kept whole across common abbreviations, decimals and dotted
    names, and split where a sentence runs into the next without a space."""
    sentences: list[str] = []
    for part in _run_together(text.strip()):
        for piece in _BOUNDARY.split(part):
            if piece and sentences and _ends_on_abbreviation(sentences[-1]):
                sentences[-1] = f"{sentences[-1]} {piece}"
            elif piece:
                sentences.append(piece)
    return sentences


def _ends_on_abbreviation(sentence: str) -> bool:
    last_word = sentence.rsplit(maxsplit=1)[-1].lstrip("([")
    return sentence.endswith(_ABBREVIATIONS) or last_word in _WORD_ABBREVIATIONS


def _run_together(text: str) -> list[str]:
    """`text` cut after each end mark that closes a sentence with no space after it."""
    cuts = [m.end() for m in _JOINED.finditer(text) if _ends_sentence(text, m.start())]
    return [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def _ends_sentence(text: str, mark: int) -> bool:
    """Whether the end mark at `mark`, followed by a capitalised word, ends a sentence."""
    before = text[mark - 1] if mark else " "
    # after a word, number or bracket; after capitals only for an acronym (AACR.This), not an
    # initial (J.Smith) or a gene name (H2A.Z, which _JOINED already passes over)
    closes = (
        before.islower()
        or before.isdigit()
        or before in ")]%\"'"
        or (before.isupper() and mark >= 2 and text[mark - 2].isupper())
    )
    head = _WORD_HEAD.search(text, 0, mark)
    tail = _WORD_TAIL.match(text, mark)
    word = text[head.start() if head else mark : tail.end() if tail else mark]
    # a path or URL (github.com/Org/Repo.Name) or a dotted name is one word, not two sentences
    return (
        closes
        and not text[: mark + 1].endswith(_ABBREVIATIONS)
        and "/" not in word
        and "@" not in word
        and len(_DOTTED.findall(word)) <= 1
    )


def sentences_of(paper: Paper) -> list[str]:
    """The paper's abstract sentences: as its source gave them, else split here."""
    return paper.sentences or split_sentences(paper.abstract)


def embedding_text(title: str, chunk_text: str) -> str:
    """What the embedder sees for a chunk: the title gives every chunk its topic."""
    return f"{title}. {chunk_text}"


def chunk_paper(paper: Paper, settings: ChunkingSettings) -> list[Chunk]:
    """Chunks of `paper`: greedy runs of whole sentences, at most `max_sentences` and
    `max_tokens` each; an oversized sentence is cut by tokens."""
    assert paper.key, "papers are chunked after the store has given them a key"
    enc = encoding()
    budget = max(settings.max_tokens - len(enc.encode_ordinary(paper.title)), _MIN_SENTENCE_BUDGET)
    sentences = sentences_of(paper)
    tokens = [enc.encode_ordinary(s) for s in sentences]
    spans: list[tuple[int, int, str, int]] = []
    start = 0
    while start < len(sentences):
        end, used = start, 0
        while (
            end < len(sentences)
            and end - start < settings.max_sentences
            and used + len(tokens[end]) <= budget
        ):
            used += len(tokens[end])
            end += 1
        if end == start:  # one sentence alone is over budget: cut it into token windows
            for offset in range(0, len(tokens[start]), budget):
                window = tokens[start][offset : offset + budget]
                spans.append((start, start + 1, enc.decode(window), len(window)))
            start += 1
            continue
        spans.append((start, end, " ".join(sentences[start:end]), used))
        if end == len(sentences):
            break
        start = max(end - settings.overlap_sentences, start + 1)
    content_hash = paper.content_hash()
    return [
        Chunk(paper.key, content_hash, i, text, first, last, count)
        for i, (first, last, text, count) in enumerate(spans)
    ]
