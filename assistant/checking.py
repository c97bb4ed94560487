"""The check every model draft passes before anyone reads it.

Each drafted sentence is judged against every evidence item the model was given, in one grid
(an `llm` judge lists each item once, in one request where the window allows):
- a citation of a number outside the evidence is removed; a sentence that cited nothing else is
  dropped (`invalid`);
- each valid citation is judged on its own: those that do not support the sentence are removed;
- a cited sentence left with no citation is re-cited to the item that supports it best, and an
  uncited sentence gets that citation attached, when some item supports it;
- a sentence no item supports is dropped (the default) or printed flagged and without citations
  (`flag`), and counted as contradicted when a cited item says the opposite, else unsupported.
So no printed citation fails its judge.
A sentence that repeats an earlier one word for word (weak models loop) is dropped first.
Without a judge (an extractive digest, quoted from the evidence) every citation stands.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from assistant.citations import DraftedSentence, marker
from assistant.drafting import EvidenceItem, draft, extract
from assistant.search import Hit
from assistant.verdicts import Judge, Label, Verdict

if TYPE_CHECKING:  # the openai SDK loads with the chat model, not with every command
    from assistant.llm.chat import ChatModel

OnUnsupported = Literal["drop", "flag"]
SentenceVerdict = Literal["supported", "unsupported", "contradicted"]
# Shown after a kept sentence that no evidence supports (`--on-unsupported flag`).
UNSUPPORTED_FLAG = "(unsupported)"
CONTRADICTED_FLAG = "(contradicted)"


class CheckedSentence(BaseModel):
    """A sentence as printed: the keys it cites and the judge's verdict on them."""

    text: str
    citations: list[str]
    numbers: list[int]  # reference numbers in the printed output
    verdict: SentenceVerdict
    score: float | None = None
    flagged: bool = False
    # keys a flagged sentence cited that did not support it; never printed as citations
    rejected_citations: list[str] = []


class Reference(BaseModel):
    """A numbered entry of the reference list."""

    number: int
    key: str
    title: str
    year: int | None


class Verification(BaseModel):
    """What the check did to a draft: every drafted sentence is counted once, as kept (as
    cited, re-cited, given a citation, or flagged) or dropped (for one reason)."""

    sentences: int = 0  # drafted
    drafted_citations: int = 0  # citations the model wrote, valid or not
    invalid_citations: int = 0  # of those, pointing outside the evidence (all removed)
    kept_as_cited: int = 0  # printed with the citations of theirs that support them
    citations_removed: int = 0  # valid citations judged not to support their sentence
    recited: int = 0  # all their citations failed; printed citing the item that supports them
    attached: int = 0  # written without a citation; printed citing the item that supports them
    flagged: int = 0  # supported by nothing, printed marked (`--on-unsupported flag`)
    unsupported: int = 0  # dropped: supported by nothing
    contradicted: int = 0  # dropped: a cited item says the opposite
    invalid: int = 0  # dropped: cited only numbers outside the evidence
    repeated: int = 0  # dropped: repeat an earlier sentence word for word

    @property
    def supported(self) -> int:
        """Sentences printed with citations that support them."""
        return self.kept_as_cited + self.recited + self.attached

    @property
    def removed(self) -> int:
        """Sentences dropped, for any reason."""
        return self.unsupported + self.contradicted + self.invalid + self.repeated

    def line(self) -> str:
        """The one-line summary printed after a checked text."""
        kept = [
            f"{self.kept_as_cited} kept as cited",
            f"{self.recited} re-cited",
            f"{self.attached} given a citation",
        ]
        if self.flagged:
            kept.append(f"{self.flagged} flagged")
        dropped = [
            f"{count} {name}"
            for name, count in (
                ("unsupported", self.unsupported),
                ("contradicted", self.contradicted),
                ("citing only evidence that does not exist", self.invalid),
                ("repeated", self.repeated),
            )
            if count
        ]
        line = f"{self.sentences} sentences: {', '.join(kept)}, {self.removed} removed"
        line += f" ({', '.join(dropped)})" if dropped else ""
        removed = self.citations_removed + self.invalid_citations
        return line + (f"; {removed} citations removed" if removed else "")

    def as_json(self) -> dict[str, int]:
        """Every count, the derived ones included."""
        return {**self.model_dump(), "supported": self.supported, "removed": self.removed}

    def add(self, other: "Verification") -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Checked:
    sentences: list[CheckedSentence]
    verification: Verification


class CitationNumbers:
    """Printed reference numbers, given in order of first citation; shared across paragraphs."""

    def __init__(self) -> None:
        self.by_key: dict[str, int] = {}
        self.hits: dict[str, Hit] = {}

    def number(self, hit: Hit) -> int:
        if hit.key not in self.by_key:
            self.by_key[hit.key] = len(self.by_key) + 1
            self.hits[hit.key] = hit
        return self.by_key[hit.key]

    def references(self) -> list[Reference]:
        return [
            Reference(number=n, key=key, title=self.hits[key].title, year=self.hits[key].year)
            for key, n in self.by_key.items()
        ]


@dataclass
class _Candidate:
    """A drafted sentence past the repeat and marker checks, with its valid citations as
    positions in the evidence list."""

    text: str
    cited: list[int]


def draft_and_check(
    chat: "ChatModel | None",
    judge: Judge | None,
    prompt: str,
    items: Sequence[EvidenceItem],
    max_sentences: int,
    on_unsupported: OnUnsupported,
    numbers: CitationNumbers,
) -> Checked:
    """The one path from evidence to printable sentences, for `ask` and `related-work` alike:
    the model drafts from `prompt` (without a model, the evidence is quoted), then the draft is
    checked. A model's draft is never returned unjudged."""
    if chat is None:
        return check(extract(items), items, None, on_unsupported, numbers)
    if judge is None:
        raise ValueError("a model's draft is only returned after a judge has checked it")
    drafted = draft(chat, prompt, items, max_sentences)
    return check(drafted, items, judge, on_unsupported, numbers)


def check(
    drafted: Sequence[DraftedSentence],
    items: Sequence[EvidenceItem],
    judge: Judge | None,
    on_unsupported: OnUnsupported,
    numbers: CitationNumbers,
) -> Checked:
    """Judge every drafted sentence against the evidence and keep only what it supports (see
    the module's docstring); `judge` None means an extractive draft, supported as quoted."""
    report = Verification(sentences=len(drafted))
    candidates = _valid_candidates(drafted, items, report)
    if judge is None:  # quoted from the items they cite, and only from those
        grid = [
            [_QUOTED if i in c.cited else _NOT_QUOTED for i in range(len(items))]
            for c in candidates
        ]
    else:
        grid = judge.judge_grid([c.text for c in candidates], [item.source for item in items])
    kept = []
    for candidate, row in zip(candidates, grid, strict=True):
        sentence = _decide(candidate, row, items, on_unsupported, numbers, report)
        if sentence is not None:
            kept.append(sentence)
    return Checked(kept, report)


_QUOTED = Verdict(label="supported", score=1.0)
_NOT_QUOTED = Verdict(label="unsupported", score=0.0)


def _valid_candidates(
    drafted: Sequence[DraftedSentence], items: Sequence[EvidenceItem], report: Verification
) -> list[_Candidate]:
    """Drafted sentences less repeats and citations outside the evidence; a sentence that cited
    only such numbers is dropped."""
    position = {item.number: i for i, item in enumerate(items)}
    seen: set[str] = set()
    candidates = []
    for sentence in drafted:
        report.drafted_citations += len(sentence.citations)
        cited = [position[n] for n in sentence.citations if n in position]
        report.invalid_citations += len(sentence.citations) - len(cited)
        wording = " ".join(re.findall(r"\w+", sentence.text.lower()))
        if wording in seen:
            report.repeated += 1
        elif sentence.citations and not cited:
            report.invalid += 1
        else:
            candidates.append(_Candidate(sentence.text, cited))
        seen.add(wording)
    return candidates


def _decide(
    candidate: _Candidate,
    row: list[Verdict],
    items: Sequence[EvidenceItem],
    on_unsupported: OnUnsupported,
    numbers: CitationNumbers,
    report: Verification,
) -> CheckedSentence | None:
    """One sentence's fate from its row of verdicts; None when it is dropped."""
    supporting = [i for i in candidate.cited if row[i].supported]
    report.citations_removed += len(candidate.cited) - len(supporting)
    if supporting:
        report.kept_as_cited += 1
    elif (best := _best_support(row)) is not None:
        supporting = [best]
        report.recited += bool(candidate.cited)
        report.attached += not candidate.cited
    if supporting:
        return _printed(candidate.text, supporting, row, items, numbers)
    label: Label = (
        "contradicted"
        if any(row[i].label == "contradicted" for i in candidate.cited)
        else "unsupported"
    )
    if on_unsupported == "drop":
        setattr(report, label, getattr(report, label) + 1)
        return None
    report.flagged += 1
    return CheckedSentence(
        text=candidate.text,
        citations=[],
        numbers=[],
        verdict=label,
        score=max((row[i].score for i in candidate.cited), default=None),
        flagged=True,
        rejected_citations=[items[i].hit.key for i in candidate.cited],
    )


def _best_support(row: list[Verdict]) -> int | None:
    """The evidence position whose verdict supports the sentence with the highest score."""
    supported = [i for i, verdict in enumerate(row) if verdict.supported]
    return max(supported, key=lambda i: row[i].score) if supported else None


def _printed(
    text: str,
    cited: list[int],
    row: list[Verdict],
    items: Sequence[EvidenceItem],
    numbers: CitationNumbers,
) -> CheckedSentence:
    """A supported sentence as printed, citing the items at `cited`."""
    return CheckedSentence(
        text=text,
        citations=[items[i].hit.key for i in cited],
        numbers=[numbers.number(items[i].hit) for i in cited],
        verdict="supported",
        score=min(row[i].score for i in cited),
    )


def prose(sentences: Sequence[CheckedSentence], cite: str = "markdown") -> str:
    """Sentences joined into a paragraph, each followed by its citations: `[1][2]` in
    Markdown, `\\cite{key1,key2}` in LaTeX."""
    parts = []
    for sentence in sentences:
        text = sentence.text
        citations = ""
        if sentence.citations:
            citations = (
                f"\\cite{{{','.join(sentence.citations)}}}"
                if cite == "latex"
                else marker(sentence.numbers)
            )
        flag = ""
        if sentence.flagged:
            flag = CONTRADICTED_FLAG if sentence.verdict == "contradicted" else UNSUPPORTED_FLAG
        suffix = " ".join(part for part in (citations, flag) if part)
        if suffix and text[-1:] in ".!?":
            text = f"{text[:-1]} {suffix}{text[-1]}"
        elif suffix:
            text = f"{text} {suffix}"
        parts.append(text)
    return " ".join(parts)
