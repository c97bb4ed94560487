"""Drafting with citations, and the check every draft passes before anyone sees it.

Evidence is numbered from 1 and given to the model; the model cites by number (a schema limits
the numbers where the endpoint takes one, `[n]` markers in the text where not). The check then
drops every citation outside the evidence given, asks the judge whether each cited sentence is
supported by what it cites, and drops or flags the sentences that are not. Without a model, an
extractive digest of the evidence sentences stands in for the draft: faithful by construction.
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from assistant.citations import (
    DraftedSentence,
    as_drafted,
    draft_schema,
    marker,
    parse_marked_text,
)
from assistant.judges import Judge, make_judge
from assistant.llm import chat_session
from assistant.llm.budget import message_tokens, pack, usable_window
from assistant.llm.chat import ChatModel
from assistant.prompts import render
from assistant.search import Hit
from assistant.settings import Settings

Verdict = Literal["supported", "unsupported", "contradicted", "uncited"]
# Shown after a kept sentence the judge found unsupported (`--on-unsupported flag`).
UNSUPPORTED_FLAG = "(unsupported)"


@dataclass
class Writers:
    """Who drafts and who checks; both None in extractive mode (no model configured)."""

    chat: ChatModel | None
    judge: Judge | None


def writing_mode(chat: ChatModel | None, judge: Judge | None) -> Literal["llm", "extractive"]:
    """Extractive without a model; a model's draft is only returned after a judge checked it."""
    if chat is None:
        return "extractive"
    if judge is None:
        raise ValueError("a model's draft is only returned after a judge has checked it")
    return "llm"


def model_configured(settings: Settings) -> bool:
    """Is there an endpoint to draft with (a base URL, or a key for the OpenAI API)?"""
    return settings.llm.base_url is not None or settings.llm.api_key is not None


@contextmanager
def writers(settings: Settings, local: bool = False) -> Iterator[Writers]:
    """The chat model and judge a drafting command uses: the bundled model with `local`, the
    configured endpoint otherwise, or neither (extractive mode) when none is configured. An
    LLM judge uses the judge section's endpoint where it has one, else the drafting model;
    either way its calls count in the same usage."""
    if not local and not model_configured(settings):
        yield Writers(None, None)
        return
    with chat_session(settings, local) as chat:
        own_endpoint = any(
            getattr(settings.judge, name) is not None for name in ("base_url", "api_key", "model")
        )

        def judge_chat() -> ChatModel:
            if not own_endpoint:
                return chat
            return ChatModel(settings.judge_llm(), usage=chat.usage, section="judge")

        yield Writers(chat, make_judge(settings.judge, judge_chat))


@dataclass
class EvidenceItem:
    """One paper's evidence as the model sees it, under its number."""

    number: int
    hit: Hit

    @property
    def source(self) -> str:
        """What a citation of this item can rest on: the title and the evidence sentences."""
        return f"{self.hit.title}. " + " ".join(e.text for e in self.hit.evidence)

    @property
    def listing(self) -> str:
        year = self.hit.year if self.hit.year is not None else "n.d."
        return f"[{self.number}] {self.hit.title} ({year}): " + " ".join(
            e.text for e in self.hit.evidence
        )


def number_evidence(hits: Sequence[Hit]) -> list[EvidenceItem]:
    return [EvidenceItem(number, hit) for number, hit in enumerate(hits, 1)]


def fit_evidence(
    items: list[EvidenceItem], chat: ChatModel, prompt: str, **values: str
) -> list[EvidenceItem]:
    """The best-ranked items whose listings fit the model's window beside the prompt `prompt`
    (rendered with `values` and the evidence) and the longest answer allowed."""
    settings = chat.settings
    empty = render(prompt, evidence="", **values)
    budget = (
        usable_window(settings.context_window, settings.tokenizer_margin)
        - settings.max_output_tokens
        - message_tokens([{"role": "user", "content": empty}])
    )
    return pack(items, [item.listing + "\n" for item in items], budget).kept


def evidence_block(items: Sequence[EvidenceItem]) -> str:
    return "\n".join(item.listing for item in items)


def draft(
    chat: ChatModel, prompt: str, items: Sequence[EvidenceItem], max_sentences: int
) -> list[DraftedSentence]:
    """The model's draft: JSON with citations limited to the items' numbers where the endpoint
    takes a schema, text with `[n]` markers where it does not (`llm.structured_output =
    "text"`)."""
    keys = {item.hit.key: item.number for item in items}
    if chat.settings.structured_output == "text":
        marked = render("cite_with_markers")
        completion = chat.complete([{"role": "user", "content": f"{prompt}\n\n{marked}"}])
        return parse_marked_text(completion.text, keys)
    structured = chat.structured(
        [{"role": "user", "content": f"{prompt}\n\n{render('cite_with_schema')}"}],
        draft_schema([item.number for item in items], max_sentences),
    )
    return as_drafted(structured, keys)


def extract(items: Sequence[EvidenceItem]) -> list[DraftedSentence]:
    """A digest without a model: each paper's evidence sentences, each citing that paper."""
    return [
        DraftedSentence(sentence, [item.number])
        for item in items
        for evidence in item.hit.evidence
        for sentence in evidence.parts
    ]


class CheckedSentence(BaseModel):
    """A sentence as printed: the keys it cites and the judge's verdict on them."""

    text: str
    citations: list[str]
    numbers: list[int]  # reference numbers in the printed output
    verdict: Verdict
    score: float | None = None
    flagged: bool = False


class Reference(BaseModel):
    """A numbered entry of the reference list."""

    number: int
    key: str
    title: str
    year: int | None


class Verification(BaseModel):
    """What the check did to a draft."""

    sentences: int = 0  # drafted
    cited: int = 0  # with at least one valid citation
    supported: int = 0
    removed: int = 0  # dropped: unsupported, repeated, or citing only outside the evidence
    repeated: int = 0  # of those, sentences that repeat an earlier one word for word
    invalid_citations: int = 0  # markers pointing outside the evidence, all removed

    def line(self) -> str:
        line = (
            f"{self.sentences} sentences, {self.cited} cited, {self.supported} supported, "
            f"{self.removed} removed"
        )
        notes = []
        if self.repeated:
            notes.append(f"{self.repeated} repeated")
        if self.invalid_citations:
            notes.append(f"{self.invalid_citations} citations outside the evidence removed")
        return f"{line} ({'; '.join(notes)})" if notes else line

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


def check(
    drafted: Sequence[DraftedSentence],
    items: Sequence[EvidenceItem],
    judge: Judge | None,
    on_unsupported: Literal["drop", "flag"],
    numbers: CitationNumbers,
) -> Checked:
    """Drop sentences that repeat an earlier one (weak models loop); keep only citations of the
    evidence given; judge each cited sentence against what it cites (no judge: an extractive
    draft, supported by construction); drop or flag the rest."""
    given = {item.number: item for item in items}
    report = Verification(sentences=len(drafted))
    valid: list[tuple[DraftedSentence, list[EvidenceItem]]] = []
    seen: set[str] = set()
    for sentence in drafted:
        wording = " ".join(re.findall(r"\w+", sentence.text.lower()))
        if wording in seen:
            report.repeated += 1
            report.removed += 1
            continue
        seen.add(wording)
        cited = [given[n] for n in sentence.citations if n in given]
        report.invalid_citations += len(sentence.citations) - len(cited)
        if sentence.citations and not cited:
            report.removed += 1  # it cited only evidence that does not exist
            continue
        valid.append((sentence, cited))
    pairs = [(s.text, " ".join(item.source for item in cited)) for s, cited in valid if cited]
    verdicts = iter(judge.judge_all(pairs) if judge is not None else [])
    kept: list[CheckedSentence] = []
    for sentence, cited in valid:
        if not cited:
            kept.append(
                CheckedSentence(text=sentence.text, citations=[], numbers=[], verdict="uncited")
            )
            continue
        report.cited += 1
        verdict = next(verdicts) if judge is not None else None
        supported = verdict is None or verdict.supported
        report.supported += supported
        if not supported and on_unsupported == "drop":
            report.removed += 1
            continue
        kept.append(
            CheckedSentence(
                text=sentence.text,
                citations=[item.hit.key for item in cited],
                numbers=[numbers.number(item.hit) for item in cited],
                verdict=verdict.label if verdict is not None else "supported",
                score=verdict.score if verdict is not None else None,
                flagged=not supported,
            )
        )
    return Checked(kept, report)


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
        flag = f" {UNSUPPORTED_FLAG}" if sentence.flagged else ""
        if citations and text[-1:] in ".!?":
            text = f"{text[:-1]} {citations}{flag}{text[-1]}"
        elif citations or flag:
            text = f"{text} {citations}{flag}".rstrip()
        parts.append(text)
    return " ".join(parts)


def usage_json(chat: ChatModel | None) -> dict[str, Any]:
    if chat is None:
        return {"llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    return chat.usage.as_json()
