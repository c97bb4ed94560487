"""`litreview eval judge`: a judge's verdicts against human labels.

Cases come from SciFact/MultiVerS-format files: a claim and one document it cites, labelled
SUPPORT or REFUTE by its evidence entry, or not-enough-info (NEI) when that document has none.
The judge's task is supported versus not (REFUTE and NEI); the confusion matrix also shows
which "not" verdicts said contradicted.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from assistant.cascade_judge import CascadeJudge
from assistant.errors import LitreviewError
from assistant.evaluation.checkpoint import Checkpoint
from assistant.evaluation.files import json_lines
from assistant.evaluation.metrics import accuracy, macro_f1, roc_auc
from assistant.judges import Judge
from assistant.verdicts import Label

GOLD_LABELS = ("SUPPORT", "REFUTE", "NEI")
# Citation placeholders some datasets leave in citing sentences (Citation-Integrity writes
# `[<|multi_cit|>,7]`): they are not part of the claim.
_PLACEHOLDER = re.compile(r"\s*\[<\|[^\]]*\]")
BATCH = 16  # pairs per judge call: the unit of progress and of resuming

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JudgeCase:
    """A claim, the text of one document it cites, and the annotators' label."""

    id: str
    claim: str
    source: str
    label: str  # one of GOLD_LABELS

    @property
    def supported(self) -> bool:
        return self.label == "SUPPORT"


@dataclass
class JudgeReport:
    """Agreement of a judge with the gold labels on supported-versus-not."""

    accuracy: float
    macro_f1: float
    auc: float
    n: int
    confusion: dict[str, dict[str, int]]  # gold label -> verdict label -> count

    def as_json(self) -> dict[str, Any]:
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "auc": round(self.auc, 4),
            "n": self.n,
            "confusion": self.confusion,
        }


def read_judge_cases(corpus: Path, claims: Path) -> list[JudgeCase]:
    """Every (claim, cited document) pair of SciFact/MultiVerS-format files."""
    documents = {str(doc["doc_id"]): doc for _, doc in json_lines(corpus)}
    cases = []
    for _, claim in json_lines(claims):
        text = _PLACEHOLDER.sub("", claim["claim"]).strip()
        evidence = {str(k): v for k, v in (claim.get("evidence") or {}).items()}
        for doc_id in map(str, claim.get("cited_doc_ids") or []):
            if doc_id not in documents:
                raise LitreviewError(
                    f"{claims}: claim {claim['id']} cites document {doc_id}, which {corpus} "
                    "does not have: pass the corpus these claims were written against."
                )
            entries = evidence.get(doc_id) or []
            label = entries[0]["label"] if entries else "NEI"
            label = "REFUTE" if label == "CONTRADICT" else label
            cases.append(
                JudgeCase(f"{claim['id']}:{doc_id}", text, _source(documents[doc_id]), label)
            )
    return cases


def evaluate_judge(
    cases: list[JudgeCase],
    judge: Judge,
    checkpoint: Checkpoint,
    progress: Progress | None = None,
) -> JudgeReport:
    """Judge every case (those an interrupted run finished come from `checkpoint`). A cascade
    judge's counts take in the pairs of the run resumed, as if judged now."""
    cascade = judge if isinstance(judge, CascadeJudge) else None
    if cascade is not None:
        resumed = [checkpoint.done[case.id] for case in cases if case.id in checkpoint.done]
        cascade.count(len(resumed), sum(bool(result.get("sent")) for result in resumed))
    for start in range(0, len(cases), BATCH):
        batch = [case for case in cases[start : start + BATCH] if case.id not in checkpoint.done]
        pairs = [(case.claim, case.source) for case in batch]
        verdicts, sent = cascade.judged(pairs) if cascade else (judge.judge_all(pairs), [])
        for i, (case, verdict) in enumerate(zip(batch, verdicts, strict=True)):
            result = {"label": verdict.label, "score": verdict.score}
            checkpoint.record(case.id, result | ({"sent": sent[i]} if sent else {}))
        if progress:
            progress(min(start + BATCH, len(cases)), len(cases))
    results = [checkpoint.done[case.id] for case in cases]
    gold = [case.supported for case in cases]
    predicted = [result["label"] == "supported" for result in results]
    confusion = {gold: dict.fromkeys(get_args(Label), 0) for gold in GOLD_LABELS}
    for case, result in zip(cases, results, strict=True):
        confusion[case.label][result["label"]] += 1
    return JudgeReport(
        accuracy=accuracy(gold, predicted),
        macro_f1=macro_f1(gold, predicted),
        auc=roc_auc(gold, [result["score"] for result in results]),
        n=len(cases),
        confusion=confusion,
    )


def _source(document: dict[str, Any]) -> str:
    abstract = document.get("abstract") or []
    text = " ".join(abstract) if isinstance(abstract, list) else str(abstract)
    title = (document.get("title") or "").strip()
    return f"{title}. {text}" if title else text
