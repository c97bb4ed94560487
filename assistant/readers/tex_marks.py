"""The TeX marks that arXiv titles, abstracts and author names carry, read as plain text.

arXiv's abstracts are text with TeX in places, not TeX documents: a bare "%" means per cent and
"~" means about, so a TeX parser (as the BibTeX reader uses) would cut or blank them. Only what
is plainly markup is undone here: escaped characters, text-style macros and groups, accents,
the `\\eg`-style abbreviations papers define, and ``quotes''. Math (`$...$`) and every other
macro stay as written.
"""

import re
import unicodedata

# $...$ or $$...$$, not opened or closed by an escaped \$; split() keeps them as odd pieces
_MATH = re.compile(r"((?<!\\)\$\$.+?(?<!\\)\$\$|(?<!\\)\$.+?(?<!\\)\$)", re.DOTALL)
_STYLE_MACRO = re.compile(
    r"\\(?:emph|textit|textbf|texttt|textsc|textsl|textrm|textsf|textup|textmd|underline"
    r"|mbox|text|url)\s*\{([^{}]*)\}"
)
_STYLE_GROUP = re.compile(r"\{\\(?:em|bf|it|sc|tt|sl|rm|sf)\s+([^{}]*)\}")
# combining marks of TeX's accents: \"o, \'{e}, \H{o}, \c{c}, \u{g} (letter accents need the
# brace or a space, so \cite or \url is no accent)
_SYMBOL_ACCENTS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303",
                   "=": "\u0304", ".": "\u0307"}  # fmt: skip
_LETTER_ACCENTS = {"u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
                   "r": "\u030a"}  # fmt: skip
_SYMBOL_ACCENT = re.compile(r"""\\(["'`^~=.])\s*(?:\{(\\i|\w)\}|(\\i|\w))""")
_LETTER_ACCENT = re.compile(r"\\([uvHckr])(?:\s*\{(\\i|\w)\}|\s+(\\i|\w))")
# braces around plain text, not a macro's argument: {\"u}ber, {GPT}-4
_BARE_GROUP = re.compile(r"(?<![\w\\])\{([^{}\\]*)\}")
_ESCAPED = re.compile(r"\\([%&#_$])")
_ABBREVIATIONS = {"eg": "e.g.", "ie": "i.e.", "etal": "et al.", "etc": "etc.", "vs": "vs.",
                  "cf": "cf.", "wrt": "w.r.t."}  # fmt: skip
_ABBREVIATION = re.compile(r"\\(" + "|".join(_ABBREVIATIONS) + r")(?![a-zA-Z])\.?")
_QUOTED = re.compile(r"``(.*?)''")


def plain_text(text: str) -> str:
    """`text` with its TeX markup read outside math; anything else as it was."""
    if "\\" not in text and "{" not in text and "``" not in text:
        return text
    pieces = _MATH.split(text)
    pieces[::2] = [_plain_outside_math(piece) for piece in pieces[::2]]
    return unicodedata.normalize("NFC", "".join(pieces))


def _plain_outside_math(text: str) -> str:
    text = _ABBREVIATION.sub(lambda m: _ABBREVIATIONS[m.group(1)], text)
    text = _SYMBOL_ACCENT.sub(lambda m: _accented(m, _SYMBOL_ACCENTS), text)
    text = _LETTER_ACCENT.sub(lambda m: _accented(m, _LETTER_ACCENTS), text)
    while True:  # innermost first: \textbf{\emph{x}}
        unstyled = _BARE_GROUP.sub(r"\1", _STYLE_GROUP.sub(r"\1", _STYLE_MACRO.sub(r"\1", text)))
        if unstyled == text:
            break
        text = unstyled
    return _QUOTED.sub(r'"\1"', _ESCAPED.sub(r"\1", text))


def _accented(match: re.Match[str], marks: dict[str, str]) -> str:
    letter = match.group(2) or match.group(3)
    return ("i" if letter == "\\i" else letter) + marks[match.group(1)]
