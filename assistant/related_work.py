"""`related-work`: a section grouped by theme, each paragraph checked before it is returned.

One call plans the themes, then one call per theme writes its paragraph; each paragraph is
checked (and handed to `on_paragraph`, so a terminal shows it) as soon as it is written.
Without a model, one extractive paragraph digests the evidence.
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema, create_model

from assistant.checking import (
    CheckedSentence,
    CitationNumbers,
    OnUnsupported,
    Reference,
    Verification,
    draft_and_check,
    prose,
)
from assistant.digest import QuotedPaper, group_quotes, latex_digest, markdown_digest
from assistant.drafting import (
    EvidenceItem,
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

MAX_THEMES = 5
PARAGRAPH_SENTENCES = 6  # at most, in one theme's paragraph


class Theme(BaseModel):
    """A planned theme and the evidence numbers of its papers."""

    title: str
    papers: list[int]


class Plan(BaseModel):
    themes: list[Theme]


class Paragraph(BaseModel):
    """One checked paragraph of the section."""

    theme: str
    sentences: list[CheckedSentence]
    # without a model: the theme's quoted evidence grouped by paper, printed as a list
    digest: list[QuotedPaper] = []


class Section(BaseModel):
    """A checked related-work section; `abstained` when nothing relevant was found."""

    topic: str
    paragraphs: list[Paragraph]
    references: list[Reference]
    abstained: bool
    mode: Literal["llm", "extractive"]
    verification: Verification
    usage: dict[str, Any]

    def cited_keys(self) -> list[str]:
        return [reference.key for reference in self.references]

    def as_json(self) -> dict[str, Any]:
        return {**self.model_dump(), "verification": self.verification.as_json()}


def plan_schema(numbers: list[int]) -> type[Plan]:
    """Plan with paper numbers limited to `numbers` in the schema the model is sent."""
    number = Annotated[int, WithJsonSchema({"type": "integer", "enum": numbers})]
    theme = create_model(
        "Theme",
        __base__=Theme,
        title=(str, Field(json_schema_extra={"maxLength": 80})),
        papers=(list[number], ...),
    )
    return create_model(
        "Plan",
        __base__=Plan,
        themes=(list[theme], Field(json_schema_extra={"maxItems": MAX_THEMES})),  # type: ignore[valid-type]
    )


def related_work(
    topic: str,
    searcher: Searcher,
    chat: ChatModel | None,
    judge: Judge | None,
    filters: Filters = Filters(),
    on_unsupported: OnUnsupported = "drop",
    on_paragraph: Callable[[Paragraph], None] | None = None,
) -> Section:
    """Retrieve papers on `topic` (a phrase or a whole abstract), plan themes, write and check
    one paragraph per theme."""
    mode = writing_mode(chat, judge)
    result = searcher.search(topic, searcher.settings.drafting.related_work_papers, filters)
    numbers = CitationNumbers()
    report = Verification()
    paragraphs: list[Paragraph] = []
    if result.relevant:
        items = number_evidence(result.hits)
        for title, members in _themes(topic, items, chat):
            prompt = render(
                "write_theme",
                topic=topic,
                theme=title,
                max_sentences=str(PARAGRAPH_SENTENCES),
                evidence=evidence_block(members),
            )
            checked = draft_and_check(
                chat, judge, prompt, members, PARAGRAPH_SENTENCES, on_unsupported, numbers
            )
            report.add(checked.verification)
            if checked.sentences:
                digest = group_quotes(checked.sentences, numbers) if chat is None else []
                paragraphs.append(
                    Paragraph(theme=title, sentences=checked.sentences, digest=digest)
                )
                if on_paragraph:
                    on_paragraph(paragraphs[-1])
    return Section(
        topic=topic,
        paragraphs=paragraphs,
        references=numbers.references(),
        abstained=not result.relevant,
        mode=mode,
        verification=report,
        usage=usage_json(chat),
    )


def _themes(
    topic: str, items: list[EvidenceItem], chat: ChatModel | None
) -> list[tuple[str, list[EvidenceItem]]]:
    """Themes with their evidence items: planned by the model, whose numbers outside the
    evidence are ignored; one theme of every paper when there is no model or no usable plan."""
    if chat is None:
        return [(topic, items)]
    items = fit_evidence(items, chat, "plan_related_work", topic=topic, max_themes=str(MAX_THEMES))
    prompt = render(
        "plan_related_work",
        topic=topic,
        max_themes=str(MAX_THEMES),
        evidence=evidence_block(items),
    )
    plan = chat.structured(
        [{"role": "user", "content": prompt}], plan_schema([item.number for item in items])
    )
    given = {item.number: item for item in items}
    placed: set[int] = set()
    themes = []
    for theme in plan.themes[:MAX_THEMES]:
        members = [given[n] for n in dict.fromkeys(theme.papers) if n in given and n not in placed]
        placed.update(item.number for item in members)
        if members and theme.title.strip():
            themes.append((" ".join(theme.title.split()), members))
    return themes or [(topic, items)]


class Renderer:
    """A section's text in one format, in three parts so paragraphs can be printed as they
    are written: the head, one paragraph, the tail once every reference is known."""

    def head(self) -> str:
        raise NotImplementedError

    def paragraph(self, paragraph: Paragraph) -> str:
        raise NotImplementedError

    def tail(self, section: Section) -> str:
        raise NotImplementedError


class MarkdownRenderer(Renderer):
    """Markdown with `[n]` markers and a numbered reference list."""

    def head(self) -> str:
        return "## Related work\n\n"

    def paragraph(self, paragraph: Paragraph) -> str:
        if paragraph.digest:
            return f"**{paragraph.theme}.**\n\n{markdown_digest(paragraph.digest)}\n\n"
        return f"**{paragraph.theme}.** {prose(paragraph.sentences)}\n\n"

    def tail(self, section: Section) -> str:
        listed = "".join(
            f"[{r.number}] {r.title} ({r.year if r.year is not None else 'n.d.'}), `{r.key}`\n"
            for r in section.references
        )
        return f"### References\n\n{listed}" if listed else ""


class LatexRenderer(Renderer):
    """LaTeX citing with `\\cite{key}`; the entries go to the `--bib` file."""

    def head(self) -> str:
        return "\\section{Related Work}\n\n"

    def paragraph(self, paragraph: Paragraph) -> str:
        if paragraph.digest:
            listed = latex_digest(paragraph.digest, latex_escape)
            return f"\\paragraph{{{latex_escape(paragraph.theme)}}}\n{listed}\n\n"
        sentences = [
            s.model_copy(update={"text": latex_escape(s.text)}) for s in paragraph.sentences
        ]
        return f"\\paragraph{{{latex_escape(paragraph.theme)}}} {prose(sentences, 'latex')}\n\n"

    def tail(self, section: Section) -> str:
        return ""


RENDERERS: dict[str, Renderer] = {"markdown": MarkdownRenderer(), "latex": LatexRenderer()}

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Plain text safe inside a LaTeX paragraph."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)
