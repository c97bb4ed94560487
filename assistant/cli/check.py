"""`litreview check`: judge the citations of your own draft."""

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import (
    FLAG,
    ChromaUrlOption,
    JsonOption,
    JudgeOption,
    LlmOption,
    ModelOption,
    StoreOption,
    console,
    load_settings,
    open_judge,
    print_json,
    progress_bar,
    stderr,
    with_cascade,
)
from assistant.draftcheck.check import CheckedPair, CheckReport, check_draft
from assistant.draftcheck.library import NO_ABSTRACT, NOT_FOUND


def check_command(
    draft: Annotated[
        Path,
        typer.Argument(
            help="The draft: .tex (with \\input files), .md, .txt, .org, .docx or .odt."
        ),
    ],
    bib: Annotated[
        Path | None,
        typer.Option(
            help="Its .bib (or CSL JSON) file, ingested into the store first; without it, the "
            "files the draft names (\\bibliography, \\addbibresource, pandoc's bibliography:), "
            "then the store.",
            show_default=False,
        ),
    ] = None,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest",
            help="For each weak citation, name library papers that support the sentence.",
            metavar=FLAG,
        ),
    ] = False,
    k: Annotated[
        int, typer.Option("-k", min=1, help="Papers retrieved per --suggest sentence.")
    ] = 5,
    author_year: Annotated[
        bool,
        typer.Option(
            "--author-year",
            help="Also read citations typed as text, (Smith et al., 2020) or Smith (2020), "
            "each matched to the stored paper by its first author's surname and year "
            "(not in LaTeX drafts).",
            metavar=FLAG,
        ),
    ] = False,
    judge: JudgeOption = None,
    llm: LlmOption = None,
    model: ModelOption = None,
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Judge each citation of a draft against the cited paper's abstract. Exit status 0 when
    all are supported, 4 when any is unsupported, contradicted or not in the library."""
    from assistant.workspace import searcher

    settings = load_settings(store, chroma_url, llm, model)
    with open_judge(settings, judge, llm) as chosen:
        retrieve = (lambda: searcher(settings)) if suggest else None
        with progress_bar(
            "judging", "citations", show=not as_json, lines_off_terminal=False
        ) as told:
            report = check_draft(
                draft, settings, chosen, bib, retrieve, k, told, _tell_bibliographies, author_year
            )
    if as_json:
        print_json(with_cascade(report.as_json(), chosen))
    else:
        _print_report(report, draft)
    raise typer.Exit(report.exit_status)


def _counted(count: int, name: str) -> str:
    """ "1 sentence", "2 pairs", "0 not judged": a count and its summary name."""
    words = name.replace("_", " ")
    return f"{count} {words[:-1] if count == 1 and words.endswith('s') else words}"


def _tell_bibliographies(read: list[Path], missing: list[Path]) -> None:
    for path in missing:
        stderr.print(f"The draft names {path}, which is not there: pass --bib with its path.")
    if read:
        stderr.print(f"Reading the draft's bibliography: {', '.join(map(str, read))}.")


_TYPED = (
    'by number ("[1]", "[2-4]", or "(1)" in a draft with no bracketed number) when the draft '
    "ends with a numbered reference list under a References heading, and typed as "
    '"(Smith et al., 2020)" with --author-year.'
)
_WORD_PROCESSOR = "Citations are read as Zotero, Mendeley or EndNote inserted them, " + _TYPED
# What to do about the citations not judged, by why: said once each, after the summary
_NOT_JUDGED_HINTS = {
    NO_ABSTRACT: "Not judged for want of an abstract: {}. Ingest a file that holds each paper's "
    "abstract (a BibTeX, RIS or CSV export from Zotero or PubMed), then check again.",
    NOT_FOUND: "Not judged, the cited paper in no library: {}. Add each to the .bib, or ingest "
    "it (`litreview ingest FILE`), then check again.",
}
# What check reads as a citation, by the draft's extension: said when it found none
_CITATIONS_READ = {
    ".docx": _WORD_PROCESSOR,
    ".odt": _WORD_PROCESSOR,
    ".md": "Citations are read in pandoc's form ([@key], @key), " + _TYPED,
    ".org": "Citations are read in org-cite's form ([cite:@key]) and org-ref's (cite:key).",
    **dict.fromkeys(
        (".tex", ".ltx", ".latex"),
        "Citations are read from \\cite{key} and its kin (\\citep, \\parencite, ...).",
    ),
}


def _print_report(report: CheckReport, draft: Path) -> None:
    for path in report.missing_inputs:
        stderr.print(f"The draft inputs {path}, which is not there: its citations are not checked.")
    if not report.pairs:
        console.print("No citations found in the draft.")
        console.print(_CITATIONS_READ.get(draft.suffix.lower(), _CITATIONS_READ[".md"]))
        return
    place = None
    for pair in report.pairs:
        if (pair.file, pair.line, pair.sentence) != place:
            place = (pair.file, pair.line, pair.sentence)
            console.print(f"{pair.file}:{pair.line}: {pair.sentence}")
        console.print(f"  {_verdict(pair)}")
        if pair.evidence:
            console.print(f"      closest: {pair.evidence}")
        for suggestion in pair.suggestions or []:
            console.print(
                f"      try {suggestion.key} ({suggestion.score:.2f}): {suggestion.title}"
            )
    summary = report.summary()
    console.print(", ".join(_counted(count, name) for name, count in summary.items()))
    for reason, hint in _NOT_JUDGED_HINTS.items():
        unjudged = [p for p in report.pairs if (p.reason or "").startswith(reason)]
        if unjudged:
            stderr.print(hint.format(_counted(len(unjudged), "citations")))


def _verdict(pair: CheckedPair) -> str:
    if pair.verdict is None:
        return f"{pair.key}: not judged ({pair.reason})"
    return f"{pair.key}: {pair.verdict} ({pair.score:.2f})"
