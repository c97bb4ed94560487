"""`litreview eval check`: the whole `check` path on a labelled set.

Each (claim, cited document) pair of a SciFact/MultiVerS-format set becomes a paragraph
`CLAIM \\cite{dDOCID}.` of a LaTeX draft, each cited document a .bib entry; `check_draft` then
parses, ingests, resolves and judges them, and its verdicts are scored against the labels.
With `numbered`, the draft is Markdown cited by number ("CLAIM [3].") and ends with a reference
list of the documents' titles, so each citation is resolved by its entry's title instead.
"""

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.draftcheck.check import CheckReport, check_draft
from assistant.evaluation.files import json_lines
from assistant.evaluation.judging import read_judge_cases
from assistant.evaluation.metrics import macro_f1, roc_auc
from assistant.settings import Settings
from assistant.verdicts import Judge

# LaTeX's special characters, escaped so a claim or an abstract reads back as written.
_LATEX_ESCAPES = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "%": r"\%",
        "&": r"\&",
        "_": r"\_",
        "#": r"\#",
        "$": r"\$",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)
_NUMBERED = re.compile(r"\s*\[\d[\d,\s\u2013-]*\]")
_HEADER = "\\documentclass{article}\n\\begin{document}\n"


@dataclass
class DraftCheckReport:
    """How `check`'s verdicts agree with the labels, over the pairs it could judge."""

    pairs: int
    judged: int
    macro_f1: float
    auc: float

    def as_json(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "not_judged_share": round(1 - self.judged / self.pairs, 4) if self.pairs else 0.0,
            "macro_f1": round(self.macro_f1, 4),
            "auc": round(self.auc, 4),
        }


def write_draft(
    corpus: Path, claims: Path, folder: Path, numbered: bool = False
) -> tuple[Path, Path, dict[int, bool]]:
    """paper.tex and refs.bib for the set, and the gold label (supported?) by draft line; with
    `numbered`, paper.md cited by number instead, ending with a reference list of the cited
    documents' titles (refs.bib still holds their abstracts, for the store); the numbers a
    claim's own source printed ("[46]") are taken out of it."""
    cases = read_judge_cases(corpus, claims)
    documents = {str(document["doc_id"]): document for _, document in json_lines(corpus)}
    header = "" if numbered else _HEADER
    numbers: dict[str, int] = {}  # doc id -> its number in the reference list
    lines: list[str] = []
    gold: dict[int, bool] = {}
    for case in cases:
        doc_id = case.id.split(":", 1)[1]
        gold[header.count("\n") + 1 + 2 * len(lines)] = case.supported
        if numbered:
            number = numbers.setdefault(doc_id, len(numbers) + 1)
            # neither a pandoc citation nor a numbered one the claim's source printed ("[46]")
            claim = _NUMBERED.sub("", case.claim.rstrip(". ").replace("@", "\\@"))
            lines.append(f"{claim} [{number}].\n")
        else:
            claim = case.claim.rstrip(". ").translate(_LATEX_ESCAPES)
            lines.append(f"{claim} \\cite{{d{doc_id}}}.\n")
    bib = folder / "refs.bib"
    bib.write_text("".join(_entry(document) for document in documents.values()))
    if numbered:
        listed = [f"{n}. {_title(documents[doc_id])}." for doc_id, n in numbers.items()]
        draft = folder / "paper.md"
        draft.write_text("\n".join(lines) + "\n## References\n\n" + "\n".join(listed) + "\n")
    else:
        draft = folder / "paper.tex"
        draft.write_text(header + "\n".join(lines) + "\\end{document}\n")
    return draft, bib, gold


def _title(document: dict[str, Any]) -> str:
    return str(document.get("title") or "") or f"Document {document['doc_id']}"


def _entry(document: dict[str, Any]) -> str:
    abstract = document.get("abstract") or []
    text = " ".join(abstract) if isinstance(abstract, list) else str(abstract)
    fields = {"title": _title(document).translate(_LATEX_ESCAPES), "abstract": text}
    body = ",\n".join(
        f"  {name} = {{{value.translate(_LATEX_ESCAPES) if name == 'abstract' else value}}}"
        for name, value in fields.items()
    )
    return f"@article{{d{document['doc_id']},\n{body}\n}}\n"


def evaluate_check(
    corpus: Path, claims: Path, settings: Settings, judge: Judge, numbered: bool = False
) -> DraftCheckReport:
    """Run `check` on the set's draft (cited by number with `numbered`), in a temporary store
    unless one is configured."""
    with tempfile.TemporaryDirectory(prefix="litreview-eval-check-") as temporary:
        folder = Path(temporary)
        draft, bib, gold = write_draft(corpus, claims, folder, numbered)
        if not settings.store.chroma_url:
            settings.store.path = folder / "store"
        report = check_draft(draft, settings, judge, bib)
    return score(report, gold)


def score(report: CheckReport, gold: dict[int, bool]) -> DraftCheckReport:
    """Macro-F1 and ROC AUC of supported-vs-not over the judged pairs; a labelled pair the
    check reported nothing for counts as not judged."""
    judged = [pair for pair in report.pairs if pair.score is not None and pair.line in gold]
    labels = [gold[pair.line] for pair in judged]
    predicted = [pair.verdict == "supported" for pair in judged]
    scores = [pair.score or 0.0 for pair in judged]
    both = len(set(labels)) == 2
    return DraftCheckReport(
        pairs=len(gold),
        judged=len(judged),
        macro_f1=macro_f1(labels, predicted) if judged else 0.0,
        auc=roc_auc(labels, scores) if both else float("nan"),
    )
