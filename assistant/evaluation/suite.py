"""`litreview eval suite`: `ask` over a question set, scored per question and overall.

A question's `gold` lists the papers (keys or titles) that answer it; an empty list means the
corpus cannot answer it, and the right output is an abstention. Per question: recall@10 of the
gold papers in the ranking (no relevance gate), whether `ask` abstained when it should (and only
then), and the model's calls and tokens. Citations are scored where they can fail:
- before the check: the share of the model's drafted citations that point inside the evidence;
- after it, over what is printed: citations outside the evidence (must be 0), and ALCE citation
  recall and precision (`assistant.evaluation.faithfulness`), scored by the configured judge
  against the evidence text the model was given.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.answering import ask
from assistant.errors import LitreviewError
from assistant.evaluation.checkpoint import Checkpoint
from assistant.evaluation.faithfulness import Statement, score_answer
from assistant.evaluation.files import json_lines
from assistant.evaluation.metrics import recall_at
from assistant.papers import normalise_title
from assistant.search import Searcher
from assistant.verdicts import Judge
from assistant.workspace import Writers

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
    drafted_sentences: int
    drafted_citations: int
    drafted_in_evidence: int  # drafted citations that point inside the evidence given
    repeated_sentences: int  # drafted twice, dropped before judging
    printed_sentences: int
    supported_sentences: int  # printed with citations their judge found supporting
    citations: int  # printed
    outside_evidence: int  # printed citations of papers the model was not given
    recalled_sentences: int  # ALCE: printed sentences whose citations together support them
    precise_citations: int  # ALCE: printed citations that support or are needed
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    answer: str


class SuiteReport(BaseModel):
    """Overall figures and every question's result."""

    recall_at_10: float
    abstention_accuracy: float
    drafted_citation_validity: float
    printed_outside_evidence: int
    citation_recall: float
    citation_precision: float
    questions: list[QuestionResult]

    def figures(self) -> dict[str, float]:
        """The overall figures, rounded."""
        return {
            "recall@10": round(self.recall_at_10, 4),
            "abstention_accuracy": round(self.abstention_accuracy, 4),
            "drafted_citation_validity": round(self.drafted_citation_validity, 4),
            "printed_outside_evidence": self.printed_outside_evidence,
            "citation_recall": round(self.citation_recall, 4),
            "citation_precision": round(self.citation_precision, 4),
        }

    def as_json(self) -> dict[str, Any]:
        """What `eval suite --json` prints."""
        return {**self.figures(), "questions": [q.model_dump() for q in self.questions]}


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
    scorer: Judge,
    checkpoint: Checkpoint,
    progress: Progress | None = None,
) -> SuiteReport:
    """Ask every question (those an interrupted run finished come from `checkpoint`); `scorer`
    judges the printed citations for ALCE recall and precision."""
    gold = gold_keys(questions, searcher)
    for done, question in enumerate(questions, 1):
        if question.id not in checkpoint.done:
            result = _run_one(question, gold[question.id], searcher, writers, scorer)
            checkpoint.record(question.id, result.model_dump())
        if progress:
            progress(done, len(questions))
    results = [QuestionResult.model_validate(checkpoint.done[q.id]) for q in questions]
    answerable = [r for r in results if r.answerable]

    def total(name: str) -> int:
        return sum(getattr(r, name) for r in results)

    return SuiteReport(
        recall_at_10=_mean([r.recall_at_10 or 0.0 for r in answerable]),
        abstention_accuracy=_mean([float(r.abstention_correct) for r in results]),
        drafted_citation_validity=_share(total("drafted_in_evidence"), total("drafted_citations")),
        printed_outside_evidence=total("outside_evidence"),
        citation_recall=_share(total("recalled_sentences"), total("printed_sentences")),
        citation_precision=_share(total("precise_citations"), total("citations")),
        questions=results,
    )


def _run_one(
    question: SuiteQuestion,
    gold: set[str],
    searcher: Searcher,
    writers: Writers,
    scorer: Judge,
) -> QuestionResult:
    ranking = [c.paper_key for c in searcher.rank(question.question, RECALL_DEPTH).papers]
    before = writers.chat.usage.as_json() if writers.chat else {}
    answer = ask(question.question, searcher, writers.chat, writers.judge)
    after = writers.chat.usage.as_json() if writers.chat else {}
    keys = [key for sentence in answer.sentences for key in sentence.citations]
    statements = [
        Statement(s.text, [answer.evidence[k] for k in s.citations if k in answer.evidence])
        for s in answer.sentences
    ]
    alce = score_answer(statements, scorer)
    report = answer.verification
    answerable = bool(gold)
    return QuestionResult(
        id=question.id,
        question=question.question,
        answerable=answerable,
        abstained=answer.abstained,
        abstention_correct=answer.abstained != answerable,
        recall_at_10=recall_at(RECALL_DEPTH, ranking, dict.fromkeys(gold, 1)) if gold else None,
        drafted_sentences=report.sentences,
        drafted_citations=report.drafted_citations,
        drafted_in_evidence=report.drafted_citations - report.invalid_citations,
        repeated_sentences=report.repeated,
        printed_sentences=len(answer.sentences),
        supported_sentences=report.supported,
        citations=len(keys),
        outside_evidence=sum(1 for key in keys if key not in answer.evidence),
        recalled_sentences=alce["recalled"],
        precise_citations=alce["precise"],
        **{name: after.get(name, 0) - before.get(name, 0) for name in _USAGE},
        answer=answer.answer,
    )


_USAGE = ("llm_calls", "prompt_tokens", "completion_tokens")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def markdown_report(report: SuiteReport) -> str:
    """The report as a Markdown page: overall figures, then one row per question."""
    lines = [
        "# Eval suite report",
        "",
        f"- recall@10 of gold papers (answerable questions): {report.recall_at_10:.3f}",
        f"- abstention accuracy: {report.abstention_accuracy:.3f}",
        (
            "- drafted citations pointing inside the evidence (before the check): "
            f"{report.drafted_citation_validity:.3f}"
        ),
        f"- printed citations outside the evidence: {report.printed_outside_evidence}",
        (
            "- ALCE citation recall / precision of the printed answers: "
            f"{report.citation_recall:.3f} / {report.citation_precision:.3f}"
        ),
        "",
        (
            "| id | answerable | abstained | correct | recall@10 | drafted citations in evidence "
            "| printed / drafted sentences | repeated | ALCE recalled | calls | tokens |"
        ),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report.questions:
        recall = "-" if r.recall_at_10 is None else f"{r.recall_at_10:.2f}"
        lines.append(
            f"| {r.id} | {'yes' if r.answerable else 'no'} | {'yes' if r.abstained else 'no'} "
            f"| {'yes' if r.abstention_correct else 'no'} | {recall} "
            f"| {r.drafted_in_evidence}/{r.drafted_citations} "
            f"| {r.printed_sentences}/{r.drafted_sentences} | {r.repeated_sentences} "
            f"| {r.recalled_sentences}/{r.printed_sentences} | {r.llm_calls} "
            f"| {r.prompt_tokens + r.completion_tokens:,} |"
        )
    return "\n".join(lines) + "\n"
