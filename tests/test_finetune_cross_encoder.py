"""The human sentence pairs the cross-encoder is fine-tuned on, the judge's out-of-fold
cross-encoder columns (each fold's rows scored by that fold's weights), and the mark that keeps
the judge from fitting on a fine-tuned cross-encoder's in-sample columns."""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from assistant.cross_encoder import (
    CONTRADICTED,
    ENTAILED,
    HUMAN_PAIRS,
    MAX_PAIR_TOKENS,
    MAX_TOKENS,
    NEUTRAL,
    pair_tokenizer,
)
from assistant.embedders.minilm_numpy import MiniLMQueryEncoder
from assistant.settings import EmbeddingSettings
from assistant.trained_judge import BASE_FEATURES, CROSS_FEATURES

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))
import judge_features
import train_cross_encoder
import train_judge
from finetune_cross_encoder import (
    Cited,
    FoldPairs,
    choose_evidence,
    mixed_pairs,
    passage_pair,
    save,
    sentence_pairs,
    twins,
)
from judge_pairs import FOLDS

SYNTHETIC = Path(__file__).resolve().parents[1] / "evals" / "xenc_synthetic.npz"
CLAIM = "Aspirin lowers the risk of bleeding."
GOLD = "In 4,000 patients, aspirin decreased the risk of bleeding by half."
OTHER = "Patients were followed for two years."
THIRD = "The trial was funded by a charity."


def test_scifact_gold_sentences_keep_their_label_and_the_closest_other_is_neutral() -> None:
    # the judge splits "GOLD OTHER" differently from the corpus: a merged sentence holding the
    # gold one is still the gold one, not a neutral example
    refuted = Cited(CLAIM, "REFUTE", [GOLD], [GOLD, THIRD, OTHER], 0, 2)
    assert sentence_pairs(refuted) == [(CLAIM, GOLD, CONTRADICTED), (CLAIM, THIRD, NEUTRAL)]
    merged = Cited(CLAIM, "SUPPORT", [GOLD], [f"{GOLD} {OTHER}", THIRD], 0, 2)
    assert sentence_pairs(merged) == [(CLAIM, GOLD, ENTAILED), (CLAIM, THIRD, NEUTRAL)]


def test_scifact_without_evidence_gives_its_closest_sentences_as_neutral() -> None:
    nei = Cited(CLAIM, "NEI", [], [OTHER, THIRD], 0, 1)
    assert sentence_pairs(nei) == [(CLAIM, OTHER, NEUTRAL), (CLAIM, THIRD, NEUTRAL)]


def test_citation_integrity_labels_the_closest_sentence_by_the_passage() -> None:
    labels = {"SUPPORT": ENTAILED, "REFUTE": CONTRADICTED, "NEI": NEUTRAL}
    for label, expected in labels.items():
        cited = Cited(CLAIM, label, [], [OTHER, THIRD], 1, 0)
        assert sentence_pairs(cited) == [(CLAIM, OTHER, expected)]


def test_a_passage_pair_is_the_claim_with_the_whole_source_under_the_document_label() -> None:
    passage = f"{GOLD} {OTHER} {THIRD}"
    labels = {"SUPPORT": ENTAILED, "REFUTE": CONTRADICTED, "NEI": NEUTRAL}
    for dataset in (0, 1):
        for label, expected in labels.items():
            cited = Cited(CLAIM, label, [GOLD], [GOLD, OTHER], dataset, 3, passage=passage)
            assert passage_pair(cited) == [(CLAIM, passage, expected)]


def test_twins_say_the_opposite_of_entailed_claims_and_undo_scifacts_refutations() -> None:
    claim = "Aspirin is associated with a lower risk of bleeding."
    negated = "Aspirin is not associated with a lower risk of bleeding."
    supported = Cited(claim, "SUPPORT", [GOLD], [GOLD, OTHER], 0, 2)
    assert twins(supported, both_ways=False) == [(negated, GOLD, CONTRADICTED)]
    refuted = Cited(negated, "REFUTE", [GOLD], [GOLD, OTHER], 0, 2)
    assert twins(refuted, both_ways=False) == []
    assert twins(refuted, both_ways=True) == [(claim, GOLD, ENTAILED)]
    # Citation-Integrity's refuted citing sentences were not written by negating supported ones
    assert twins(Cited(negated, "REFUTE", [], [OTHER], 1, 0), both_ways=True) == []
    assert twins(Cited(claim, "NEI", [], [OTHER, THIRD], 0, 1), both_ways=True) == []
    # a claim with no place for a negation, direction word or number has no twin
    assert twins(Cited("Bread.", "SUPPORT", [GOLD], [GOLD], 0, 2), both_ways=True) == []


def test_a_passage_label_goes_with_the_sentence_the_start_model_finds_so_labelled() -> None:
    model_dir = MiniLMQueryEncoder(EmbeddingSettings()).model_dir
    start = train_cross_encoder.CrossEncoder(model_dir, rank=8, alpha=16.0, top=3)
    train_cross_encoder.load_arrays(start, SYNTHETIC)
    supported = Cited(CLAIM, "SUPPORT", [], [OTHER, GOLD, THIRD], 1, 0)
    refuted = Cited("Aspirin raises the risk of bleeding.", "REFUTE", [], [THIRD, GOLD], 1, 0)
    scifact = Cited(CLAIM, "SUPPORT", [GOLD], [OTHER, GOLD], 0, 0)
    choose_evidence([supported, refuted, scifact], start, pair_tokenizer(model_dir))
    assert sentence_pairs(supported) == [(CLAIM, GOLD, ENTAILED)]
    assert sentence_pairs(refuted)[0][1] == GOLD
    assert scifact.evidence == 0  # SciFact's gold sentences are known


def test_each_folds_rows_take_their_cross_columns_from_that_folds_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the feature cache
    with np.load(SYNTHETIC) as stored:
        weights = {name: stored[name] for name in stored.files}
    # fold 1's head says "entailed" whatever it reads, fold 0's "contradicted"
    for k, label in ((0, CONTRADICTED), (1, ENTAILED)):
        bias = np.zeros(3, np.float16)
        bias[label] = 30.0
        np.savez(tmp_path / f"xenc-fold{k}.npz", **{**weights, "head.bias": bias})
    texts = [(CLAIM, f"{GOLD} {OTHER}"), (CLAIM, THIRD), ("Bread is baked.", OTHER)]
    fold = np.array([1, 0, 1])
    x = judge_features.features(texts, str(tmp_path / "xenc-fold{k}.npz"), 1, fold)
    cross = x[:, BASE_FEATURES : BASE_FEATURES + CROSS_FEATURES]
    # top entailed, top contradicted: 1 and 0 on fold 1's rows, the reverse on fold 0's
    assert np.allclose(cross[:, :2], [[1, 0], [0, 1], [1, 0]], atol=1e-3)
    # a passage cross-encoder's two columns follow the sentence one's, each fold's its own:
    # here the sentence weights' heads swapped
    for k, label in ((0, ENTAILED), (1, CONTRADICTED)):
        bias = np.zeros(3, np.float16)
        bias[label] = 30.0
        np.savez(tmp_path / f"passage-fold{k}.npz", **{**weights, "head.bias": bias})
    passage = str(tmp_path / "passage-fold{k}.npz")
    both = judge_features.features(texts, str(tmp_path / "xenc-fold{k}.npz"), 1, fold, passage)
    scalars = BASE_FEATURES + CROSS_FEATURES
    assert both.shape[1] == x.shape[1] + judge_features.PASSAGE_FEATURES
    assert np.array_equal(both[:, :scalars], x[:, :scalars])
    whole = both[:, scalars : scalars + judge_features.PASSAGE_FEATURES]
    assert np.allclose(whole, [[0, 1], [1, 0], [0, 1]], atol=1e-3)
    assert np.array_equal(
        both[:, -3 * judge_features.DIMENSION :], x[:, -3 * judge_features.DIMENSION :]
    )


def test_fine_tuned_weights_are_marked_and_the_judge_refuses_their_in_sample_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = MiniLMQueryEncoder(EmbeddingSettings()).model_dir
    marked = tmp_path / "xenc-human.npz"
    model = train_cross_encoder.CrossEncoder(model_dir, rank=4, alpha=8.0, top=1)
    save(model, marked, 12, MAX_PAIR_TOKENS)
    with np.load(marked) as stored:
        assert int(stored[HUMAN_PAIRS]) == 12
        assert MAX_TOKENS not in stored.files  # sentence pairs: the judge's default
    save(model, tmp_path / "passage.npz", 12, 320)
    with np.load(tmp_path / "passage.npz") as stored:
        assert int(stored[MAX_TOKENS]) == 320
    assert train_judge.fine_tuned_on_human_pairs(marked)
    assert not train_judge.fine_tuned_on_human_pairs(SYNTHETIC)
    out = tmp_path / "judge_weights.npz"
    argv = ["train_judge.py", "--xenc", str(marked), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit, match="in-sample"):
        train_judge.main()
    assert not out.exists()


def test_fine_tuning_on_one_dataset_keeps_only_its_human_pairs() -> None:
    scifact = (CLAIM, GOLD, ENTAILED)
    integrity = (CLAIM, OTHER, CONTRADICTED)
    made = (CLAIM, THIRD, NEUTRAL)
    folds = FoldPairs(
        [[scifact, integrity] for _ in range(FOLDS)],
        [np.array([0, 1]) for _ in range(FOLDS)],
        [[made] for _ in range(FOLDS)],
    )
    assert folds.training(0) == ([scifact, integrity] * (FOLDS - 1), [made] * (FOLDS - 1))
    assert folds.training(0, "citation_integrity") == (
        [integrity] * (FOLDS - 1),
        [made] * (FOLDS - 1),
    )
    assert folds.training(None, "scifact")[0] == [scifact] * FOLDS


def test_mixed_pairs_are_a_seeded_sample_of_a_made_pairs_file_hypothesis_first(
    tmp_path: Path,
) -> None:
    made = tmp_path / "restated.jsonl"
    records = [
        {"premise": f"{GOLD} ({i})", "hypothesis": f"{CLAIM} ({i})", "label": i % 3, "how": "t"}
        for i in range(6)
    ]
    made.write_text("".join(json.dumps(r) + "\n" for r in records))
    every = mixed_pairs(made, None)
    assert every == [(r["hypothesis"], r["premise"], r["label"]) for r in records]
    some = mixed_pairs(made, 4)
    assert len(some) == 4 and set(some) < set(every) and mixed_pairs(made, 4) == some
    assert mixed_pairs(made, 10) == every
