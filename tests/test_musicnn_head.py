"""musicnn_head: frozen pretrained backbone + trained head; precomputed embeddings; checkpoints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors import safe_open

from moodnet.audio import load_audio
from moodnet.audio.musicnn_frontend import (
    musicnn_feature_config,
    musicnn_log_mel,
    musicnn_patches,
)
from moodnet.data.extract import extract
from moodnet.data.manifest import write_manifest
from moodnet.errors import ConfigError, ParameterError
from moodnet.models import MidFusionConfig, ModelConfig, build_model, parse_model_config
from moodnet.models.arrays import ArrayData, precompute_audio
from moodnet.models.checkpoint import WEIGHTS, load_checkpoint
from moodnet.models.musicnn import MusicnnEmbedder
from moodnet.models.musicnn_head import mel_patches
from moodnet.track import Track
from moodnet.training import train
from moodnet.training.config import load_train_config
from moodnet.training.loop import DataInfo, train_arrays

SR = 16000
QUADRANT_INFO = DataInfo(class_names=("Q1", "Q2", "Q3", "Q4"))


HEAD = {"name": "musicnn_head", "hidden": 8}
BAG = {"name": "lyrics_bag", "vocab_size": 30, "embed_dim": 8, "hidden": 6}


def head_config(name: str = "musicnn_head", *, audio: dict[str, object] = HEAD) -> ModelConfig:
    """A small ``musicnn_head`` (or ``mid_fusion`` of ``audio`` and a lyrics bag), multitask."""
    data: dict[str, object] = {**HEAD, "task": "multitask", "n_classes": 4}
    if name == "mid_fusion":
        data = {"name": name, "task": "multitask", "n_classes": 4, "hidden": 10,
                "audio": audio, "lyrics": BAG}  # fmt: skip
    return parse_model_config(data)


MUSICNN_FEATURE_OVERRIDES = [
    f"features.{key}={value}"
    for key, value in musicnn_feature_config().to_dict().items()
    if value is not None
]


def tone(seconds: float, *, freq: float, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    pulse = 0.5 * (1 + np.sign(np.sin(2 * np.pi * 2 * t)))
    y = 0.4 * np.sin(2 * np.pi * freq * t) * pulse + noise * rng.normal(size=t.size)
    return y.astype(np.float32)


def mel_batch(*signals: np.ndarray, frames: int) -> np.ndarray:
    """(B, 96, frames) musicnn log-mel, zero-padded like the feature cache."""
    out = np.zeros((len(signals), 96, frames), dtype=np.float32)
    for i, y in enumerate(signals):
        mel = musicnn_log_mel(y).T[:, :frames]
        out[i, :, : mel.shape[1]] = mel
    return out


def test_mel_patches_cut_like_musicnn_and_mark_padding() -> None:
    y = tone(7.0, freq=440, noise=0.05, seed=0)
    mel = musicnn_log_mel(y)  # (T, 96)
    patches, valid = mel_patches(torch.from_numpy(mel.T.copy())[None])
    np.testing.assert_array_equal(patches[0].numpy(), musicnn_patches(mel))
    assert valid.all()
    padded = torch.zeros(1, 96, 3 * 187)
    padded[..., :187] = torch.from_numpy(mel.T[:, :187].copy())
    assert mel_patches(padded)[1].tolist() == [[True, False, False]]
    short = torch.from_numpy(mel.T[:, :50].copy())[None]
    assert mel_patches(short)[0].shape == (1, 1, 187, 96)


def test_forward_from_mel_and_from_precomputed_embeddings_agree() -> None:
    torch.manual_seed(0)
    model = build_model(head_config()).eval()
    one_patch = tone(3.0, freq=900, noise=0.3, seed=2)[: 186 * 256]  # 187 frames
    mel = torch.from_numpy(
        mel_batch(tone(6.0, freq=300, noise=0.1, seed=1), one_patch, frames=2 * 187 + 20)
    )
    embeddings = model.precompute(mel)
    assert embeddings.shape == (2, 200) and not embeddings.requires_grad
    from_mel, from_embeddings = model(mel=mel), model(embeddings=embeddings)
    for key in ("va", "logits"):
        torch.testing.assert_close(from_mel[key], from_embeddings[key])
    # the second clip's second patch is padding: its embedding is its first patch's alone
    patches = musicnn_patches(musicnn_log_mel(one_patch))
    assert patches.shape[0] == 1
    expected, _ = MusicnnEmbedder(device="cpu").forward_patches(patches)
    np.testing.assert_allclose(embeddings[1].numpy(), expected[0], atol=2e-3)


def test_backbone_is_frozen_unsaved_and_moves_with_the_model() -> None:
    model = build_model(head_config())
    assert not any(name.startswith("backbone") for name in model.state_dict())
    assert not any(name.startswith("backbone") for name, _ in model.named_parameters())
    model.train()
    assert model.training and not model.backbone.training
    model.to(torch.float64)
    assert next(model.backbone.parameters()).dtype == torch.float64
    with pytest.raises(ParameterError, match="96"):
        model.float().precompute(torch.zeros(1, 40, 200))
    with pytest.raises(ParameterError, match="embeddings"):
        model.float()(embeddings=torch.zeros(2, 10))


def test_mid_fusion_over_musicnn_head_precomputes_and_runs_without_lyrics() -> None:
    torch.manual_seed(0)
    model = build_model(head_config("mid_fusion")).eval()
    assert model.precomputes_audio
    mel = torch.from_numpy(mel_batch(tone(3.5, freq=500, noise=0.1, seed=3), frames=190))
    tokens = torch.tensor([[3, 4, 5, 0]])
    embeddings = model.precompute(mel)
    torch.testing.assert_close(
        model(mel=mel, tokens=tokens)["va"], model(embeddings=embeddings, tokens=tokens)["va"]
    )
    alone = model(embeddings=embeddings)["va"]
    assert not torch.allclose(alone, model(embeddings=embeddings, tokens=tokens)["va"])
    paper = {"name": "paper_audio", "n_mels": 96, "n_frames": 190}
    with pytest.raises(ParameterError, match="precomputes nothing"):
        build_model(head_config("mid_fusion", audio=paper)).precompute(mel)


def test_musicnn_head_refuses_features_other_than_its_backbones() -> None:
    """Not only the band count: a 22.05 kHz, 96-band cache is refused, naming every field."""
    paper_like = replace(musicnn_feature_config(), sample_rate=22050, n_fft=1024, hop_length=512)
    with pytest.raises(ConfigError, match=r"sample_rate 22050, musicnn needs 16000.*hop_length"):
        head_config("mid_fusion").with_features(paper_like)
    with pytest.raises(ConfigError, match="log 'db', musicnn needs 'log1p'"):
        head_config().with_features(replace(musicnn_feature_config(), log="db"))
    shorter = replace(musicnn_feature_config(), clip_seconds=4.0, crop="first")
    assert head_config().with_features(shorter) == head_config()  # any clip is fine
    with pytest.raises(ConfigError, match="features_musicnn"):
        load_train_config(overrides=["model={name: musicnn_head}", "features.n_mels=96"])


def test_training_embeds_once_and_the_checkpoint_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 6
    mel = rng.uniform(0, 3, size=(n, 96, 200)).astype(np.float32)
    va = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    classes = np.arange(n, dtype=np.int64) % 4
    data = ArrayData(mel=mel, va=va, classes=classes)
    config = load_train_config(
        overrides=[
            "model={name: musicnn_head, hidden: 8}",
            *MUSICNN_FEATURE_OVERRIDES,
            "max_epochs=3",
            "device=cpu",
            "progress=false",
        ]
    )
    info = replace(QUADRANT_INFO, features=musicnn_feature_config().to_dict())
    result = train_arrays(config, data, data, info=info, run_dir=tmp_path)
    ckpt = result.checkpoint
    embedded = precompute_audio(ckpt.model, data)
    assert embedded.mel is None and embedded.embeddings is not None
    np.testing.assert_allclose(
        ckpt.model.embedding_mean.numpy(), embedded.embeddings.mean(axis=0), atol=1e-5
    )
    with safe_open(str(tmp_path / WEIGHTS), framework="pt") as handle:
        assert not any("backbone" in key for key in handle.keys())  # noqa: SIM118
    assert (tmp_path / WEIGHTS).stat().st_size < 20_000
    loaded = load_checkpoint(tmp_path, device="cpu")
    first, second = ckpt.predict_arrays(mel[:3]), loaded.predict_arrays(mel[:3])
    np.testing.assert_array_equal(first.va, second.va)
    np.testing.assert_array_equal(first.class_probs, second.class_probs)
    assert loaded.feature_config() == musicnn_feature_config()


MODELS_BY_NAME = {
    "musicnn_head": "{name: musicnn_head, hidden: 8}",
    "mid_fusion": "{name: mid_fusion, audio: {name: musicnn_head, hidden: 8}, "
    "lyrics: {name: lyrics_bag}}",
}


@pytest.mark.parametrize("name", ["musicnn_head", "mid_fusion"])
def test_tiny_end_to_end_training_on_generated_audio(tmp_path: Path, name: str) -> None:
    specs = [(200, 0.05, -0.6, -0.5), (1200, 0.4, 0.7, 0.6), (400, 0.1, 0.3, 0.4), (300, 0, -1, -1)]
    tracks = []
    for i, (freq, noise, valence, arousal) in enumerate(specs):
        path = tmp_path / f"clip{i}.wav"
        sf.write(path, tone(3.5, freq=freq, noise=noise, seed=i), SR)
        tracks.append(
            Track(
                id=f"t{i}",
                dataset="synthetic",
                artist=f"a{i}",
                audio=str(path),
                lyrics_text="sun smile dance" if i != 1 else None,
                valence=valence,
                arousal=arousal,
                label=("Q3", "Q1", "Q1", "Q3")[i],
                split=("train", "train", "validation", "test")[i],
            )
        )
    manifest = write_manifest(tracks, tmp_path / "manifest.jsonl")
    features = replace(musicnn_feature_config(), clip_seconds=4.0)
    report = extract(tracks, config=features, cache_dir=tmp_path / "cache", workers=1,
                     progress=False, descriptors=False)  # fmt: skip
    assert not report.failed
    config = load_train_config(
        overrides=[
            f"data.manifest={manifest}",
            f"data.cache_dir={tmp_path / 'cache'}",
            "data.labels=given",
            "data.multitask=true",
            "data.min_count=1",
            "data.word_vectors=random",
            *(f"features.{key}={value}" for key, value in features.to_dict().items()
              if value is not None),
            f"model={MODELS_BY_NAME[name]}",
            "max_epochs=2",
            "device=cpu",
            "progress=false",
        ]
    )  # fmt: skip
    run = tmp_path / "run"
    result = train(config, out_dir=run)
    assert result.checkpoint.metrics["test"]["n"] == 1
    loaded = load_checkpoint(run, device="cpu")
    assert loaded.model_config.name == name and loaded.class_names == ("Q1", "Q3")
    y = load_audio(tracks[1].audio, sr=SR)  # type: ignore[arg-type]
    mel = mel_batch(y, frames=features.n_frames)
    out = loaded.predict_arrays(mel)
    assert out.va is not None and out.va.shape == (1, 2) and np.isfinite(out.va).all()
    assert out.class_probs is not None
    np.testing.assert_allclose(out.class_probs.sum(axis=1), 1.0, atol=1e-5)


def test_the_shipped_musicnn_head_model_loads_offline_and_predicts() -> None:
    """The previous default (``--model musicnn-head``) still loads: a torch checkpoint."""
    from importlib import resources

    folder = Path(str(resources.files("moodnet").joinpath("assets", "models", "musicnn_head")))
    assert all((folder / name).stat().st_size < 1_000_000 for name in ("checkpoint.json", WEIGHTS))
    ckpt = load_checkpoint(folder, device="cpu")
    config = ckpt.model_config
    assert isinstance(config, MidFusionConfig) and config.audio.name == "musicnn_head"
    assert ckpt.va_scale == "unit"
    assert ckpt.class_names == ("Q1", "Q2", "Q3", "Q4")
    features = ckpt.feature_config()
    assert features is not None and replace(features, clip_seconds=30.0) == musicnn_feature_config()
    y = tone(6.0, freq=600, noise=0.2, seed=7)
    out = ckpt.predict_arrays(mel_batch(y, frames=features.n_frames))
    assert out.va is not None and np.all(np.abs(out.va) < 1)
    assert out.class_probs is not None and out.class_probs.sum() == pytest.approx(1.0, abs=1e-5)
    with_lyrics = ckpt.predict_arrays(
        mel_batch(y, frames=features.n_frames), np.array([[2, 3, 4, 5]]), np.array([True])
    )
    assert with_lyrics.va is not None and np.isfinite(with_lyrics.va).all()
