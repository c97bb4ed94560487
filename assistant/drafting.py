"""Drafting with citations: the evidence numbered for the model, and its draft read back.

Evidence is numbered from 1 and given to the model; the model cites by number (a schema limits
the numbers where the endpoint takes one, `[n]` markers in the text where not). Every draft then
passes `assistant.checking.check` before anyone sees it. Without a model, an extractive digest
of the evidence sentences stands in for the draft: faithful by construction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from assistant.citations import DraftedSentence, as_drafted, draft_schema, parse_marked_text
from assistant.judges import Judge
from assistant.llm.budget import message_tokens, pack, usable_window
from assistant.llm.chat import ChatModel
from assistant.prompts import render
from assistant.search import Hit


def writing_mode(chat: ChatModel | None, judge: Judge | None) -> Literal["llm", "extractive"]:
    """Extractive without a model; a model's draft is only returned after a judge checked it."""
    if chat is None:
        return "extractive"
    if judge is None:
        raise ValueError("a model's draft is only returned after a judge has checked it")
    return "llm"


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


def usage_json(chat: ChatModel | None) -> dict[str, Any]:
    if chat is None:
        return {"llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    return chat.usage.as_json()
