"""`litreview eval`: measure retrieval, the judge, citation faithfulness and `ask` itself."""

import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import (
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
from assistant.evaluation.retrieval import evaluate_retrieval, read_queries

app = typer.Typer(
    help="Measure retrieval, the judge, citation faithfulness and ask on labelled sets.",
    no_args_is_help=True,
)


@app.command("retrieval")
def retrieval_command(
    corpus: Annotated[
        Path, typer.Option(help="SciFact/MultiVerS corpus.jsonl, or a BEIR corpus.jsonl.")
    ],
    queries: Annotated[
        Path, typer.Option(help="SciFact/MultiVerS claims, or BEIR queries.jsonl with --qrels.")
    ],
    qrels: Annotated[
        Path | None,
        typer.Option(help="BEIR qrels TSV (query-id, corpus-id, score).", show_default=False),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Build the corpus store here and keep it, so a re-run skips the embedding "
            "(default: a temporary folder).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """nDCG@10, recall@10, recall@100 and MRR@10 of hybrid search over a test corpus."""
    settings = load_settings()
    test_queries = read_queries(queries, qrels)
    with (
        progress_bar("embedding corpus", "papers") as corpus_progress,
        progress_bar("ranking", "queries") as query_progress,
    ):
        report = evaluate_retrieval(
            corpus, test_queries, settings, store, corpus_progress, query_progress
        )
    if report.skipped_queries:
        stderr.print(
            f"warning: {report.skipped_queries} of {len(test_queries)} queries cite documents "
            f"that are not in {corpus}; they are left out of the scores, which cover the other "
            f"{report.queries}.",
        )
    if as_json:
        print_json(report.as_json())
        return
    console.print(
        f"{report.queries} queries over {report.documents} documents"
        + (f" ({report.rejected_documents} rejected)" if report.rejected_documents else ""),
    )
    for name, value in report.as_json().items():
        if name not in ("queries", "skipped_queries"):
            console.print(f"{name:<11} {value:.4f}")


@app.command("judge")
def judge_command(
    corpus: Annotated[Path, typer.Option(help="SciFact/MultiVerS-format corpus.jsonl.")],
    claims: Annotated[Path, typer.Option(help="Claims in the same format, with evidence.")],
    judge: JudgeOption = None,
    llm: LlmOption = None,
    model: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """The judge against human labels: accuracy, macro-F1 and ROC AUC of supported-vs-not."""
    from assistant.evaluation.checkpoint import checkpoint_for, file_digest
    from assistant.evaluation.judging import evaluate_judge, read_judge_cases

    settings = load_settings(llm=llm, model=model)
    cases = read_judge_cases(corpus, claims)
    with open_judge(settings, judge, llm) as chosen:
        run = {
            "corpus": file_digest(corpus),
            "claims": file_digest(claims),
            "judge": chosen.name,
            "settings": settings.judge.model_dump(mode="json"),
            "model": settings.llm.model,
        }
        checkpoint = checkpoint_for("judge", run)
        with progress_bar("judging", "pairs") as progress:
            report = evaluate_judge(cases, chosen, checkpoint, progress)
    checkpoint.finish()
    if as_json:
        print_json(with_cascade(report.as_json(), chosen))
        return
    figures = report.as_json()
    for name in ("n", "accuracy", "macro_f1", "auc"):
        console.print(f"{name:<9} {figures[name]}")
    console.print("gold      judged " + " / ".join(next(iter(report.confusion.values()))))
    for label, row in report.confusion.items():
        console.print(f"{label:<9} " + " / ".join(f"{count:>6}" for count in row.values()))


@app.command("check")
def check_command(
    corpus: Annotated[Path, typer.Option(help="SciFact/MultiVerS-format corpus.jsonl.")],
    claims: Annotated[Path, typer.Option(help="Claims in the same format, with evidence.")],
    numbered: Annotated[
        bool,
        typer.Option(
            "--numbered",
            help="Cite by number ([1]) in a Markdown draft ending with a list of the titles, "
            "instead of \\cite{key} with a .bib.",
        ),
    ] = False,
    judge: JudgeOption = None,
    llm: LlmOption = None,
    model: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """`litreview check` end to end on a draft built from labelled claims: macro-F1 and ROC AUC
    of supported-vs-not, and the share of pairs it could not judge."""
    from assistant.evaluation.draftcheck import evaluate_check

    settings = load_settings(llm=llm, model=model)
    with open_judge(settings, judge, llm) as chosen:
        report = evaluate_check(corpus, claims, settings, chosen, numbered)
    if as_json:
        print_json(report.as_json())
        return
    for name, value in report.as_json().items():
        console.print(f"{name:<17} {value}")


@app.command("citations")
def citations_command(
    answers: Annotated[
        Path,
        typer.Argument(help='JSONL: {"question", "answer", "sources": {id: text}}, or ask --json.'),
    ],
    judge: JudgeOption = None,
    llm: LlmOption = None,
    model: ModelOption = None,
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """ALCE citation recall and precision of answers, and citations pointing to no source."""
    from assistant.evaluation.checkpoint import checkpoint_for, file_digest
    from assistant.evaluation.faithfulness import evaluate_citations, read_answers
    from assistant.workspace import existing_store

    settings = load_settings(store, chroma_url, llm, model)
    papers = existing_store(settings.store)

    def paper_text(key: str) -> str | None:
        found = papers.papers_by_key([key])
        return f"{found[0].title}. {found[0].abstract}" if found else None

    statements = read_answers(answers, paper_text)
    with open_judge(settings, judge, llm) as chosen:
        run = {"answers": file_digest(answers), "judge": chosen.name, "store": papers.location}
        checkpoint = checkpoint_for("citations", run)
        with progress_bar("judging citations", "answers") as progress:
            report = evaluate_citations(statements, chosen, checkpoint, progress)
    checkpoint.finish()
    if as_json:
        print_json(with_cascade(report.as_json(), chosen))
        return
    for name, value in report.as_json().items():
        console.print(f"{name:<21} {value}")


@app.command("suite")
def suite_command(
    questions: Annotated[
        Path, typer.Argument(help='JSONL: {"id", "question", "gold": \\[keys or titles]}.')
    ],
    report_dir: Annotated[
        Path,
        typer.Option("--report", help="Folder for report.json and report.md."),
    ] = Path("evals/reports"),
    llm: LlmOption = None,
    model: ModelOption = None,
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run ask over a question set: recall@10, abstention, citation validity, support, cost.
    An interrupted run resumes where it stopped."""
    from assistant.evaluation.checkpoint import Checkpoint, file_digest
    from assistant.evaluation.suite import markdown_report, read_questions, run_suite
    from assistant.workspace import offline_judge, writers
    from assistant.workspace import searcher as open_searcher

    settings = load_settings(store, chroma_url, llm, model)
    suite = read_questions(questions)
    searcher = open_searcher(settings)
    run = {
        "questions": file_digest(questions),
        "store": searcher.store.location,
        "generation": searcher.store.generation,
        "llm": llm or settings.llm.base_url,
        "model": settings.llm.model,
        "judge": settings.judge.model_dump(mode="json"),
    }
    report_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = Checkpoint(report_dir / ".suite-progress.jsonl", run)
    with writers(settings, local=llm == "local") as writing:
        scorer = writing.judge or offline_judge(settings)
        with progress_bar("asking", "questions") as progress:
            report = run_suite(suite, searcher, writing, scorer, checkpoint, progress)
    (report_dir / "report.json").write_text(json.dumps(report.as_json(), indent=2) + "\n")
    (report_dir / "report.md").write_text(markdown_report(report))
    checkpoint.finish()
    if as_json:
        print_json(report.as_json())
        return
    for name, value in report.figures().items():
        console.print(f"{name:<26} {value}")
    console.print(f"report: {report_dir / 'report.md'}")
