"""Models: registry, output heads, missing lyrics, chunk averaging, word vectors, late fusion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from moodnet.errors import ConfigError, ParameterError
from moodnet.models import MODELS, ModelConfig, PaperAudioConfig, build_model, parse_model_config
from moodnet.models.fusion import combine_late, search_late_weight
from moodnet.models.heads import configure_scaling
from moodnet.models.lyrics import set_word_vectors

N_MELS, FRAMES, VOCAB, K = 12, 96, 40, 5


SMALL: dict[str, dict[str, object]] = {
    "paper_audio": {"n_mels": N_MELS, "n_frames": FRAMES, "channels": [6, 4], "hidden": 10},
    "short_chunk": {"n_mels": N_MELS, "chunk_frames": 32, "channels": [4, 8], "hidden": 10},
    "lyrics_cnn": {"vocab_size": VOCAB, "embed_dim": 8, "hidden": 6},
    "lyrics_bag": {"vocab_size": VOCAB, "embed_dim": 8, "hidden": 6},
    "mid_fusion": {"hidden": 12},
    "late_fusion": {},
}
"""Small fields of each architecture but musicnn_head (tests/test_musicnn_head.py)."""


def small_config(name: str, task: str = "va", **changes: object) -> ModelConfig:
    """A small config of ``name``; fusion models over the small paper ConvNet and lyrics CNN."""
    data: dict[str, object] = {"name": name, **SMALL.get(name, {})}
    if name.endswith("_fusion"):
        data["audio"] = {"name": "paper_audio", **SMALL["paper_audio"]}
        data["lyrics"] = {"name": "lyrics_cnn", **SMALL["lyrics_cnn"]}
    data.update(task=task, n_classes=K if task != "va" else 0, **changes)
    return parse_model_config(data)


def inputs(batch: int = 4, length: int = 120) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(2, VOCAB, (batch, 15), generator=gen)
    tokens[:, 10:] = 0
    return {
        "mel": torch.randn(batch, N_MELS, length, generator=gen),
        "tokens": tokens,
        "has_lyrics": torch.ones(batch, dtype=torch.bool),
    }


# musicnn_head needs musicnn's 96-band input and its pretrained backbone: tests/test_musicnn_head.py
@pytest.mark.parametrize("name", sorted(set(MODELS) - {"musicnn_head"}))
@pytest.mark.parametrize("task", ["va", "classes", "multitask"])
def test_every_model_gives_its_heads(name: str, task: str) -> None:
    torch.manual_seed(0)
    model = build_model(small_config(name, task))
    out = model(**inputs())
    expected = {"va": (4, 2)} if task == "va" else {"logits": (4, K)}
    if task == "multitask":
        expected = {"va": (4, 2), "logits": (4, K)}
    assert {k: tuple(v.shape) for k, v in out.items()} == expected
    assert all(torch.isfinite(v).all() for v in out.values())


@pytest.mark.parametrize("name", ["mid_fusion", "late_fusion"])
def test_fusion_models_run_without_lyrics(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(small_config(name)).eval()
    batch = inputs()
    no_tokens = model(mel=batch["mel"])["va"]
    hidden = model(
        mel=batch["mel"], tokens=batch["tokens"], has_lyrics=torch.zeros(4, dtype=torch.bool)
    )
    with_lyrics = model(**batch)["va"]
    torch.testing.assert_close(no_tokens, hidden["va"])
    assert not torch.allclose(no_tokens, with_lyrics)


@pytest.mark.parametrize("name", ["lyrics_cnn", "lyrics_bag"])
def test_tracks_without_lyrics_share_the_learned_no_lyrics_output(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(small_config(name)).eval()
    batch = inputs()
    batch["tokens"][2] = 0
    batch["has_lyrics"][3] = False
    out = model(tokens=batch["tokens"], has_lyrics=batch["has_lyrics"])["va"]
    torch.testing.assert_close(out[2], out[3])
    assert not torch.allclose(out[0], out[2])
    alone = model(has_lyrics=torch.zeros(2, dtype=torch.bool))["va"]
    torch.testing.assert_close(alone[0], out[2])


def test_paper_cnn_crops_and_pads_to_its_frames() -> None:
    torch.manual_seed(0)
    model = build_model(small_config("paper_audio")).eval()
    mel = torch.randn(2, N_MELS, FRAMES)
    longer = torch.cat([torch.randn(2, N_MELS, 15), mel, torch.randn(2, N_MELS, 15)], dim=2)
    torch.testing.assert_close(model(mel=mel)["va"], model(mel=longer)["va"])
    assert model(mel=mel[:, :, :50])["va"].shape == (2, 2)
    with pytest.raises(ParameterError, match="shape"):
        model(mel=torch.randn(2, N_MELS + 1, FRAMES))


def test_short_chunk_averages_chunks_at_inference() -> None:
    torch.manual_seed(0)
    model = build_model(small_config("short_chunk")).eval()
    chunk = torch.randn(1, N_MELS, 32)
    repeated = chunk.repeat(1, 1, 4)  # four identical chunks
    torch.testing.assert_close(model(mel=chunk)["va"], model(mel=repeated)["va"])
    two = torch.cat([chunk, torch.randn(1, N_MELS, 32)], dim=2)
    features = model.features(two)
    mean = (model.features(two[:, :, :32]) + model.features(two[:, :, 32:])) / 2
    torch.testing.assert_close(features, mean)


def test_word_vectors_are_copied_and_frozen() -> None:
    model = build_model(small_config("lyrics_cnn", freeze_embedding=True))
    matrix = np.random.default_rng(0).normal(size=(VOCAB, 8)).astype(np.float32)
    set_word_vectors(model, matrix)
    weight = model.embedding.weight
    np.testing.assert_allclose(weight[1:].detach().numpy(), matrix[1:])
    assert torch.all(weight[0] == 0) and not weight.requires_grad
    with pytest.raises(ParameterError, match="shape"):
        set_word_vectors(model, matrix[:, :4])
    with pytest.raises(ParameterError, match="no lyrics embedding"):
        set_word_vectors(build_model(small_config("paper_audio")), matrix)


def test_va_head_outputs_on_the_target_scale() -> None:
    torch.manual_seed(0)
    model = build_model(small_config("lyrics_bag")).eval()
    batch = inputs()
    before = model(tokens=batch["tokens"])["va"]
    configure_scaling(model, va_mean=np.array([0.5, -0.2]), va_std=np.array([2.0, 3.0]))
    after = model(tokens=batch["tokens"])["va"]
    torch.testing.assert_close(after, torch.tensor([0.5, -0.2]) + torch.tensor([2.0, 3.0]) * before)
    with pytest.raises(ParameterError, match="> 0"):
        configure_scaling(model, va_std=np.array([1.0, 0.0]))
    with pytest.raises(ParameterError, match="shape"):
        configure_scaling(model, va_mean=np.zeros(3))


def test_bad_configs_raise() -> None:
    with pytest.raises(ConfigError, match="unknown model 'transformer'"):
        small_config("transformer")
    with pytest.raises(ConfigError, match="n_classes"):
        PaperAudioConfig(task="classes", n_classes=1)
    with pytest.raises(ConfigError, match="task"):
        PaperAudioConfig(task="ranking")
    with pytest.raises(ConfigError, match="abstract"):
        ModelConfig()
    with pytest.raises(ParameterError, match="too short"):
        build_model(small_config("paper_audio", n_frames=20))
    with pytest.raises(ConfigError, match="'lyrics_cnn' is not an audio model"):
        small_config("mid_fusion", audio={"name": "lyrics_cnn"})
    with pytest.raises(ConfigError, match="n_frames is not set"):
        build_model(PaperAudioConfig())
    with pytest.raises(ConfigError, match="n_mels is not set"):
        build_model(PaperAudioConfig(crop_frames=100))


def test_late_fusion_module_averages_its_branches() -> None:
    torch.manual_seed(0)
    model = build_model(small_config("late_fusion", late_weight=0.3)).eval()
    batch = inputs()
    batch["has_lyrics"][1] = False
    audio = model.audio(mel=batch["mel"])["va"]
    lyrics = model.lyrics(tokens=batch["tokens"])["va"]
    fused = model(**batch)["va"]
    torch.testing.assert_close(fused[0], 0.3 * audio[0] + 0.7 * lyrics[0])
    torch.testing.assert_close(fused[1], audio[1])


def test_late_weight_search_finds_the_mixing_weight() -> None:
    rng = np.random.default_rng(0)
    audio, lyrics = rng.normal(size=(200, 2)), rng.normal(size=(200, 2))
    assert search_late_weight(audio, lyrics, 0.3 * audio + 0.7 * lyrics) == pytest.approx(0.3)
    assert search_late_weight(audio, lyrics, audio) == 1.0
    has = rng.random(200) < 0.7
    target = combine_late(audio, lyrics, weight=0.85, has_lyrics=has)
    assert search_late_weight(audio, lyrics, target, has_lyrics=has) == pytest.approx(0.85)
    np.testing.assert_array_equal(target[~has], audio[~has])
    # classes: the lyrics model is right, the audio model confidently wrong
    ids = rng.integers(0, 3, size=100)
    right, wrong = np.eye(3)[ids] * 0.9 + 0.1 / 3, np.eye(3)[(ids + 1) % 3] * 0.9 + 0.1 / 3
    assert search_late_weight(wrong, right, ids) == 0.0
    with pytest.raises(ParameterError, match="weight"):
        combine_late(audio, lyrics, weight=1.5)
