"""`related-work`: a section grouped by theme, each paragraph checked before it is returned.

One call plans the themes, then one call per theme writes its paragraph; each paragraph is
checked (and handed to `on_paragraph`, so a terminal shows it) as soon as it is written.
Without a model, one extractive paragraph digests the evidence.
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema, create_model

from assistant.drafting import (
    CheckedSentence,
    CitationNumbers,
    EvidenceItem,
    Reference,
    Verification,
    check,
    draft,
    evidence_block,
    extract,
    fit_evidence,
    number_evidence,
    prose,
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
        return self.model_dump()


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
    on_unsupported: Literal["drop", "flag"] = "drop",
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
            if chat is None:
                drafted = extract(members)
            else:
                prompt = render(
                    "write_theme",
                    topic=topic,
                    theme=title,
                    max_sentences=str(PARAGRAPH_SENTENCES),
                    evidence=evidence_block(members),
                )
                drafted = draft(chat, prompt, members, PARAGRAPH_SENTENCES)
            checked = check(drafted, members, judge, on_unsupported, numbers)
            report.add(checked.verification)
            if checked.sentences:
                paragraphs.append(Paragraph(theme=title, sentences=checked.sentences))
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
