"""Make labelled (premise, hypothesis) pairs from corpus sentences, without human labels.

After FactCC (Kryscinski et al., 2020): a source sentence is the premise; the hypothesis is
- entailed: the sentence or one of its clauses, with a reporting frame ("We found that ...")
  or a parenthesis dropped;
- contradicted: that same hypothesis with a negation inserted or removed, a direction word
  swapped for its antonym (increases/decreases, higher/lower, promotes/inhibits, ...), or a
  number changed;
- neutral: a clause of another sentence of the same abstract (on topic, saying something
  else), of a random sentence, or the hypothesis with a named entity swapped for one from
  another sentence.
Sentences come from the training corpora in --data (SciFact and Citation-Integrity abstracts:
text only, no labels). Seeded; a few seconds. Writes one JSON object a line:
{"premise", "hypothesis", "label": 0 entailed | 1 neutral | 2 contradicted, "how"}.

With --restated, the pairs are made across sentences instead, closer to how a citing claim
restates a paper in other words. The hypothesis is a finding the paper states once: its title,
when the title has a verb, or a conclusion ("These results suggest that ...", "Thus, ...")
without its frame. The premise is the abstract's other sentence sharing most of its content
words (at least --overlap of them; or each of the --matches sentences sharing most): entailed as
is, contradicted with a direction word swapped or a negation inserted; neutral, the hypothesis
against the sentence sharing most of its words among 30 abstracts picked at random.

    .venv/bin/python evals/make_pairs.py --data ../shared/data --out /tmp/xenc-pairs.jsonl
"""

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ENTAILED, NEUTRAL, CONTRADICTED = 0, 1, 2
LABELS = ("entailed", "neutral", "contradicted")
CORPORA = ("scifact", "citation_integrity")
SEED = 0

# Direction words and their opposites, form for form; each pair swaps both ways.
_SWAPS = """
increase decrease|increases decreases|increased decreased|increasing decreasing
higher lower|high low|more less|greater smaller|larger smaller|longer shorter|faster slower
promote inhibit|promotes inhibits|promoted inhibited|promoting inhibiting
positively negatively|positive negative|improve worsen|improves worsens|improved worsened
enhance reduce|enhances reduces|enhanced reduced|enhancing reducing
upregulated downregulated|up-regulated down-regulated|upregulation downregulation
activates suppresses|activated suppressed|activation suppression
induces prevents|induced prevented|elevated reduced|rise fall|gain loss|better worse
beneficial harmful|protective detrimental|sensitive resistant|agonist antagonist
effective ineffective|sufficient insufficient|required dispensable|present absent
stimulates inhibits|stimulated inhibited|accelerates delays|accelerated delayed
associated unassociated|correlated uncorrelated|efficacy inefficacy|risk protection
"""
SWAP: dict[str, str] = {}
for _pair in re.split(r"[|\n]", _SWAPS.strip()):
    _a, _b = _pair.split()
    SWAP.setdefault(_a, _b)
    SWAP.setdefault(_b, _a)
# base, third person and past forms of the swappable verbs, to say "does not increase"
VERBS = {
    base + ending: (base, ending)
    for base in [
        "increase",
        "decrease",
        "promote",
        "inhibit",
        "improve",
        "worsen",
        "enhance",
        "reduce",
        "induce",
        "prevent",
        "activate",
        "suppress",
        "stimulate",
        "accelerate",
        "delay",
    ]
    for ending in ("s", "d", "ed")
}
_AUX = re.compile(
    r"\b(is|are|was|were|can|could|may|might|will|would|should|has|have|had|does|do|did)"
    r" (?!not\b)(?=[a-z])"
)
_AUX_NOT = re.compile(r"\b(is|are|was|were|can|could|will|would|has|have|had) not ")
_DO_NOT = re.compile(r"\b(does|did|do) not (\w+)")
_BE = {"is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "not"}
_NO = re.compile(r"\b[Nn]o (significant|difference|effect|association|change|evidence)\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\d)")
_FRAME = re.compile(
    r"^.{0,80}?\b(suggest|suggests|suggested|indicate|indicates|indicated|show|shows|showed|"
    r"shown|demonstrate|demonstrates|demonstrated|found|find|reveal|reveals|revealed|"
    r"conclude|confirm|confirms|confirmed|report|observed) that (.{20,})$"
)
# a conclusion's lead-in that can go ("Taken together, ..."), when it has no framing "that"
_LEAD = re.compile(
    r"^(CONCLUSIONS?:?|In conclusion,|In summary,|Taken together,|Overall,|Together,|Thus,|"
    r"Collectively,|Therefore,|Hence,) (.+)$"
)
_PAREN = re.compile(r"\s*\([^()]{1,80}\)")
_CLAUSE = re.compile(r", (?:and|but|whereas|while|although) |; ")
# a trailing comment on a result ("..., suggesting that ...") can go without changing it
_TAIL = re.compile(r", (?:suggesting|indicating|which|consistent with|as|thus|thereby) .*$")
# a title that states a finding has a verb: an auxiliary, a direction verb, or one of these
_FINDING_VERB = re.compile(
    r"\b(?:is|are|was|were|has|have|can|may|does|do|causes?|leads?|regulates?|mediates?|"
    r"predicts?|requires?|controls?|drives?|protects?|confers?|blocks?|impairs?|restores?|"
    r"reverses?|limits?|determines?|triggers?|modulates?|contributes?|underlies|depends?)\b",
    re.IGNORECASE,
)
_CONTENT = re.compile(r"[a-z][a-z0-9-]{3,}")
_COMMON_WORDS = """that with this from were have been their which these those than also into between
during after before about there other such only both more most less study studies patients results
data using used group groups analysis effect effects"""
_COMMON = frozenset(_COMMON_WORDS.split())
NEUTRAL_POOL = 30  # random abstracts searched for a neutral premise sharing the most words
_ENTITY = re.compile(r"\b(?=\w*[A-Z0-9])(?=\w*[A-Za-z])[A-Za-z][\w-]*[A-Z0-9][\w-]*\b")


def read_titled(data: Path) -> list[tuple[str, list[str]]]:
    """Every abstract of the training corpora, as its title ("" where it has none) and its
    sentences of 6 to 60 words."""
    out = []
    for name in CORPORA:
        with (data / name / "corpus.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                doc = json.loads(line)
                kept = [s.strip() for s in doc["abstract"] if 6 <= len(s.split()) <= 60]
                if kept:
                    out.append((doc.get("title", "").strip(), kept))
    return out


def _capital(text: str) -> str:
    """The text with its first letter upper-case and a closing full stop."""
    text = text.strip().rstrip(".;,") + "."
    return text[:1].upper() + text[1:]


def base_hypothesis(sentence: str, rng: random.Random) -> tuple[str, str]:
    """A statement the sentence entails: itself, a clause, without its frame or parentheses."""
    text, how = sentence, "sentence"
    framed = _FRAME.match(text)
    if framed and rng.random() < 0.8:
        text, how = framed.group(2), "unframed"
    if "(" in text and rng.random() < 0.7:
        text, how = _PAREN.sub("", text), how + "+unbracketed"
    if _TAIL.search(text) and rng.random() < 0.8:
        cut = _TAIL.sub("", text)
        if len(cut.split()) >= 6:
            text, how = cut, how + "+untailed"
    clauses = [c for c in _CLAUSE.split(text) if len(c.split()) >= 6]
    if len(clauses) > 1 and rng.random() < 0.6:
        text, how = rng.choice(clauses), "clause"
    return _capital(text), how


def negate(text: str, rng: random.Random) -> str | None:
    """The text with a negation inserted or removed; None if it offers no place for one."""
    if _DO_NOT.search(text):

        def positive(m: re.Match[str]) -> str:
            ending = "s" if m.group(1) == "does" else ("d" if m.group(2).endswith("e") else "ed")
            return m.group(2) + (ending if m.group(1) != "do" else "")

        return _DO_NOT.sub(positive, text, count=1)
    if _AUX_NOT.search(text):
        return _AUX_NOT.sub(r"\1 ", text, count=1)
    if _NO.search(text):
        return _NO.sub(lambda m: ("A " if m.group(0)[0] == "N" else "a ") + m.group(1), text, 1)
    # a verb after "is" or "has" is passive or perfect: the auxiliary takes the negation
    verbs = [
        m
        for m in re.finditer(r"\b(\w+) (\w+)\b", text)
        if m.group(2) in VERBS and m.group(1) not in _BE
    ]
    if verbs and rng.random() < 0.5:
        m = rng.choice(verbs)
        base, ending = VERBS[m.group(2)]
        aux = "does" if ending == "s" else "did"
        return text[: m.start(2)] + f"{aux} not {base}" + text[m.end(2) :]
    if _AUX.search(text):
        return _AUX.sub(r"\1 not ", text, count=1)
    return None


def swap_antonym(text: str, rng: random.Random) -> str | None:
    """The text with one direction word swapped for its opposite."""
    found = [m for m in re.finditer(r"\b[\w-]+\b", text) if m.group(0).lower() in SWAP]
    if not found:
        return None
    m = rng.choice(found)
    new = SWAP[m.group(0).lower()]
    if m.group(0)[0].isupper():
        new = new[:1].upper() + new[1:]
    return text[: m.start()] + new + text[m.end() :]


def swap_number(text: str, rng: random.Random) -> str | None:
    """The text with one number replaced by a clearly different one."""
    found = [m for m in _NUMBER.finditer(text) if float(m.group(0)) not in (0.0,)]
    if not found:
        return None
    m = rng.choice(found)
    value = float(m.group(0))
    factor = rng.choice([0.2, 0.4, 2.5, 4.0])
    decimals = len(m.group(0).split(".")[1]) if "." in m.group(0) else 0
    new = f"{value * factor:.{decimals}f}"
    return None if new == m.group(0) else text[: m.start()] + new + text[m.end() :]


def swap_entity(text: str, others: list[str], rng: random.Random) -> str | None:
    """The text with one named entity (a gene, a drug code) replaced by another sentence's."""
    found = list(_ENTITY.finditer(text))
    pool = [e for s in others for e in _ENTITY.findall(s)]
    if not found or not pool:
        return None
    m = rng.choice(found)
    new = rng.choice(pool)
    return None if new == m.group(0) else text[: m.start()] + new + text[m.end() :]


Transform = Callable[[str, random.Random], str | None]
CONTRADICTIONS: dict[str, Transform] = {
    "negation": negate,
    "antonym": swap_antonym,
    "number": swap_number,
}


def pairs_of(
    abstract: list[str], other: list[str], rng: random.Random
) -> list[tuple[str, str, int, str]]:
    """Up to one entailed, one contradicted and one neutral pair per sentence of an abstract."""
    out = []
    for i, premise in enumerate(abstract):
        hypothesis, how = base_hypothesis(premise, rng)
        out.append((premise, hypothesis, ENTAILED, how))
        order = list(CONTRADICTIONS)
        rng.shuffle(order)
        # antonyms and negations teach polarity, the point of the exercise: try them first
        order.sort(key=lambda name: name == "number")
        for name in order:
            changed = CONTRADICTIONS[name](hypothesis, rng)
            if changed and changed != hypothesis:
                out.append((premise, changed, CONTRADICTED, name))
                break
        siblings = abstract[:i] + abstract[i + 1 :]
        pick = rng.random()
        if pick < 0.5 and siblings:
            text, how = base_hypothesis(rng.choice(siblings), rng)[0], "same abstract"
        elif pick < 0.75 and (swapped := swap_entity(hypothesis, other, rng)):
            text, how = swapped, "entity"
        else:
            text, how = base_hypothesis(rng.choice(other), rng)[0], "random"
        out.append((premise, text, NEUTRAL, how))
    return out


def make_pairs(abstracts: list[list[str]], seed: int = SEED) -> list[tuple[str, str, int, str]]:
    """Every abstract's pairs, shuffled; `seed` fixes every choice."""
    rng = random.Random(seed)
    out = []
    for abstract in abstracts:
        out += pairs_of(abstract, rng.choice(abstracts), rng)
    rng.shuffle(out)
    return out


def content_words(text: str) -> frozenset[str]:
    """Lower-cased words of four letters or more, less the commonest of abstracts."""
    return frozenset(w for w in _CONTENT.findall(text.lower()) if w not in _COMMON)


def findings(title: str, sentences: list[str]) -> list[tuple[str, int | None, str]]:
    """Statements of a paper's finding: (text, index of the sentence it came from, how)."""
    out: list[tuple[str, int | None, str]] = []
    verb = _FINDING_VERB.search(title) or VERBS.keys() & set(title.lower().split())
    if 5 <= len(title.split()) <= 30 and ":" not in title and verb:
        out.append((title, None, "title"))
    for i, sentence in enumerate(sentences):
        framed = _FRAME.match(sentence) or _LEAD.match(sentence)
        if framed and len(framed.group(2).split()) >= 6:
            out.append((_PAREN.sub("", framed.group(2)), i, "conclusion"))
    return out


def best_matches(
    words: frozenset[str], sentences: list[str], skip: int | None, matches: int = 1
) -> list[tuple[float, int]]:
    """The shares of `words` found in the `matches` sentences sharing most of them, with their
    indices, most first."""
    scored = [
        (len(words & content_words(s)) / max(1, len(words)), i)
        for i, s in enumerate(sentences)
        if i != skip
    ]
    return sorted(scored, reverse=True)[:matches]


def restated_pairs(
    titled: list[tuple[str, list[str]]], overlap: float, matches: int = 1, seed: int = SEED
) -> list[tuple[str, str, int, str]]:
    """Entailed, contradicted and neutral pairs of each finding against each of the (at most
    `matches`) other sentences sharing most of its words."""
    rng = random.Random(seed)
    out = []
    for title, sentences in titled:
        for text, source, how in findings(title, sentences):
            words = content_words(text)
            for share, index in best_matches(words, sentences, source, matches):
                premise = sentences[index]
                if share < overlap or text.lower().rstrip(". ") in premise.lower():
                    continue
                out += _three_ways(premise, _capital(text), how, titled, sentences, rng)
    rng.shuffle(out)
    return out


def _three_ways(
    premise: str,
    hypothesis: str,
    how: str,
    titled: list[tuple[str, list[str]]],
    own: list[str],
    rng: random.Random,
) -> list[tuple[str, str, int, str]]:
    """The finding entailed by its premise, flipped against it, and beside a neutral premise:
    the sentence sharing most of its words among random abstracts' sentences, none of `own`
    (its own abstract may be drawn, or be a copy)."""
    out = [(premise, hypothesis, ENTAILED, how)]
    flipped = swap_antonym(hypothesis, rng) or negate(hypothesis, rng)
    if flipped and flipped != hypothesis:
        out.append((premise, flipped, CONTRADICTED, how + "+flipped"))
    drawn = rng.sample(titled, min(NEUTRAL_POOL, len(titled)))
    pool = [s for _, other in drawn for s in other if s not in own]
    if pool:
        index = best_matches(content_words(hypothesis), pool, None)[0][1]
        out.append((pool[index], hypothesis, NEUTRAL, how))
    return out


def main() -> None:
    """Read the corpora, make the pairs, print counts per label and transformation, write."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--restated", action="store_true", help="pairs across sentences")
    parser.add_argument("--overlap", type=float, default=0.4)
    parser.add_argument("--matches", type=int, default=1, help="premises a finding pairs with")
    args = parser.parse_args()
    titled = read_titled(args.data)
    abstracts = [sentences for _, sentences in titled]
    pairs = (
        restated_pairs(titled, args.overlap, args.matches)
        if args.restated
        else make_pairs(abstracts)
    )
    print(f"{sum(map(len, abstracts))} sentences from {len(abstracts)} abstracts")
    counts = Counter((LABELS[label], how) for _, _, label, how in pairs)
    for (name, how), n in sorted(counts.items()):
        print(f"  {name:13s} {how:24s} {n:7d}")
    print(f"{len(pairs)} pairs: {dict(Counter(LABELS[p[2]] for p in pairs))}")
    with args.out.open("w", encoding="utf-8") as out:
        for premise, hypothesis, label, how in pairs:
            record = {"premise": premise, "hypothesis": hypothesis, "label": label, "how": how}
            out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
