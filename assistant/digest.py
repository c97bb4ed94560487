"""The extractive digest: what `ask` and `related-work` print without a model.

The evidence sentences are quoted, grouped by paper in rank order, each paper named by its
title, year, key and reference number, so a researcher reads it as a list of sources with
what each says rather than as one paragraph of stitched quotations.
"""

from collections.abc import Callable, Sequence

from pydantic import BaseModel

from assistant.checking import CheckedSentence, CitationNumbers


class QuotedPaper(BaseModel):
    """One paper of a digest and the sentences quoted from it."""

    number: int
    key: str
    title: str
    year: int | None
    quotes: list[str]


def group_quotes(
    sentences: Sequence[CheckedSentence], numbers: CitationNumbers
) -> list[QuotedPaper]:
    """Quoted sentences (each citing its one paper) grouped by paper, in order of first
    quotation: the search's rank order."""
    papers: dict[str, QuotedPaper] = {}
    for sentence in sentences:
        for key, number in zip(sentence.citations, sentence.numbers, strict=True):
            if key not in papers:
                hit = numbers.hits[key]
                papers[key] = QuotedPaper(
                    number=number, key=key, title=hit.title, year=hit.year, quotes=[]
                )
            papers[key].quotes.append(sentence.text)
    return list(papers.values())


def _year(paper: QuotedPaper) -> str:
    return str(paper.year) if paper.year is not None else "n.d."


def markdown_digest(papers: Sequence[QuotedPaper]) -> str:
    """One list item a paper: `- [1] **Title** (2023), `key`: "quote" "quote"`."""
    return "\n".join(
        f"- [{p.number}] **{p.title}** ({_year(p)}), `{p.key}`: "
        + " ".join(f'"{quote}"' for quote in p.quotes)
        for p in papers
    )


def latex_digest(papers: Sequence[QuotedPaper], escape: Callable[[str], str]) -> str:
    """An itemize with one `\\item` a paper, citing it with `\\cite{key}`."""
    items = [
        f"\\item \\textit{{{escape(p.title)}}} ({_year(p)}) \\cite{{{p.key}}}: "
        + " ".join(f"``{escape(quote)}''" for quote in p.quotes)
        for p in papers
    ]
    return "\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}"
