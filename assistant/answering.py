"""`ask`: a cited answer to a question, every citation checked before it is returned.

One model call drafts (none in extractive mode); an LLM judge adds one batched call.
"""

from typing import Any, Literal

from pydantic import BaseModel

from assistant.checking import (
    CheckedSentence,
    CitationNumbers,
    OnUnsupported,
    Reference,
    Verification,
    draft_and_check,
    prose,
)
from assistant.digest import QuotedPaper, group_quotes, markdown_digest
from assistant.drafting import (
    evidence_block,
    fit_evidence,
    number_evidence,
    usage_json,
    writing_mode,
)
from assistant.judges import Judge
from assistant.llm.chat import ChatModel
from assistant.prompts import render
from assistant.search import Filters, Searcher

MAX_SENTENCES = 8  # of an answer


class Answer(BaseModel):
    """A checked answer; `abstained` when retrieval found nothing relevant to answer from."""

    question: str
    answer: str
    sentences: list[CheckedSentence]
    references: list[Reference]
    abstained: bool
    mode: Literal["llm", "extractive"]
    verification: Verification
    usage: dict[str, Any]
    # what the model was given: each evidence key with the text a citation of it rests on
    evidence: dict[str, str] = {}
    # without a model: the quoted evidence grouped by paper, which `answer` lists
    digest: list[QuotedPaper] = []

    def as_json(self) -> dict[str, Any]:
        """What `ask --json` prints."""
        return {
            "answer": self.answer,
            "sentences": [
                {
                    "text": s.text,
                    "citations": s.citations,
                    "verdict": s.verdict,
                    "score": s.score,
                    "flagged": s.flagged,
                    "rejected_citations": s.rejected_citations,
                }
                for s in self.sentences
            ],
            "references": [r.model_dump() for r in self.references],
            "abstained": self.abstained,
            "mode": self.mode,
            "verification": self.verification.as_json(),
            "usage": self.usage,
            "evidence": list(self.evidence),
        }

    def text(self) -> str:
        """What `ask` prints: the answer, its numbered references, and what the check did."""
        lines = [self.answer or "(No sentence of the draft survived the check.)", ""]
        lines += [
            f"[{r.number}] {r.title} ({r.year if r.year is not None else 'n.d.'}), {r.key}"
            for r in self.references
        ]
        lines += ["", f"Checked: {self.verification.line()}."]
        return "\n".join(lines) + "\n"


def ask(
    question: str,
    searcher: Searcher,
    chat: ChatModel | None,
    judge: Judge | None,
    filters: Filters = Filters(),
    on_unsupported: OnUnsupported = "drop",
) -> Answer:
    """Retrieve, draft (or extract, without a model), check, and number the references.
    A model's draft needs a judge; an extractive one is supported by construction."""
    mode = writing_mode(chat, judge)
    result = searcher.search(question, searcher.settings.drafting.papers, filters)
    if not result.relevant:
        return Answer(
            question=question,
            answer="",
            sentences=[],
            references=[],
            abstained=True,
            mode=mode,
            verification=Verification(),
            usage=usage_json(chat),
        )
    items = number_evidence(result.hits)
    prompt = ""
    if chat is not None:
        limit = str(MAX_SENTENCES)
        items = fit_evidence(items, chat, "ask", question=question, max_sentences=limit)
        prompt = render(
            "ask", question=question, max_sentences=limit, evidence=evidence_block(items)
        )
    numbers = CitationNumbers()
    checked = draft_and_check(chat, judge, prompt, items, MAX_SENTENCES, on_unsupported, numbers)
    digest = group_quotes(checked.sentences, numbers) if chat is None else []
    return Answer(
        question=question,
        answer=markdown_digest(digest) if digest else prose(checked.sentences),
        digest=digest,
        sentences=checked.sentences,
        references=numbers.references(),
        abstained=False,
        mode=mode,
        verification=checked.verification,
        usage=usage_json(chat),
        evidence={item.hit.key: item.source for item in items},
    )
