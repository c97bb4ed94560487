"""`litreview eval citations`: are the citations in a set of answers faithful?

Citation recall and precision as ALCE defines them (Gao et al. 2023, "Enabling Large Language
Models to Generate Text with Citations"), with our judge deciding support:
- a sentence's citation recall is 1 when it cites something and what it cites, taken together,
  supports it (a sentence citing nothing scores 0);
- a citation is precise when its sentence is supported by all its citations together, and the
  citation either supports the sentence alone or is needed (without it the rest do not).
A citation pointing to no source is counted apart, and as imprecise.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.citations import parse_marked_text
from assistant.errors import LitreviewError
from assistant.evaluation.checkpoint import Checkpoint
from assistant.evaluation.files import json_lines
from assistant.judges import Judge

Progress = Callable[[int, int], None]
# Numbers given to sources whose ids are not numbers, above any `[n]` an answer could write.
_NAMED_SOURCES = 1_000_000


@dataclass
class Statement:
    """One sentence of an answer and the texts of what it cites; `to_nothing` counts citations
    of sources the answer does not have."""

    text: str
    cited: list[str]
    to_nothing: int = 0


@dataclass
class FaithfulnessReport:
    citation_recall: float
    citation_precision: float
    citations_to_nothing: int
    answers: int
    sentences: int
    citations: int

    def as_json(self) -> dict[str, Any]:
        return {
            "citation_recall": round(self.citation_recall, 4),
            "citation_precision": round(self.citation_precision, 4),
            "citations_to_nothing": self.citations_to_nothing,
            "answers": self.answers,
            "sentences": self.sentences,
            "citations": self.citations,
        }


def read_answers(path: Path, paper_text: Callable[[str], str | None]) -> list[list[Statement]]:
    """Answers as statements. Each JSON line is `{"question", "answer", "sources": {id: text}}`
    (the answer cites with `[id]`), or `ask --json` output, whose citation keys are looked up
    with `paper_text` (None: no such paper)."""
    answers = []
    for number, record in json_lines(path):
        if "sources" in record:
            answers.append(_marked_answer(record))
        elif "sentences" in record:
            answers.append(_ask_answer(record, paper_text))
        else:
            raise LitreviewError(
                f"{path}:{number} has neither `sources` nor `sentences`: each line must be "
                '{"question", "answer", "sources": {id: text}} or the output of `ask --json`.'
            )
    return answers


def evaluate_citations(
    answers: list[list[Statement]],
    judge: Judge,
    checkpoint: Checkpoint,
    progress: Progress | None = None,
) -> FaithfulnessReport:
    """ALCE citation recall and precision over every sentence of every answer."""
    for index, statements in enumerate(answers):
        if str(index) not in checkpoint.done:
            checkpoint.record(str(index), score_answer(statements, judge))
        if progress:
            progress(index + 1, len(answers))
    scored = [checkpoint.done[str(index)] for index in range(len(answers))]
    sentences = sum(s["sentences"] for s in scored)
    citations = sum(s["citations"] for s in scored)
    return FaithfulnessReport(
        citation_recall=sum(s["recalled"] for s in scored) / sentences if sentences else 0.0,
        citation_precision=sum(s["precise"] for s in scored) / citations if citations else 0.0,
        citations_to_nothing=sum(s["to_nothing"] for s in scored),
        answers=len(answers),
        sentences=sentences,
        citations=citations,
    )


def score_answer(statements: list[Statement], judge: Judge) -> dict[str, int]:
    """ALCE counts for one answer (sentences, citations, recalled, precise, to_nothing); every
    judgement of the answer in one batch."""
    pairs: list[tuple[str, str]] = []
    for s in statements:
        if s.cited:
            pairs.append((s.text, " ".join(s.cited)))
        if len(s.cited) > 1:
            for i, source in enumerate(s.cited):
                pairs.append((s.text, source))
                pairs.append((s.text, " ".join(s.cited[:i] + s.cited[i + 1 :])))
    verdicts = iter(v.supported for v in judge.judge_all(pairs))
    recalled = precise = 0
    for s in statements:
        if not s.cited:
            continue
        together = next(verdicts)
        recalled += together
        if len(s.cited) == 1:
            precise += together
            continue
        for _ in s.cited:
            alone, without = next(verdicts), next(verdicts)
            precise += together and (alone or not without)
    return {
        "sentences": len(statements),
        "citations": sum(len(s.cited) + s.to_nothing for s in statements),
        "recalled": recalled,
        "precise": precise,
        "to_nothing": sum(s.to_nothing for s in statements),
    }


def _marked_answer(record: dict[str, Any]) -> list[Statement]:
    sources = {str(k): str(v) for k, v in record["sources"].items()}
    named = {key: _NAMED_SOURCES + i for i, key in enumerate(sources) if not key.isdigit()}
    by_number = {int(key) if key.isdigit() else named[key]: text for key, text in sources.items()}
    statements = []
    for sentence in parse_marked_text(_numbered(str(record.get("answer", "")), named), {}):
        cited = [by_number[n] for n in sentence.citations if n in by_number]
        statements.append(Statement(sentence.text, cited, len(sentence.citations) - len(cited)))
    return statements


def _numbered(text: str, named: dict[str, int]) -> str:
    """`text` with brackets that cite named sources (`[a]`, `[a, 3]`) rewritten as numbers, so
    that ids of any shape parse as citations."""

    def swap(match: re.Match[str]) -> str:
        items = re.split(r"\s*[,;]\s*", match.group(1).strip())
        if not all(item in named or item.isdigit() for item in items):
            return match.group(0)
        return "[" + ", ".join(str(named.get(item, item)) for item in items) + "]"

    return re.sub(r"\[([^\[\]]+)\]", swap, text)


def _ask_answer(record: dict[str, Any], paper_text: Callable[[str], str | None]) -> list[Statement]:
    statements = []
    for sentence in record["sentences"]:
        texts = [paper_text(key) for key in sentence.get("citations", [])]
        cited = [text for text in texts if text is not None]
        statements.append(Statement(sentence["text"], cited, len(texts) - len(cited)))
    return statements
