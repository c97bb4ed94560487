"""`litreview eval suite`: `ask` over a question set, scored per question and overall.

A question's `gold` lists the papers (keys or titles) that answer it; an empty list means the
corpus cannot answer it, and the right output is an abstention. Per question: recall@10 of the
gold papers in the ranking (no relevance gate), whether `ask` abstained when it should (and only
then), how many printed citations are valid (a paper of the store among the answer's
references), the share of cited sentences the judge found supported, and the model's calls and
tokens.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.answering import ask
from assistant.drafting import Writers
from assistant.errors import LitreviewError
from assistant.evaluation.checkpoint import Checkpoint
from assistant.evaluation.files import json_lines
from assistant.evaluation.metrics import recall_at
from assistant.papers import normalise_title
from assistant.search import Searcher

Progress = Callable[[int, int], None]
RECALL_DEPTH = 10


class SuiteQuestion(BaseModel):
    """One line of a question set."""

    id: str
    question: str
    gold: list[str]


class QuestionResult(BaseModel):
    """How `ask` did on one question."""

    id: str
    question: str
    answerable: bool
    abstained: bool
    abstention_correct: bool
    recall_at_10: float | None  # None for a question the corpus cannot answer
    citations: int
    valid_citations: int
    cited_sentences: int
    supported_sentences: int
    repeated_sentences: int = 0  # drafted twice, dropped before judging (0 in older checkpoints)
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    answer: str


class SuiteReport(BaseModel):
    """Overall figures and every question's result."""

    recall_at_10: float
    abstention_accuracy: float
    citation_validity: float
    supported_rate: float
    questions: list[QuestionResult]

    def as_json(self) -> dict[str, Any]:
        """What `eval suite --json` prints."""
        return {
            "recall@10": round(self.recall_at_10, 4),
            "abstention_accuracy": round(self.abstention_accuracy, 4),
            "citation_validity": round(self.citation_validity, 4),
            "supported_rate": round(self.supported_rate, 4),
            "questions": [q.model_dump() for q in self.questions],
        }


def read_questions(path: Path) -> list[SuiteQuestion]:
    """A JSONL question set: `{"id", "question", "gold": [keys or titles]}` per line."""
    questions = []
    for number, record in json_lines(path):
        try:
            questions.append(SuiteQuestion.model_validate(record))
        except ValidationError as exc:
            raise LitreviewError(
                f'{path}:{number}: expected {{"id", "question", "gold": [...]}} '
                f"({exc.errors()[0]['msg']})."
            ) from None
    return questions


def gold_keys(questions: list[SuiteQuestion], searcher: Searcher) -> dict[str, set[str]]:
    """Each question's gold papers as store keys; a gold entry the store lacks is an error."""
    papers = searcher.store.papers()
    keys = {paper.key or "" for paper in papers}
    by_title = {normalise_title(paper.title): paper.key or "" for paper in papers}
    resolved = {}
    for question in questions:
        found = set()
        for entry in question.gold:
            key = entry if entry in keys else by_title.get(normalise_title(entry))
            if key is None:
                raise LitreviewError(
                    f"Question {question.id!r}: gold paper {entry!r} is not in the store at "
                    f"{searcher.store.location} (by key or title); ingest it or fix the set."
                )
            found.add(key)
        resolved[question.id] = found
    return resolved


def run_suite(
    questions: list[SuiteQuestion],
    searcher: Searcher,
    writers: Writers,
    checkpoint: Checkpoint,
    progress: Progress | None = None,
) -> SuiteReport:
    """Ask every question (those an interrupted run finished come from `checkpoint`)."""
    gold = gold_keys(questions, searcher)
    stored = {paper.key or "" for paper in searcher.store.papers()}
    for done, question in enumerate(questions, 1):
        if question.id not in checkpoint.done:
            result = _run_one(question, gold[question.id], stored, searcher, writers)
            checkpoint.record(question.id, result.model_dump())
        if progress:
            progress(done, len(questions))
    results = [QuestionResult.model_validate(checkpoint.done[q.id]) for q in questions]
    answerable = [r for r in results if r.answerable]
    citations = sum(r.citations for r in results)
    cited = sum(r.cited_sentences for r in results)
    return SuiteReport(
        recall_at_10=_mean([r.recall_at_10 or 0.0 for r in answerable]),
        abstention_accuracy=_mean([float(r.abstention_correct) for r in results]),
        citation_validity=sum(r.valid_citations for r in results) / citations if citations else 1.0,
        supported_rate=sum(r.supported_sentences for r in results) / cited if cited else 0.0,
        questions=results,
    )


def _run_one(
    question: SuiteQuestion,
    gold: set[str],
    stored: set[str],
    searcher: Searcher,
    writers: Writers,
) -> QuestionResult:
    ranking = [c.paper_key for c in searcher.rank(question.question, RECALL_DEPTH).papers]
    before = writers.chat.usage.as_json() if writers.chat else {}
    answer = ask(question.question, searcher, writers.chat, writers.judge)
    after = writers.chat.usage.as_json() if writers.chat else {}
    referenced = {reference.key for reference in answer.references}
    keys = [key for sentence in answer.sentences for key in sentence.citations]
    answerable = bool(gold)
    return QuestionResult(
        id=question.id,
        question=question.question,
        answerable=answerable,
        abstained=answer.abstained,
        abstention_correct=answer.abstained != answerable,
        recall_at_10=recall_at(RECALL_DEPTH, ranking, dict.fromkeys(gold, 1)) if gold else None,
        citations=len(keys),
        valid_citations=sum(1 for key in keys if key in stored and key in referenced),
        cited_sentences=answer.verification.cited,
        supported_sentences=answer.verification.supported,
        repeated_sentences=answer.verification.repeated,
        **{name: after.get(name, 0) - before.get(name, 0) for name in _USAGE},
        answer=answer.answer,
    )


_USAGE = ("llm_calls", "prompt_tokens", "completion_tokens")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def markdown_report(report: SuiteReport) -> str:
    """The report as a Markdown page: overall figures, then one row per question."""
    lines = [
        "# Eval suite report",
        "",
        f"- recall@10 of gold papers (answerable questions): {report.recall_at_10:.3f}",
        f"- abstention accuracy: {report.abstention_accuracy:.3f}",
        f"- citation validity: {report.citation_validity:.3f}",
        f"- supported-sentence rate: {report.supported_rate:.3f}",
        "",
        (
            "| id | answerable | abstained | correct | recall@10 | citations valid | supported "
            "| repeated | calls | tokens |"
        ),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report.questions:
        recall = "-" if r.recall_at_10 is None else f"{r.recall_at_10:.2f}"
        lines.append(
            f"| {r.id} | {'yes' if r.answerable else 'no'} | {'yes' if r.abstained else 'no'} "
            f"| {'yes' if r.abstention_correct else 'no'} | {recall} "
            f"| {r.valid_citations}/{r.citations} | {r.supported_sentences}/{r.cited_sentences} "
            f"| {r.repeated_sentences} | {r.llm_calls} | {r.prompt_tokens + r.completion_tokens:,} |"
        )
    return "\n".join(lines) + "\n"
