"""The word lists the `local` judge's cues look for (negation, direction, hedges, null results,
antonym pairs), stemmed once with the same stemmer as the claims and sources they are matched in."""

from dataclasses import dataclass
from functools import cache

from assistant.lexical import terms
from assistant.verdicts import FUNCTION_WORDS

_NEGATION = (
    "not no never without neither nor none fail failed lack lacks lacked unable cannot absence "
    "absent unaffected unrelated independent insufficient doesn didn isn aren wasn weren don "
    "couldn won nothing"
)
_UP = (
    "increase increases increased increasing higher high greater more elevated enhance enhances "
    "enhanced promote promotes promoted improve improves improved induce induces induced "
    "activate activates activated stimulate stimulates upregulate upregulated raise raises gain"
)
_DOWN = (
    "decrease decreases decreased decreasing lower low less fewer reduce reduces reduced "
    "reduction inhibit inhibits inhibited suppress suppresses suppressed impair impairs "
    "impaired block blocks blocked attenuate attenuates prevent prevents prevented "
    "downregulate downregulated loss diminish diminished"
)
_HEDGE = "may might could suggest suggests suggested possibly potential potentially likely"
# Opposites a claim and its source can disagree on, one pair a line (a backslash continues
# it), its sides split by "/".
_ANTONYMS = """
increase increases increased increasing rise rises elevated / decrease decreases decreased \
decreasing fall falls lowered declined decline
higher high greater / lower low
more / less fewer
larger large bigger / smaller small
longer long / shorter short
faster accelerate accelerates accelerated / slower delay delays delayed
promote promotes promoted stimulate stimulates stimulated / inhibit inhibits inhibited
positive positively / negative negatively
improve improves improved improvement better / worsen worsens worsened worse impair impaired
upregulate upregulates upregulated upregulation / downregulate downregulates downregulated \
downregulation
enhance enhances enhanced / reduce reduces reduced reduction
activate activates activated activation / suppress suppresses suppressed inactivate inactivated
induce induces induced / prevent prevents prevented block blocks blocked abolish abolished
gain gains / loss losses
benefit beneficial protective protects / harm harmful detrimental
sensitive sensitivity susceptible / resistant resistance
agonist / antagonist
present presence / absent absence
required necessary essential / dispensable unnecessary
sufficient / insufficient
effective efficacious / ineffective
successful success / unsuccessful failure
associated correlated linked related / unrelated uncorrelated unassociated independent
"""
# Words that, negated in a source, report a null result ("no significant difference").
_NULL = "significant significantly difference differ differed effect affect change changed alter"


@dataclass(frozen=True)
class Vocabulary:
    """The stemmed word lists the features look for."""

    function: frozenset[str]
    negation: frozenset[str]
    up: frozenset[str]
    down: frozenset[str]
    hedge: frozenset[str]
    null: frozenset[str]
    # stemmed word -> (antonym pair, +1 or -1 for its side)
    opposites: dict[str, tuple[int, int]]


@cache
def vocabulary() -> Vocabulary:
    """The cue lists, stemmed once with the same stemmer as claims and sources."""
    lists = [FUNCTION_WORDS, _NEGATION, _UP, _DOWN, _HEDGE, _NULL]
    pairs = [line.split("/") for line in _ANTONYMS.strip().splitlines()]
    stemmed = terms(lists + [side for pair in pairs for side in pair])
    opposites: dict[str, tuple[int, int]] = {}
    for index in range(len(pairs)):
        for side, sign in ((2 * index, 1), (2 * index + 1, -1)):
            opposites.update({word: (index, sign) for word in stemmed[len(lists) + side]})
    function, negation, up, down, hedge, null = (frozenset(w) for w in stemmed[: len(lists)])
    return Vocabulary(function, negation, up, down, hedge, null, opposites)
