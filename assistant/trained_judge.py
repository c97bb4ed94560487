"""A trained offline judge: a small model over MiniLM similarities and word cues.

For each (claim, source) pair it embeds the claim and every source sentence with the bundled
MiniLM and derives 26 scalar features (closest-sentence cosines, shared content words, numbers,
negation and direction words, the untrained `local` score); `evals/train_judge.py` also computes
the claim and closest-sentence vectors for the designs it compares. The shipped model (an
8-unit tanh MLP over the scalars, `assistant/judge_weights.npz`) was picked by 5-fold grouped
cross-validation on the SciFact and Citation-Integrity training splits (figures in
BENCHMARKS.md). Like the untrained score it tells grounded from off-topic claims, not supported
from contradicted ones. Only numpy runs at inference.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from assistant.chunking import split_sentences
from assistant.verdicts import FUNCTION_WORDS, Grid, Label, Verdict, grid_from_pairs
from assistant.lexical import terms
from assistant.settings import EmbeddingSettings

if TYPE_CHECKING:  # the encoder module is imported when a judge is built, not with this one
    from assistant.embedders.minilm_numpy import MiniLMQueryEncoder

WEIGHTS_FILE = "judge_weights.npz"
LOCAL_COLUMN = 0  # the feature that is the untrained `local` judge's score

# Citation-Integrity's citing sentences carry markers such as "[<|cit|>]" or "[<|multi_cit|>,7]";
# they say nothing about the claim, and drafted sentences never have them.
_MARKER = re.compile(r"<\|[a-z_]+\|>")
# Numeric "[1, 2]" citations go too; round brackets only when they held a marker ("\0" below).
_EMPTY_BRACKETS = re.compile(r"\[[\s,;\-–0-9\0]*\]|\([\s,;\-–0-9\0]*\0[\s,;\-–0-9\0]*\)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

# Cue words, stemmed like the claim and source terms before they are compared.
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


@dataclass(frozen=True)
class Vocabulary:
    """The stemmed word lists the features look for."""

    function: frozenset[str]
    negation: frozenset[str]
    up: frozenset[str]
    down: frozenset[str]
    hedge: frozenset[str]


@cache
def vocabulary() -> Vocabulary:
    """The cue lists, stemmed once with the same stemmer as claims and sources."""
    lists = terms([FUNCTION_WORDS, _NEGATION, _UP, _DOWN, _HEDGE])
    return Vocabulary(*(frozenset(words) for words in lists))


def clean_claim(text: str) -> str:
    """The claim without citation markers or the empty brackets they leave."""
    text = _EMPTY_BRACKETS.sub("", _MARKER.sub("\0", text)).replace("\0", "")
    text = re.sub(r"\s+([.,;:])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def source_sentences(source: str) -> list[str]:
    """The sentences a source is compared with; an unsplittable source is one sentence."""
    return split_sentences(source) or [source.strip() or "."]


def _content(words: Sequence[str], vocab: Vocabulary) -> set[str]:
    """Terms that carry meaning: no function words, no single letters."""
    return {w for w in words if w not in vocab.function and len(w) > 1}


def _share(needles: set[str], haystack: set[str]) -> float:
    """Share of `needles` found in `haystack`; 0 for no needles."""
    return len(needles & haystack) / len(needles) if needles else 0.0


def _cues(words: Sequence[str], vocab: Vocabulary) -> np.ndarray:
    """Counts of negation, up, down and hedge words, capped at 3."""
    counts = [sum(w in group for w in words) for group in (vocab.negation, vocab.up, vocab.down)]
    counts.append(sum(w in vocab.hedge for w in words))
    return np.minimum(np.array(counts, dtype=np.float32), 3.0)


def _numbers(claim: str, source: str) -> tuple[float, float]:
    """Whether the claim states numbers, and the share of them the source states too."""
    wanted = set(_NUMBER.findall(claim))
    if not wanted:
        return 0.0, 0.0
    return 1.0, len(wanted & set(_NUMBER.findall(source))) / len(wanted)


def _scalar_features(
    claim: str,
    source: str,
    cosines: np.ndarray,
    centroid: float,
    claim_words: list[str],
    sentence_words: list[list[str]],
) -> list[float]:
    """Similarity, overlap, number and cue features of one pair."""
    vocab = vocabulary()
    ranked = np.sort(cosines)[::-1]
    best = int(np.argmax(cosines))
    wanted = _content(claim_words, vocab)
    per_sentence = [_content(words, vocab) for words in sentence_words]
    everywhere = set().union(*per_sentence)
    claim_cues, best_cues = _cues(claim_words, vocab), _cues(sentence_words[best], vocab)
    polarity = np.sign(claim_cues[1] - claim_cues[2]) * np.sign(best_cues[1] - best_cues[2])
    return [
        (float(ranked[0]) + _share(wanted, everywhere)) / 2,  # the untrained `local` score
        float(ranked[0]),
        float(ranked[min(1, len(ranked) - 1)]),
        float(ranked[:3].mean()),
        float(cosines.mean()),
        float(cosines.std()),
        centroid,
        _share(wanted, everywhere),
        _share(wanted, per_sentence[best]),
        max(_share(wanted, words) for words in per_sentence),
        _share(per_sentence[best], wanted),
        float(np.log1p(len(cosines))),
        float(np.log1p(len(wanted))),
        float(np.log1p(sum(len(words) for words in sentence_words))),
        *_numbers(claim, source),
        *claim_cues.tolist(),
        *best_cues.tolist(),
        float((claim_cues[0] > 0) != (best_cues[0] > 0)),
        float(polarity),
    ]


def featurise(
    pairs: Sequence[tuple[str, str]], encoder: "MiniLMQueryEncoder", with_vectors: bool = False
) -> np.ndarray:
    """One feature row per (claim, source) pair; every text embedded in one encoder call.
    `with_vectors` appends the vector features `evals/train_judge.py` compares designs with
    (the shipped model reads the scalars only)."""
    claims = [clean_claim(claim) for claim, _ in pairs]
    sentences = [source_sentences(source) for _, source in pairs]
    flat = [s for group in sentences for s in group]
    # a claim judged against several sources, or a sentence shared by them, is embedded once
    texts = claims + flat
    unique = list(dict.fromkeys(texts))
    where = {text: i for i, text in enumerate(unique)}
    vectors = encoder.embed(unique)[[where[text] for text in texts]]
    claim_vectors, sentence_vectors = vectors[: len(claims)], vectors[len(claims) :]
    words = terms(claims + flat)
    claim_words, flat_words = words[: len(claims)], words[len(claims) :]
    rows = []
    offset = 0
    for i, group in enumerate(sentences):
        block = sentence_vectors[offset : offset + len(group)]
        block_words = flat_words[offset : offset + len(group)]
        offset += len(group)
        c = claim_vectors[i]
        cosines = block @ c
        mean = block.mean(axis=0)
        centroid = float(mean @ c / (np.linalg.norm(mean) + 1e-12))
        scalars = _scalar_features(
            claims[i], pairs[i][1], cosines, centroid, claim_words[i], block_words
        )
        row = [np.array(scalars, np.float32)]
        if with_vectors:
            # the product and gap of the claim and its closest sentence let a model weigh
            # which meaning dimensions must agree, beyond one cosine; the claim alone says
            # what kind of statement it is (hedged background, a precise result)
            best = block[int(np.argmax(cosines))]
            row += [c * best, np.abs(c - best), c]
        rows.append(np.concatenate(row))
    return np.vstack(rows).astype(np.float32)


def predict(model: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """Support probabilities: standardised features through tanh layers and a sigmoid."""
    # a model reads the leading columns it was trained on; the mean says how many
    used = len(model["mean"])
    x = (features[:, :used] - model["mean"]) / model["scale"]
    layers = int(model["layers"])
    for i in range(layers):
        x = x @ model[f"w{i}"] + model[f"b{i}"]
        if i < layers - 1:
            x = np.tanh(x)
    # clip so exp cannot overflow on an outlandish input
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x[:, 0], -30.0, 30.0))))


def load_weights() -> dict[str, np.ndarray]:
    """The packaged model: its arrays, threshold and design name."""
    path = resources.files("assistant").joinpath(WEIGHTS_FILE)
    with path.open("rb") as handle, np.load(handle, allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}


class TrainedJudge:
    """Offline: a model trained on SciFact and Citation-Integrity scores each pair from MiniLM
    similarities and word cues; a score at or above the threshold is support."""

    name = "local"

    def __init__(self, threshold: float | None = None) -> None:
        from assistant.embedders.minilm_numpy import MiniLMQueryEncoder

        self.model = load_weights()
        self.threshold = float(self.model["threshold"]) if threshold is None else threshold
        self.encoder = MiniLMQueryEncoder(EmbeddingSettings())

    def judge(self, claim: str, source: str) -> Verdict:
        """One verdict."""
        return self.judge_all([(claim, source)])[0]

    def judge_grid(self, claims: Sequence[str], sources: Sequence[str]) -> Grid:
        """Every claim against every source; each text is embedded once."""
        return grid_from_pairs(self.judge_all, claims, sources)

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        """One verdict per pair, in order; all texts embedded in one encoder call."""
        if not pairs:
            return []
        scores = predict(self.model, featurise(pairs, self.encoder))
        verdicts = []
        for score in scores.tolist():
            label: Label = "supported" if score >= self.threshold else "unsupported"
            verdicts.append(Verdict(label=label, score=score))
        return verdicts
