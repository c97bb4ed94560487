"""A trained offline judge: a small model over MiniLM similarities, word cues and a cross-encoder.

For each (claim, source) pair it embeds the claim and every source sentence with the bundled
MiniLM (int8, in onnxruntime: `judge_encoder`) and derives 34 scalar features (closest-sentence
cosines, shared content words, numbers, negation and direction words, the untrained `local`
score, and polarity: antonyms such as increases/decreases and negated words on which the claim
and its closest sentences disagree), and 5 from the cross-encoder (`assistant/cross_encoder.py`,
fine-tuned on the training splits' human labels) reading the claim with its three closest
sentences (entailed and contradicted probabilities); `evals/train_judge.py` also computes the
claim and closest-sentence vectors for the designs it compares. The shipped support model
(logistic regression over the 39 scalars) and a contradiction head (the same, trained on
SciFact's SUPPORT and REFUTE pairs only) live in `assistant/judge_weights.npz`; both were chosen
by 5-fold grouped cross-validation on the SciFact and Citation-Integrity training splits, the
cross-encoder's columns coming from one fine-tuned without each fold (figures in
BENCHMARKS.md). Only numpy and onnxruntime run at inference; the cue word lists are in
`assistant/cue_words.py`.
"""

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.chunking import split_sentences
from assistant.cue_words import Vocabulary, vocabulary
from assistant.lexical import terms
from assistant.settings import EmbeddingSettings
from assistant.verdicts import Grid, Label, Verdict, grid_from_pairs

if TYPE_CHECKING:  # the encoder modules are imported when a judge is built, not with this one
    from assistant.cross_encoder import CrossEncoder
    from assistant.embedders.minilm_numpy import MiniLMQueryEncoder

WEIGHTS_FILE = "judge_weights.npz"
CONTRADICTION = "contradiction_"  # prefix of the contradiction head's arrays in the weights
LOCAL_COLUMN = 0  # the feature that is the untrained `local` judge's score
BASE_FEATURES = 34  # the scalars before the cross-encoder's
CROSS_FEATURES = 5
CROSS_SENTENCES = 3  # the cross-encoder reads the claim with this many closest sentences
ENTAILED, CONTRADICTED = 0, 2  # the cross-encoder's columns (assistant.cross_encoder)

# Citation-Integrity's citing sentences carry markers such as "[<|cit|>]" or "[<|multi_cit|>,7]";
# they say nothing about the claim, and drafted sentences never have them.
_MARKER = re.compile(r"<\|[a-z_]+\|>")
# Numeric "[1, 2]" citations go too; round brackets only when they held a marker ("\0" below).
_EMPTY_BRACKETS = re.compile(r"\[[\s,;\-–0-9\0]*\]|\([\s,;\-–0-9\0]*\0[\s,;\-–0-9\0]*\)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# "up-regulated" is one word to the cue lists, which the tokenizer would split at the hyphen
_HYPHENATED = re.compile(r"\b(up|down)-(?=regulat)", re.IGNORECASE)

# A negation covers this many following words ("did not significantly increase").
_SCOPE = 4


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


def _negated(words: Sequence[str], vocab: Vocabulary) -> list[bool]:
    """Per word, whether a negation word shortly before it covers it."""
    covered, left = [], 0
    for word in words:
        covered.append(left > 0)
        left = _SCOPE if word in vocab.negation else left - 1
    return covered


def _stances(words: Sequence[str], vocab: Vocabulary) -> tuple[dict[int, int], set[str], set[str]]:
    """The side each antonym pair is stated on (flipped under negation), and the content words
    stated plainly and under negation."""
    stance: dict[int, int] = {}
    plain: set[str] = set()
    negated: set[str] = set()
    for word, covered in zip(words, _negated(words, vocab), strict=True):
        if word in vocab.opposites:
            pair, side = vocab.opposites[word]
            stance[pair] = -side if covered else side
        if word not in vocab.function and word not in vocab.negation and len(word) > 1:
            (negated if covered else plain).add(word)
    return stance, plain, negated


def _polarity(claim_words: Sequence[str], sentence_words: Sequence[str]) -> list[float]:
    """How the claim and one source sentence agree in direction: antonym pairs stated on the
    same and on opposite sides, words one negates and the other states plainly, and whether
    the sentence reports a null result the claim does not."""
    vocab = vocabulary()
    claim_stance, claim_plain, claim_negated = _stances(claim_words, vocab)
    stance, plain, negated = _stances(sentence_words, vocab)
    shared = claim_stance.keys() & stance.keys()
    same = sum(claim_stance[pair] == stance[pair] for pair in shared)
    flipped = len(claim_negated & plain) + len(negated & claim_plain)
    null = bool(negated & vocab.null) and not claim_negated
    return [float(same), float(len(shared) - same), float(flipped), float(null)]


def _polarity_features(
    claim_words: Sequence[str], sentence_words: list[list[str]], cosines: np.ndarray
) -> list[float]:
    """Polarity of the closest sentence, and summed over the three closest, capped at 3."""
    closest = np.argsort(cosines)[::-1][:3]
    per_sentence = np.array([_polarity(claim_words, sentence_words[i]) for i in closest])
    return np.minimum(np.concatenate([per_sentence[0], per_sentence.sum(axis=0)]), 3.0).tolist()


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
        *_polarity_features(claim_words, sentence_words, cosines),
    ]


def base_features(
    pairs: Sequence[tuple[str, str]], encoder: "MiniLMQueryEncoder", with_vectors: bool = False
) -> tuple[np.ndarray, list[str], list[list[str]]]:
    """The 34 scalars of each (claim, source) pair (and with `with_vectors` the vector features
    `evals/train_judge.py` compares designs with), every text embedded in one encoder call;
    the cleaned claims, and each one's closest sentences for the cross-encoder."""
    claims = [clean_claim(claim) for claim, _ in pairs]
    sentences = [source_sentences(source) for _, source in pairs]
    flat = [s for group in sentences for s in group]
    # a claim judged against several sources, or a sentence shared by them, is embedded once
    texts = claims + flat
    unique = list(dict.fromkeys(texts))
    where = {text: i for i, text in enumerate(unique)}
    vectors = encoder.embed(unique)[[where[text] for text in texts]]
    claim_vectors, sentence_vectors = vectors[: len(claims)], vectors[len(claims) :]
    words = terms([_HYPHENATED.sub(r"\1", text) for text in claims + flat])
    claim_words, flat_words = words[: len(claims)], words[len(claims) :]
    rows, closest = [], []
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
        closest.append([group[j] for j in np.argsort(cosines)[::-1][:CROSS_SENTENCES]])
        if with_vectors:
            # the product and gap of the claim and its closest sentence let a model weigh
            # which meaning dimensions must agree, beyond one cosine; the claim alone says
            # what kind of statement it is (hedged background, a precise result)
            best = block[int(np.argmax(cosines))]
            row += [c * best, np.abs(c - best), c]
        rows.append(np.concatenate(row))
    return np.vstack(rows).astype(np.float32), claims, closest


def featurise(
    pairs: Sequence[tuple[str, str]],
    encoder: "MiniLMQueryEncoder",
    cross: "CrossEncoder | None" = None,
) -> np.ndarray:
    """One feature row per (claim, source) pair: the 34 scalars, then with a cross-encoder its
    features over the closest sentences."""
    x, claims, closest = base_features(pairs, encoder)
    if cross is None:
        return x
    return np.hstack([x, cross_features(cross, claims, closest)])


def cross_features(
    cross: "CrossEncoder", claims: list[str], closest: list[list[str]]
) -> np.ndarray:
    """Per claim, from the cross-encoder over its closest sentences (the closest first): the
    highest entailed and contradicted probabilities, the closest sentence's two, and the gap
    between the highest contradicted and the highest entailed."""
    wanted = list(dict.fromkeys((c, s) for c, group in zip(claims, closest) for s in group))
    index = {pair: i for i, pair in enumerate(wanted)}
    p = cross.probabilities(wanted)
    rows = []
    for claim, group in zip(claims, closest, strict=True):
        block = p[[index[(claim, s)] for s in group]]
        entailed, contradicted = block[:, ENTAILED], block[:, CONTRADICTED]
        top_e, top_c = float(entailed.max()), float(contradicted.max())
        rows.append([top_e, top_c, float(entailed[0]), float(contradicted[0]), top_c - top_e])
    return np.array(rows, np.float32)


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


def load_weights() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The packaged support model and contradiction head: arrays, threshold, design name."""
    path = resources.files("assistant").joinpath(WEIGHTS_FILE)
    with path.open("rb") as handle, np.load(handle, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    head = {
        k.removeprefix(CONTRADICTION): v for k, v in arrays.items() if k.startswith(CONTRADICTION)
    }
    support = {k: v for k, v in arrays.items() if not k.startswith(CONTRADICTION)}
    return support, head


def judge_encoder(model_cache: Path | None = None) -> "MiniLMQueryEncoder":
    """The MiniLM the judge's features come from, in training and in use: the int8 one
    (about 5x the numpy encoder's pairs a second), its model file in `model_cache` (None: the
    default cache). One text a forward pass: int8 quantizes a batch's activations together, so
    in a batch a pair's verdict would move with the other pairs judged beside it."""
    from assistant.embedders.minilm_onnx import MiniLMInt8Embedder

    settings = EmbeddingSettings(precision="int8", batch_size=1)
    if model_cache is not None:
        settings.model_cache = model_cache
    return MiniLMInt8Embedder(settings)


class TrainedJudge:
    """Offline: a model trained on SciFact and Citation-Integrity scores each pair from MiniLM
    similarities, word cues and the cross-encoder; a score at or above the threshold is
    support. Below it, a second head trained on SciFact's SUPPORT and REFUTE pairs says whether
    the source states the opposite (contradicted)."""

    name = "local"

    def __init__(self, threshold: float | None = None, model_cache: Path | None = None) -> None:
        self.model, self.head = load_weights()
        self.threshold = float(self.model["threshold"]) if threshold is None else threshold
        self.encoder = judge_encoder(model_cache)
        self.cross = self._cross_encoder()

    def _cross_encoder(self) -> "CrossEncoder | None":
        """The cross-encoder, which runs only for models trained on its features."""
        if max(len(self.model["mean"]), len(self.head["mean"])) <= BASE_FEATURES:
            return None
        from assistant import cross_encoder

        return cross_encoder.CrossEncoder(
            self.encoder.model_dir, model_cache=self.encoder.settings.model_cache
        )

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
        x = featurise(pairs, self.encoder, self.cross)
        scores = predict(self.model, x).tolist()
        opposite = (predict(self.head, x) >= float(self.head["threshold"])).tolist()
        verdicts = []
        for score, contradicted in zip(scores, opposite, strict=True):
            label: Label = "supported" if score >= self.threshold else "unsupported"
            if label == "unsupported" and contradicted:
                label = "contradicted"
            verdicts.append(Verdict(label=label, score=score))
        return verdicts
