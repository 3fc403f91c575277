"""Typed model configs: one per architecture, a tagged union in checkpoints and YAML.

Every registered architecture builds from its own config and round-trips through a checkpoint;
format-1 checkpoints (one flat config for every architecture) load as the typed config and
give the same outputs; unknown, misplaced and feature-derived fields are clear errors.
"""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch

from moodnet.audio import FeatureConfig
from moodnet.audio.musicnn_frontend import musicnn_feature_config
from moodnet.config import from_dict, to_dict
from moodnet.errors import CheckpointError, ConfigError
from moodnet.experiments.table import column_models
from moodnet.models import (
    MODELS,
    LyricsBagConfig,
    MidFusionConfig,
    ModelConfig,
    MusicnnHeadConfig,
    PaperAudioConfig,
    build_model,
    parse_model_config,
)
from moodnet.models.checkpoint import CHECKPOINT_JSON, Checkpoint, load_checkpoint, save_checkpoint
from moodnet.training.config import TrainConfig, load_train_config

FEATURES = FeatureConfig(n_mels=12, clip_seconds=2.0)  # 87 frames
VOCAB = 30
PAPER = {"name": "paper_audio", "channels": [6, 4], "hidden": 10}
LYRICS = {"name": "lyrics_cnn", "vocab_size": VOCAB, "embed_dim": 8, "hidden": 6}
SMALL: dict[str, dict[str, object]] = {
    "paper_audio": PAPER,
    "short_chunk": {"name": "short_chunk", "chunk_frames": 32, "channels": [4, 8], "hidden": 10},
    "musicnn_head": {"name": "musicnn_head", "hidden": 8},
    "lyrics_cnn": LYRICS,
    "lyrics_bag": {"name": "lyrics_bag", "vocab_size": VOCAB, "embed_dim": 8, "hidden": 6},
    "mid_fusion": {"name": "mid_fusion", "hidden": 12, "audio": PAPER, "lyrics": LYRICS},
    "late_fusion": {"name": "late_fusion", "late_weight": 0.3, "audio": PAPER, "lyrics": LYRICS},
}


def features_for(config: ModelConfig) -> FeatureConfig:
    uses_musicnn = "musicnn_head" in json.dumps(config.to_tagged())
    return replace(musicnn_feature_config(), clip_seconds=4.0) if uses_musicnn else FEATURES


def probe(config: ModelConfig, features: FeatureConfig) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    inputs: dict[str, torch.Tensor] = {}
    if config.uses_audio:
        inputs["mel"] = torch.rand(3, features.n_mels, features.n_frames, generator=gen) * 3
    if config.uses_lyrics:
        inputs["tokens"] = torch.randint(1, VOCAB, (3, 9), generator=gen)
    return inputs


def test_the_registry_holds_one_config_class_per_architecture() -> None:
    assert sorted(SMALL) == sorted(MODELS)
    for name, spec in MODELS.items():
        assert spec.config.name == name and spec.config().name == name
        assert spec.description


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_architecture_builds_from_its_config_and_round_trips(
    tmp_path: Path, name: str
) -> None:
    config = parse_model_config({**SMALL[name], "task": "multitask", "n_classes": 3})
    features = features_for(config)
    config = config.with_features(features)
    assert parse_model_config(config.to_tagged()) == config
    torch.manual_seed(0)
    model = build_model(config).eval()
    checkpoint = Checkpoint(model=model, model_config=config, features=features.to_dict(),
                            class_names=("a", "b", "c"), max_tokens=9)  # fmt: skip
    save_checkpoint(checkpoint, tmp_path)
    stored = json.loads((tmp_path / CHECKPOINT_JSON).read_text())
    assert stored["format_version"] == 2 and stored["model"]["name"] == name
    assert all("task" not in part for part in config.to_tagged().values()
               if isinstance(part, dict))  # fmt: skip  # branches take the fusion's task
    loaded = load_checkpoint(tmp_path, device="cpu")
    assert loaded.model_config == config and type(loaded.model_config) is type(config)
    inputs = probe(config, features)
    with torch.no_grad():
        before, after = model(**inputs), loaded.model(**inputs)
    assert before.keys() == {"va", "logits"}
    for key in before:
        torch.testing.assert_close(before[key], after[key], rtol=0, atol=0)


# -- checkpoints of format 1 ------------------------------------------------------------------

FLAT_MID_FUSION = {
    "name": "mid_fusion", "task": "multitask", "n_classes": 3, "n_mels": 12, "n_frames": 64,
    "random_crop": True, "dropout": 0.3, "audio_channels": [6, 4], "audio_kernel": 8,
    "audio_pool": 4, "audio_hidden": 10, "chunk_frames": 128, "chunk_channels": [16, 32, 64, 64],
    "vocab_size": VOCAB, "embed_dim": 8, "pad_id": 0, "freeze_embedding": True,
    "lyrics_channels": 16, "lyrics_kernel": 2, "lyrics_pool": 2, "lstm_hidden": 6,
    "bag_hidden": 64, "audio_model": "paper_audio", "lyrics_model": "lyrics_cnn",
    "fusion_hidden": 12, "modality_dropout": 0.2, "late_weight": 0.5, "musicnn_hidden": 0,
}  # fmt: skip
"""A format-1 ``model``: every field of every architecture, as moodnet <= 0.1 wrote it."""

TYPED_MID_FUSION = {
    "name": "mid_fusion", "task": "multitask", "n_classes": 3, "dropout": 0.3, "hidden": 12,
    "modality_dropout": 0.2,
    "audio": {"name": "paper_audio", "dropout": 0.3, "n_mels": 12, "n_frames": 87,
              "crop_frames": 64, "channels": [6, 4], "hidden": 10},
    "lyrics": {"name": "lyrics_cnn", "dropout": 0.3, "vocab_size": VOCAB, "embed_dim": 8,
               "hidden": 6},
}  # fmt: skip
"""The same model as a typed config: the flat n_frames (64 of the clip's 87) is crop_frames."""


def write_format_1(run_dir: Path, flat: dict[str, object], typed: dict[str, object]) -> Checkpoint:
    """A format-1 checkpoint as moodnet <= 0.1 wrote it: the model built and saved, then
    ``checkpoint.json`` given the flat model config and format version 1."""
    config = parse_model_config(typed)
    torch.manual_seed(1)
    checkpoint = Checkpoint(model=build_model(config).eval(), model_config=config,
                            features=FEATURES.to_dict(), class_names=("a", "b", "c"),
                            max_tokens=9, mel_mean=np.full(12, 0.5, dtype=np.float32),
                            mel_std=np.full(12, 2.0, dtype=np.float32))  # fmt: skip
    checkpoint.apply_scaling()
    save_checkpoint(checkpoint, run_dir)
    meta = json.loads((run_dir / CHECKPOINT_JSON).read_text())
    meta.update(format_version=1, model=flat)
    (run_dir / CHECKPOINT_JSON).write_text(json.dumps(meta))
    return checkpoint


@pytest.mark.parametrize(
    ("flat", "typed"),
    [
        (FLAT_MID_FUSION, TYPED_MID_FUSION),
        ({**FLAT_MID_FUSION, "name": "lyrics_bag", "task": "va", "n_classes": 0},
         {"name": "lyrics_bag", "dropout": 0.3, "vocab_size": VOCAB, "embed_dim": 8}),
        ({**FLAT_MID_FUSION, "name": "paper_audio", "n_frames": 87},  # the clip: no crop
         {**TYPED_MID_FUSION["audio"], "task": "multitask", "n_classes": 3,  # type: ignore[dict-item]
          "crop_frames": None}),
    ],
    ids=["mid_fusion", "lyrics_bag", "paper_audio"],
)
def test_a_format_1_checkpoint_loads_as_its_typed_config_and_predicts_the_same(
    tmp_path: Path, flat: dict[str, object], typed: dict[str, object]
) -> None:
    written = write_format_1(tmp_path, flat, typed)
    loaded = load_checkpoint(tmp_path, device="cpu")
    assert loaded.model_config == parse_model_config(typed)
    inputs = probe(loaded.model_config, FEATURES)
    mel = inputs["mel"].numpy() if "mel" in inputs else None
    tokens = inputs["tokens"].numpy() if "tokens" in inputs else None
    first, second = written.predict_arrays(mel, tokens), loaded.predict_arrays(mel, tokens)
    for a, b in ((first.va, second.va), (first.class_probs, second.class_probs)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    save_checkpoint(loaded, tmp_path / "again")  # rewritten in format 2
    again = json.loads((tmp_path / "again" / CHECKPOINT_JSON).read_text())
    assert again["format_version"] == 2 and again["model"] == loaded.model_config.to_tagged()


def test_a_format_1_checkpoint_with_a_field_it_never_had_is_refused(tmp_path: Path) -> None:
    write_format_1(tmp_path, {**FLAT_MID_FUSION, "attention_heads": 4}, TYPED_MID_FUSION)
    with pytest.raises(CheckpointError, match=r"unknown field\(s\) \['attention_heads'\]"):
        load_checkpoint(tmp_path, device="cpu")
    write_format_1(tmp_path, {**FLAT_MID_FUSION, "audio_model": "mid_fusion"}, TYPED_MID_FUSION)
    with pytest.raises(CheckpointError, match="unknown branch model 'mid_fusion'"):
        load_checkpoint(tmp_path, device="cpu")


def test_the_shipped_musicnn_head_checkpoint_converts_without_its_stale_fields() -> None:
    folder = Path(str(resources.files("moodnet").joinpath("assets", "models", "musicnn_head")))
    meta = json.loads((folder / CHECKPOINT_JSON).read_text())
    assert meta["format_version"] == 1 and meta["model"]["n_frames"] == 1292  # stale: 1876
    config = load_checkpoint(folder, device="cpu").model_config
    assert config == MidFusionConfig(
        task="multitask", n_classes=4, dropout=0.3, hidden=64, modality_dropout=0.5,
        audio=MusicnnHeadConfig(dropout=0.3, hidden=64),
        lyrics=LyricsBagConfig(dropout=0.3, vocab_size=2000, embed_dim=50, hidden=32),
    )  # fmt: skip
    assert "n_frames" not in json.dumps(config.to_tagged())


# -- errors -----------------------------------------------------------------------------------

BAD = {
    "unknown field": ({"name": "paper_audio", "heads": 4},
                      r"model \(paper_audio\): unknown field 'heads'; its fields: name, task"),
    "another model's field": ({"name": "paper_audio", "modality_dropout": 0.1},
                              r"'modality_dropout' \(a field of mid_fusion, not of paper_audio\)"),
    "a branch's field on the fusion": (
        {"name": "mid_fusion", "crop_frames": 1024},
        r"unknown field 'crop_frames' \(a field of paper_audio: set it in model\.audio\)"),
    "a format-1 name": ({"name": "mid_fusion", "fusion_hidden": 64},
                        r"format 1's fusion_hidden is mid_fusion\.hidden now"),
    "a head field on a branch": (
        {"name": "late_fusion", "lyrics": {"name": "lyrics_cnn", "n_classes": 4}},
        r"model\.lyrics\.n_classes: a branch takes the fusion model's n_classes"),
    "a field of the branch's other kind": (
        {"name": "mid_fusion", "audio": {"name": "paper_audio", "vocab_size": 9}},
        r"model\.audio \(paper_audio\): unknown field 'vocab_size' \(a field of lyrics_cnn"),
    "no name": ({"hidden": 3}, r"model: no name \(the architecture: one of \['late_fusion'"),
    "unknown name": ({"name": "transformer"}, r"model\.name: unknown model 'transformer'"),
    "wrong branch kind": ({"name": "mid_fusion", "lyrics": {"name": "short_chunk"}},
                          r"model\.lyrics: 'short_chunk' is not a lyrics model"),
    "out of range": ({"name": "short_chunk", "channels": [4] * 9},
                     r"short_chunk\.channels: expected a list of 1\.\.8 widths"),
    "not a number": ({"name": "lyrics_bag", "dropout": "lots"},
                     r"model\.dropout: expected a number"),
    "not a mapping": (["paper_audio"], r"model: expected a mapping with a name, got list"),
}  # fmt: skip


@pytest.mark.parametrize(("data", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_field_is_a_config_error_naming_it(data: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_model_config(data)


def test_yaml_configs_are_tagged_and_name_a_misplaced_field_with_its_path() -> None:
    with pytest.raises(ConfigError, match=r"TrainConfig\.model \(mid_fusion\): unknown field "
                                          r"'musicnn_hidden'.*musicnn_head\.hidden now"):
        load_train_config("shipped", overrides=["model.musicnn_hidden=8"])
    config = load_train_config("shipped", overrides=["model.audio.hidden=8"])
    assert isinstance(config.model, MidFusionConfig)
    assert config.model.audio == MusicnnHeadConfig(dropout=0.3, hidden=8)
    swapped = load_train_config("shipped", overrides=["model={name: lyrics_bag, hidden: 4}"])
    assert swapped.model == LyricsBagConfig(hidden=4)
    assert from_dict(TrainConfig, to_dict(config)) == config  # the run's stored train_config


def test_feature_derived_fields_are_filled_from_the_features_or_refused() -> None:
    config = load_train_config("paper_audio")
    assert isinstance(config.model, PaperAudioConfig)
    model = config.model
    assert (model.n_mels, model.n_frames, model.crop_frames) == (40, 1292, 1024)
    musicnn_like = ["features.sample_rate=16000", "features.hop_length=256", "features.n_fft=512"]
    with pytest.raises(ConfigError, match=r"paper_audio\.n_frames=1292 disagrees with the frames "
                                          r"of the features \(16000 Hz, hop 256, 30 s\) \(1876\)"):
        load_train_config("paper_audio", overrides=[*musicnn_like, "model.n_frames=1292"])
    with pytest.raises(ConfigError, match=r"short_chunk\.n_mels=96 disagrees with "
                                          r"features\.n_mels \(40\).*leave it out"):
        load_train_config("short_chunk", overrides=["model.n_mels=96"])
    agreeing = load_train_config("short_chunk", overrides=["model.n_mels=40"])
    assert agreeing == load_train_config("short_chunk")  # the same value is no second source
    with pytest.raises(ConfigError, match="disagrees with the bands of the train log-mel"):
        agreeing.model.with_data(task="va", n_classes=0, n_mels=16)


def test_table_columns_come_from_the_base_config() -> None:
    table = load_train_config("table").model
    columns = column_models(table, names={})
    assert isinstance(table, MidFusionConfig)
    assert columns == {"audio": table.audio, "lyrics": table.lyrics, "bimodal": table}
    other = column_models(table, names={"audio": "short_chunk", "lyrics": "lyrics_cnn"})
    assert other["audio"].name == "short_chunk" and other["lyrics"] == table.lyrics
    bimodal = other["bimodal"]
    assert isinstance(bimodal, MidFusionConfig) and bimodal.audio == other["audio"]
    assert bimodal.hidden == 100 and bimodal.modality_dropout == 0.2
    alone = column_models(PaperAudioConfig(crop_frames=64), names={})
    assert alone["audio"] == PaperAudioConfig(crop_frames=64)
    assert alone["lyrics"].name == "lyrics_cnn" and alone["bimodal"].name == "mid_fusion"
    with pytest.raises(ConfigError, match="'lyrics_bag' is not a fusion model"):
        column_models(table, names={"bimodal": "lyrics_bag"})
