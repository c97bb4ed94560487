"""`litreview ask` and `litreview related-work`: cited prose, every citation checked first."""

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from assistant.cli.common import (
    ChromaUrlOption,
    JsonOption,
    LlmOption,
    ModelOption,
    StoreOption,
    in_words,
    load_settings,
    print_json,
    report_models,
    stderr,
    with_cascade,
)
from assistant.errors import ConfigError
from assistant.search import Filters
from assistant.workspace import searcher as open_searcher

OnUnsupportedOption = Annotated[
    Literal["drop", "flag"] | None,
    typer.Option(
        "--on-unsupported",
        help="drop (default) or flag a cited sentence the judge finds unsupported.",
        show_default=False,
    ),
]
YearFromOption = Annotated[int | None, typer.Option(help="Only papers from this year on.")]
YearToOption = Annotated[int | None, typer.Option(help="Only papers up to this year.")]

EXTRACTIVE_NOTE = (
    "No model is configured, so this is an extractive digest of the evidence. To draft with "
    "a model, set OPENAI_BASE_URL (and OPENAI_API_KEY if it needs one), or pass --llm local "
    "to use the bundled one."
)


def _say(text: str) -> None:
    stderr.print(text)


def ask_command(
    question: Annotated[str, typer.Argument(help="Your question, in plain words.")],
    on_unsupported: OnUnsupportedOption = None,
    year_from: YearFromOption = None,
    year_to: YearToOption = None,
    llm: LlmOption = None,
    model: ModelOption = None,
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question from your papers, citing them; each citation is checked first."""
    from assistant.answering import ask
    from assistant.workspace import writers

    question = in_words(question)
    settings = load_settings(store, chroma_url, llm, model)
    searcher = open_searcher(settings)
    filters = Filters(year_from=year_from, year_to=year_to)
    policy = on_unsupported or settings.drafting.on_unsupported
    with writers(settings, local=llm == "local") as writing:
        answer = ask(question, searcher, writing.chat, writing.judge, filters, policy)
    if as_json:
        print_json(with_cascade(answer.as_json(), writing.judge))
        report_models(writing)
        return
    if answer.abstained:
        _say("No relevant papers in the store for this question, so nothing was written.")
        return
    if answer.mode == "extractive":
        _say(EXTRACTIVE_NOTE)
    sys.stdout.write(answer.text())
    report_models(writing)


def related_work_command(
    topic: Annotated[
        str | None, typer.Argument(help="The topic, in a phrase (or use --abstract).")
    ] = None,
    abstract: Annotated[
        Path | None,
        typer.Option(help="A file with your paper's abstract, used as the topic.", dir_okay=False),
    ] = None,
    output_format: Annotated[
        Literal["markdown", "latex"],
        typer.Option("--format", help="markdown (\\[n] and a reference list) or latex (\\cite)."),
    ] = "markdown",
    bib: Annotated[
        Path | None,
        typer.Option(
            help="Write the BibTeX entries of exactly the cited papers here (a new file, or "
            "one an earlier related-work wrote).",
            dir_okay=False,
        ),
    ] = None,
    on_unsupported: OnUnsupportedOption = None,
    year_from: YearFromOption = None,
    year_to: YearToOption = None,
    llm: LlmOption = None,
    model: ModelOption = None,
    store: StoreOption = None,
    chroma_url: ChromaUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a related-work section grouped by theme; paragraphs print as they are checked."""
    from assistant.export import bibtex_of
    from assistant.related_work import RENDERERS, Paragraph, related_work
    from assistant.workspace import writers

    query = _topic(topic, abstract)
    if bib is not None:
        _check_bib_target(bib)
    settings = load_settings(store, chroma_url, llm, model)
    searcher = open_searcher(settings)
    renderer = RENDERERS[output_format]
    policy = on_unsupported or settings.drafting.on_unsupported
    started = False

    def show(paragraph: Paragraph) -> None:
        nonlocal started
        if not as_json:
            sys.stdout.write(("" if started else renderer.head()) + renderer.paragraph(paragraph))
            sys.stdout.flush()
            started = True

    with writers(settings, local=llm == "local") as writing:
        if writing.chat is None and not as_json:
            _say(EXTRACTIVE_NOTE)
        section = related_work(
            query,
            searcher,
            writing.chat,
            writing.judge,
            Filters(year_from=year_from, year_to=year_to),
            policy,
            show,
        )
    if bib is not None and not section.abstained:
        try:
            bib.write_text(bibtex_of(searcher.store, section.cited_keys()), "utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot write --bib {bib}: {exc.strerror}.") from exc
    if as_json:
        print_json(with_cascade(section.as_json(), writing.judge))
        report_models(writing)
        return
    if section.abstained:
        _say("No relevant papers in the store for this topic, so nothing was written.")
        return
    sys.stdout.write(renderer.tail(section))
    _say(f"Checked: {section.verification.line()}.")
    report_models(writing)


def _check_bib_target(bib: Path) -> None:
    """Before drafting, that `--bib` can be written: in a folder that exists, and never over a
    file related-work did not write, such as the researcher's own bibliography."""
    from assistant.export import CITED_BIB_HEADER

    if not bib.parent.is_dir():
        raise ConfigError(f"No folder {bib.parent} for --bib {bib}: make it, or name another.")
    if not bib.exists():
        return
    try:
        with bib.open(encoding="utf-8") as file:
            ours = file.readline() == CITED_BIB_HEADER
    except (OSError, UnicodeDecodeError):
        ours = False
    if not ours:
        raise ConfigError(
            f"{bib} already exists and related-work did not write it: --bib would replace it "
            "with the cited papers' entries. Give --bib a new file name (say rw.bib)."
        )


def _topic(topic: str | None, abstract: Path | None) -> str:
    if (topic is None) == (abstract is None):
        raise ConfigError("Give a topic or --abstract FILE (one of the two).")
    if abstract is None:
        return in_words(str(topic))
    try:
        text = " ".join(abstract.read_text("utf-8").split())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the abstract {abstract}: {exc}.") from exc
    if not text:
        raise ConfigError(f"The abstract file {abstract} is empty.")
    return text
