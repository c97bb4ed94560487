"""Check a draft's citations: each (sentence, cited key) pair judged against the paper's text.

A key with no paper to judge against (missing from the library, or a .bib entry without an
abstract) is reported with its reason, never judged and never skipped. All pairs of a draft go
to the judge in one `judge_all` call, and so do all the candidates of `suggest`.
"""

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.chunking import split_sentences
from assistant.draftcheck import read_plain
from assistant.draftcheck.library import cited_papers, stands_in
from assistant.draftcheck.sentences import PlainText, citing_sentences, is_file, says_nothing
from assistant.errors import DraftError
from assistant.lexical import terms
from assistant.papers import Paper
from assistant.readers import detect_format
from assistant.search import Searcher
from assistant.settings import Settings
from assistant.verdicts import FUNCTION_WORDS, Judge, Label, Verdict

# `litreview check` exits with this when a citation is unsupported, contradicted or unresolved.
EXIT_WEAK_CITATIONS = 4
# Citations judged at a time: progress is told between batches (an llm judge packs each
# batch's pairs into as few requests as its window allows).
JUDGE_BATCH = 256
NO_SENTENCE = "nothing to judge: the citation has no sentence of its own"


class Suggestion(BaseModel):
    """A library paper the judge finds supporting a sentence that its citation does not."""

    key: str
    title: str
    score: float


class CheckedPair(BaseModel):
    """One citing sentence and one key it cites, with the judge's verdict or why none."""

    file: str
    line: int
    sentence: str
    key: str
    verdict: Label | None = None
    score: float | None = None
    evidence: str | None = None  # the cited paper's sentence closest to this one
    reason: str | None = None  # why the pair was not judged
    suggestions: list[Suggestion] | None = None

    @property
    def weak(self) -> bool:
        """Not shown to be supported: judged otherwise, or not judged at all."""
        return self.verdict != "supported"


class CheckReport(BaseModel):
    """Every (sentence, key) pair of a draft, in draft order."""

    pairs: list[CheckedPair]
    sentences: int
    # the .bib files read (--bib, or those the draft names), and those it names that are missing
    bibliographies: list[str] = []
    missing_bibliographies: list[str] = []
    missing_inputs: list[str] = []  # files the draft inputs that are not there: not checked

    def summary(self) -> dict[str, int]:
        """Counts by verdict, plus the pairs that could not be judged."""
        counts = {"sentences": self.sentences, "pairs": len(self.pairs)}
        for label in ("supported", "unsupported", "contradicted"):
            counts[label] = sum(1 for pair in self.pairs if pair.verdict == label)
        counts["not_judged"] = sum(1 for pair in self.pairs if pair.verdict is None)
        return counts

    @property
    def exit_status(self) -> int:
        """0 when every citation is supported, EXIT_WEAK_CITATIONS otherwise."""
        return EXIT_WEAK_CITATIONS if any(pair.weak for pair in self.pairs) else 0

    def as_json(self) -> dict[str, Any]:
        """`check --json`: the pairs (suggestions only when asked for) and the summary."""
        pairs = [pair.model_dump(exclude_none=False) for pair in self.pairs]
        for pair in pairs:
            if pair["suggestions"] is None:
                del pair["suggestions"]
        return {
            "pairs": pairs,
            "summary": self.summary(),
            "bibliographies": self.bibliographies,
            "missing_bibliographies": self.missing_bibliographies,
            "missing_inputs": self.missing_inputs,
        }


def check_draft(
    draft: Path,
    settings: Settings,
    judge: Judge,
    bib: Path | None = None,
    searcher: Callable[[], Searcher] | None = None,
    k: int = 5,
    progress: Callable[[int, int], None] | None = None,
    named_bibliographies: Callable[[list[Path], list[Path]], None] | None = None,
    author_year: bool = False,
) -> CheckReport:
    """Judge each citation of `draft`; given a `searcher` (opened once the .bib is stored),
    suggest the papers among the `k` it retrieves that support each weak one's sentence.
    `progress(done, total)` hears of the citations judged. Without `bib`, the .bib files the
    draft names are read, those that are there; `named_bibliographies(read, missing)` hears
    of them before anything else can fail. With `author_year`, typed author-year citations
    are read too, each reported under the key of the stored paper it resolves to."""
    if bib is not None and not bib.is_file():
        raise DraftError(f"No such .bib file: {bib}. Pass --bib with your bibliography.")
    if bib is not None and detect_format(bib) is None:
        raise DraftError(
            f"{bib} is no bibliography check reads: pass --bib with a .bib (BibTeX or biblatex) "
            "or CSL JSON file."
        )
    text = read_plain(draft, author_year)
    sentences = citing_sentences(text)
    bibs, missing = _bibliographies(text, bib, named_bibliographies)
    pairs = [
        CheckedPair(file=s.file, line=s.line, sentence=s.sentence, key=key)
        for s in sentences
        for key in s.keys
    ]
    keys = [pair.key for pair in pairs if pair.key not in text.unread]
    papers = cited_papers(keys, settings, bibs, text.entries, text.references) if keys else {}
    papers |= text.unread
    judged, sources = _with_papers(pairs, papers)
    verdicts = _judged(
        judge,
        [(pair.sentence, _source_text(paper)) for pair, paper in zip(judged, sources, strict=True)],
        progress,
    )
    evidence = closest_sentences([pair.sentence for pair in judged], sources)
    for pair, verdict, quote in zip(judged, verdicts, evidence, strict=True):
        pair.verdict, pair.score, pair.evidence = verdict.label, round(verdict.score, 4), quote
    weak = [pair for pair in judged if pair.weak]
    if searcher is not None and weak:
        _suggest(weak, searcher(), judge, k)
    return CheckReport(
        pairs=pairs,
        sentences=len(sentences),
        bibliographies=[str(path) for path in bibs],
        missing_bibliographies=[str(path) for path in missing],
        missing_inputs=[str(path) for path in dict.fromkeys(text.missing_inputs)],
    )


def _bibliographies(
    text: PlainText, bib: Path | None, told: Callable[[list[Path], list[Path]], None] | None
) -> tuple[list[Path], list[Path]]:
    """The bibliographies to read (`bib`, else those the draft names that are there) and those
    the draft names that are not; `told(read, missing)` hears of the draft's."""
    named = [] if bib is not None else list(dict.fromkeys(text.bibliographies))
    missing = [path for path in named if not is_file(path)]
    present = [path for path in named if path not in missing]
    if named and told:
        told(present, missing)
    return ([bib] if bib is not None else present), missing


def _with_papers(
    pairs: list[CheckedPair], papers: dict[str, Paper | str]
) -> tuple[list[CheckedPair], list[Paper]]:
    """The pairs that have a paper to judge against and a sentence to judge, and their papers;
    each other pair gets the reason it has none. A typed or numbered citation is shown under
    the key of the paper it names."""
    judged: list[CheckedPair] = []
    sources: list[Paper] = []
    for pair in pairs:
        found = papers[pair.key]
        if not isinstance(found, Paper):
            pair.reason = found
            continue
        if stands_in(pair.key):
            pair.key = found.key or pair.key
        if says_nothing(pair.sentence):
            pair.reason = NO_SENTENCE
            continue
        judged.append(pair)
        sources.append(found)
    return judged, sources


def _judged(
    judge: Judge, pairs: list[tuple[str, str]], progress: Callable[[int, int], None] | None
) -> list[Verdict]:
    """The judge's verdicts, JUDGE_BATCH pairs at a time so that progress can be told."""
    verdicts: list[Verdict] = []
    if progress and pairs:
        progress(0, len(pairs))
    for start in range(0, len(pairs), JUDGE_BATCH):
        verdicts += judge.judge_all(pairs[start : start + JUDGE_BATCH])
        if progress:
            progress(len(verdicts), len(pairs))
    return verdicts


def _source_text(paper: Paper | str) -> str:
    assert isinstance(paper, Paper)
    return f"{paper.title}. {paper.abstract}"


def closest_sentences(claims: Sequence[str], papers: Sequence[Paper]) -> list[str]:
    """For each claim, its paper's abstract sentence sharing the most content words with it:
    the cosine of their stemmed word sets. (MiniLM cosines pick much the same sentences but
    embedding every sentence again, after the judge did, doubled the time of a check.)"""
    function_words = set(terms([FUNCTION_WORDS])[0])
    closest = []
    for claim, paper in zip(claims, papers, strict=True):
        sentences = paper.sentences or split_sentences(paper.abstract) or [paper.abstract]
        claim_terms, *sentence_terms = (set(t) - function_words for t in terms([claim, *sentences]))
        overlaps = [
            len(claim_terms & words) / math.sqrt(len(words) or 1) for words in sentence_terms
        ]
        closest.append(sentences[overlaps.index(max(overlaps))])
    return closest


def _suggest(weak: list[CheckedPair], searcher: Searcher, judge: Judge, k: int) -> None:
    """Give each weak pair the retrieved papers (other than its own) that the judge finds
    supporting its sentence, best first."""
    candidates: list[tuple[CheckedPair, Paper]] = []
    for pair in weak:
        keys = [hit.key for hit in searcher.search(pair.sentence, k).hits if hit.key != pair.key]
        candidates += [(pair, paper) for paper in searcher.store.papers_by_key(keys)]
        pair.suggestions = []
    verdicts = judge.judge_all([(pair.sentence, _source_text(paper)) for pair, paper in candidates])
    for (pair, paper), verdict in zip(candidates, verdicts, strict=True):
        if verdict.supported and pair.suggestions is not None and paper.key:
            pair.suggestions.append(
                Suggestion(key=paper.key, title=paper.title, score=round(verdict.score, 4))
            )
    for pair in weak:
        if pair.suggestions:
            pair.suggestions.sort(key=lambda s: -s.score)
