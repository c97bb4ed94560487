"""LaTeX drafts, parsed with pylatexenc: comments, math and layout macros give no sentences.

Citation commands (natbib's, biblatex's, apacite's, and the draft's own whose name ends in
"cite") become placeholders with their keys; a footnote, a caption, a heading, a table's cell
or an `\\input` file is a passage of its own, so its sentences never run into the surrounding
ones (a footnote that only cites, "\\footnote{See \\cite{a}.}", cites the sentence of its
mark); `\\input{file}`, `\\include{file}` and `\\subfile{file}` are followed relative to the
draft, `\\import{folder}{file}` and `\\subimport{folder}{file}` as the import package finds
them. biblatex's multicite commands (`\\autocites[p.~3]{a}{b}`) are read as one `\\cite{a,b}`,
and text between `\\iffalse` and `\\fi` is not read. A `thebibliography` list (the draft's, or
the .bbl beside it) is kept as text by its `\\bibitem` keys, for a key no .bib or stored paper
has.
"""

import re
from functools import cache
from pathlib import Path
from typing import Any

from pylatexenc.latex2text import LatexNodes2Text
from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
    LatexWalker,
    get_default_latex_context_db,
)
from pylatexenc.macrospec import EnvironmentSpec, LatexContextDb, MacroSpec

from assistant.draftcheck.sentences import (
    PLACEHOLDER,
    Passage,
    PlainText,
    before_final_stop,
    is_file,
    line_breaks_of,
    read_draft,
    says_nothing,
)

# natbib's, biblatex's and apacite's citation commands; all take [prenote][postnote]{keys}.
CITE_MACROS = frozenset(
    "cite Cite citep Citep citet Citet citealt Citealt citealp Citealp citeauthor Citeauthor "
    "citefullauthor citeyear citeyearpar citenum parencite Parencite textcite Textcite "
    "autocite Autocite footcite footcitetext smartcite Smartcite supercite fullcite "
    "footfullcite citetitle citedate citeurl notecite Notecite pnotecite Pnotecite fnotecite "
    "citeA citeN citeNP citeauthorNP citeyearNP shortcite shortciteA shortciteN shortciteNP "
    "fullciteA fullciteNP".split()
)
# A command that cites: one of those, or a draft's own whose name ends in "cite" ("\\mycite{key}",
# defined over one of those); never \\nocite.
CITE_COMMAND = rf"(?!nocite\b)(?:{'|'.join(sorted(CITE_MACROS))}|[A-Za-z]*cite)(?![A-Za-z])"
_CITE_COMMAND_NAME = re.compile(rf"\\({CITE_COMMAND})")
# biblatex's multicite commands: (pre)(post) notes, then key groups each with [pre][post] notes.
_MULTICITE = re.compile(
    r"\\(?:[Pp]aren|[Tt]ext|[Aa]uto|[Ff]oot|[Ss]mart|[Ss]uper)?[Cc]ites\*?"
    r"(?P<args>(?:\s*\([^()]*\)){0,2}(?:\s*(?:\[[^\]]*\]\s*){0,2}\{[^{}]*\})+)"
)
_NOTE = re.compile(r"\([^()]*\)|\[[^\]]*\]")
_SWITCHED_OFF = re.compile(r"\\iffalse\b.*?\\fi\b", re.DOTALL)
# Their own passage: text that is not part of the sentence around it.
PASSAGE_MACROS = frozenset(
    "footnote footnotetext caption title chapter section subsection subsubsection paragraph "
    "subparagraph part".split()
)
# Sentence boundaries with no text of their own.
BREAK_MACROS = frozenset("item par newline bigskip medskip smallskip".split())
# Nothing to read: cross-references, layout, set-up.
SKIP_MACROS = frozenset(
    "label ref eqref cref Cref autoref pageref nameref url includegraphics nocite bibliography "
    "bibliographystyle addbibresource usepackage documentclass newcommand renewcommand "
    "providecommand def vspace hspace maketitle tableofcontents printbibliography todo".split()
)
# Their last argument is the text; those before it are not read (a link's URL).
LAST_ARGUMENT_MACROS = frozenset(("href", "multicolumn", "multirow"))
INPUT_MACROS = frozenset(("input", "include", "subfile"))
# The import package's: {folder}{file}; the file's own inputs are read from its folder.
# \\import's folder is the project's, \\subimport's the importing file's.
IMPORT_MACROS = frozenset(("import", "includefrom", "inputfrom"))
SUBIMPORT_MACROS = frozenset(("subimport", "subincludefrom", "subinputfrom"))
# The draft's .bib files: \\bibliography{a,b} names them without .bib, \\addbibresource with it.
BIBLIOGRAPHY_MACROS = frozenset(("bibliography", "addbibresource"))
# Environments with no prose: math, code and pseudo-code, the reference list, text switched
# off (the comment package's environment).
SKIP_ENVIRONMENTS = frozenset(
    "equation align gather multline eqnarray displaymath math flalign alignat "
    "verbatim lstlisting minted tikzpicture thebibliography comment algorithmic".split()
)
# Tables: each cell is a passage (a cell that only cites cites the one before it), as in
# Markdown. Their arguments (width, column spec) are no text.
TABLE_ENVIRONMENTS = {"tabular": "{", "tabularx": "{{", "tabulary": "{{", "longtable": "[{"}
_TEXT = LatexNodes2Text(math_mode="text")
_MARKUP = re.compile(r"\\[A-Za-z]+\*?|[{}$]")
# biblatex's .bbl: \entry{key}{type}{options} ... \endentry, with \field{title}{...}, the DOI as
# \verb{doi} \verb 10.1/x \endverb and an eprint as \field{eprint}{id}
_BIBLATEX_ENTRY = re.compile(r"\\entry\{([^{}]+)\}\{[^{}]*\}\{[^{}]*\}(.*?)\\endentry", re.DOTALL)
_BIBLATEX_TITLE = re.compile(r"\\field\{title\}\{((?:[^{}]|\{[^{}]*\})*)\}")
_BIBLATEX_DOI = re.compile(r"\\verb\{doi\}\s*\\verb\s+(\S+)")
_BIBLATEX_EPRINT = re.compile(r"\\field\{eprint\}\{([^{}]+)\}")
_BIBITEM = re.compile(r"\\bibitem\s*(?:\[[^\]]*\])?\s*\{([^{}]*)\}")


@cache
def _context(own_cite_macros: frozenset[str]) -> LatexContextDb:
    """pylatexenc's macro table, taught the citation commands it does not know (and the
    draft's own)."""
    db = get_default_latex_context_db()
    specs = [MacroSpec(name, "*[[{") for name in CITE_MACROS | own_cite_macros]
    specs += [MacroSpec("caption", "*[{"), MacroSpec("footnotetext", "[{")]
    one_argument = "nocite pageref nameref bibliographystyle".split()
    specs += [MacroSpec(name, "{") for name in one_argument]
    specs += [MacroSpec("addbibresource", "[{"), MacroSpec("printbibliography", "[")]
    specs += [MacroSpec("todo", "[{")]
    specs += [MacroSpec("href", "[{{"), MacroSpec("subfile", "{")]
    specs += [MacroSpec("multicolumn", "{{{"), MacroSpec("multirow", "[{[{[{")]
    specs += [MacroSpec(name, "*{{") for name in IMPORT_MACROS | SUBIMPORT_MACROS]
    # the first category added is looked up first
    tables = [EnvironmentSpec(name, args) for name, args in TABLE_ENVIRONMENTS.items()]
    db.add_context_category("litreview-citations", macros=specs, environments=tables, prepend=True)
    return db


class _LatexReader:
    """One draft file (and the files it inputs) walked into plain text."""

    def __init__(self, path: Path, root: Path, text: PlainText, seen: set[Path]) -> None:
        self.path, self.root, self.text, self.seen = path, root, text, seen
        source = _SWITCHED_OFF.sub(line_breaks_of, read_draft(path))
        source = _MULTICITE.sub(_one_cite, source)
        own = frozenset(_CITE_COMMAND_NAME.findall(source)) - CITE_MACROS
        self.walker = LatexWalker(source, latex_context=_context(own), tolerant_parsing=True)
        self.cite_macros = CITE_MACROS | own
        self.parts: list[str] = []

    def read(self) -> None:
        """Walk the whole file (the document body only, where it has one)."""
        nodes, _, _ = self.walker.get_latex_nodes()
        body = next(
            (
                n.nodelist
                for n in nodes
                if isinstance(n, LatexEnvironmentNode) and n.environmentname == "document"
            ),
            nodes,
        )
        self._walk(body)
        self._end_passage()

    def _end_passage(self) -> None:
        if self.parts:
            self.text.passages.append(Passage(str(self.path), "".join(self.parts)))
            self.parts = []

    def _walk(self, nodes: list[Any]) -> None:
        for node in nodes or []:
            if isinstance(node, LatexCharsNode):
                self.parts.append(node.chars)
            elif isinstance(node, LatexSpecialsNode):
                self.parts.append(" " if node.specials_chars == "~" else node.specials_chars)
            elif isinstance(node, LatexMathNode):
                inline = node.displaytype == "inline"
                self.parts.append(_text_of(node) if inline else " ")
            elif isinstance(node, LatexGroupNode):
                self._walk(node.nodelist)
            elif isinstance(node, LatexEnvironmentNode):
                if node.environmentname == "thebibliography":
                    self.text.references.update(bibitems(node.latex_verbatim()))
                elif node.environmentname.rstrip("*") in TABLE_ENVIRONMENTS:
                    self._end_passage()
                    self._table(node.nodelist)
                elif node.environmentname.rstrip("*") not in SKIP_ENVIRONMENTS:
                    self._end_passage()
                    self._walk(node.nodelist)
                    self._end_passage()
            elif isinstance(node, LatexMacroNode):
                self._macro(node)
            # anything else (a comment) holds nothing a reader sees

    def _table(self, nodes: list[Any]) -> None:
        """A table's cells, each a passage of its own: `&` and `\\\\` end one."""
        for node in nodes or []:
            cell_ends = (isinstance(node, LatexSpecialsNode) and node.specials_chars == "&") or (
                isinstance(node, LatexMacroNode) and node.macroname == "\\"
            )
            if cell_ends:
                self._end_passage()
            else:
                self._walk([node])
        self._end_passage()

    def _macro(self, node: LatexMacroNode) -> None:
        name = node.macroname
        args = [a for a in (node.nodeargd.argnlist if node.nodeargd else []) if a is not None]
        if name in self.cite_macros and args:
            keys = [key.strip() for key in args[-1].latex_verbatim().strip("{}").split(",")]
            line, _ = self.walker.pos_to_lineno_colno(node.pos)
            self.parts.append(f" {self.text.cite(keys, line)}")
        elif name in PASSAGE_MACROS and args:
            outer, self.parts = self.parts, []
            self._walk([args[-1]])
            note = "".join(self.parts)
            if name == "footnote" and PLACEHOLDER.search(note) and says_nothing(note):
                # a note that only cites cites the sentence of its mark
                cited = "".join(match.group() for match in PLACEHOLDER.finditer(note))
                self.parts = [before_final_stop("".join(outer), cited)]
                return
            self._end_passage()
            self.parts = outer
        elif name in BREAK_MACROS:
            self._end_passage()
        elif name in INPUT_MACROS and args:
            self._input(self.root, args[-1].latex_verbatim().strip("{} "))
        elif name in IMPORT_MACROS | SUBIMPORT_MACROS and len(args) >= 2:
            folder, file = (arg.latex_verbatim().strip("{} ") for arg in args[-2:])
            base = self.path.parent if name in SUBIMPORT_MACROS else self.root
            self._input(base / folder, file, nested_from=base / folder)
        elif name in BIBLIOGRAPHY_MACROS and args:
            self._bibliography(name, args[-1].latex_verbatim().strip("{} "))
        elif name not in SKIP_MACROS:
            groups = [a for a in args if isinstance(a, LatexGroupNode) and a.delimiters[0] == "{"]
            if name in LAST_ARGUMENT_MACROS:
                groups = groups[-1:]
            if groups:
                self._walk(groups)
            else:  # \ldots, \%, \LaTeX: their text
                self.parts.append(_text_of(node))

    def _bibliography(self, macro: str, names: str) -> None:
        for name in filter(None, (n.strip() for n in names.split(","))):
            file = name if macro == "addbibresource" or name.endswith(".bib") else f"{name}.bib"
            self.text.bibliographies.append(self.root / file)

    def _input(self, folder: Path, name: str, nested_from: Path | None = None) -> None:
        """Walk an input file where it exists (LaTeX adds .tex), once, as its own passages;
        its own inputs are read from `nested_from` (an imported file's folder), else from
        the project's folder."""
        candidates = [folder / name, folder / f"{name}.tex"]
        path = next((p.resolve() for p in candidates if is_file(p)), None)
        if path is None:
            self.text.missing_inputs.append(candidates[0 if Path(name).suffix else 1])
        if path is None or path in self.seen:
            return
        self.seen.add(path)
        self._end_passage()
        _LatexReader(path, nested_from or self.root, self.text, self.seen).read()


def _text_of(node: LatexMacroNode | LatexMathNode) -> str:
    """pylatexenc's plain text of a macro or inline math; none for a malformed macro whose
    arguments its text rules read but the tolerant parse did not find (an unclosed `\\href{`)."""
    try:
        return str(_TEXT.nodelist_to_text([node]))
    except (AttributeError, IndexError):
        return ""


def _one_cite(multicite: re.Match[str]) -> str:
    """A multicite command as `\\cite` of all its keys, its line breaks kept after it so that
    every later line keeps its number."""
    args = multicite["args"]
    keys = ",".join(re.findall(r"\{([^{}]*)\}", _NOTE.sub("", args)))
    return f"\\cite{{{keys}}}" + "\n" * args.count("\n")


def read_latex(path: Path) -> PlainText:
    """A LaTeX draft (and the files it inputs) as plain text with citation placeholders; its
    reference list, from its `thebibliography` or else the .bbl that BibTeX or biblatex wrote
    beside it."""
    text = PlainText()
    _LatexReader(path, path.parent, text, {path.resolve()}).read()
    for key, entry in bibitems(_bbl_beside(path)).items():
        text.references.setdefault(key, entry)
    return text


def _bbl_beside(draft: Path) -> str:
    """The .bbl beside the draft, or nothing; an older BibTeX writes Latin-1: an odd letter
    costs no entry."""
    try:
        return draft.with_suffix(".bbl").read_bytes().decode("utf-8", "replace")
    except OSError:  # none there, or not readable: the check goes on without it
        return ""


def bibitems(source: str) -> dict[str, str]:
    """A reference list's entries as text, by their keys: a `thebibliography` list's (BibTeX's
    .bbl too) by `\\bibitem` key, biblatex's .bbl by `\\entry` key (its title, DOI and
    eprint: what an entry is matched by)."""
    if _BIBLATEX_ENTRY.search(source):
        return {key: _biblatex_text(fields) for key, fields in _BIBLATEX_ENTRY.findall(source)}
    _, *keyed = _BIBITEM.split(source.split("\\end{thebibliography}")[0])
    return {
        key.strip(): " ".join(_entry_text(entry).split())
        for key, entry in zip(keyed[::2], keyed[1::2], strict=True)
    }


def _biblatex_text(fields: str) -> str:
    title = _BIBLATEX_TITLE.search(fields)
    doi = _BIBLATEX_DOI.search(fields)
    eprint = _BIBLATEX_EPRINT.search(fields)
    parts = [_entry_text(title[1]).strip() + "." if title else ""]
    parts += [f"doi:{doi[1]}" if doi else "", f"arXiv:{eprint[1]}" if eprint else ""]
    return " ".join(part for part in parts if part)


def _entry_text(entry: str) -> str:
    """An entry's plain text; a malformed one's (pylatexenc fails on "\\href{" left open)
    with its macros and braces taken out instead."""
    try:
        return str(_TEXT.latex_to_text(entry))
    except (AttributeError, IndexError):
        return _MARKUP.sub(" ", entry)
