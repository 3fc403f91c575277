"""musicnn port: front-end facts, shipped weights, shapes and behaviour (no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from moodnet.audio.musicnn_frontend import (
    MUSICNN_PATCH_FRAMES,
    musicnn_log_compress,
    musicnn_log_mel,
    musicnn_patches,
    round_to_float16,
)
from moodnet.errors import ParameterError
from moodnet.models.musicnn import (
    MSD_TAGS,
    MTT_TAGS,
    Musicnn,
    MusicnnEmbedder,
    load_msd_musicnn,
    load_musicnn,
)

SR = 16000


def _sine(seconds: float, *, freq: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _noise(seconds: float, *, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal(round(seconds * SR))).astype(np.float32)


@pytest.fixture(scope="module")
def embedder() -> MusicnnEmbedder:
    torch.set_num_threads(2)
    return MusicnnEmbedder(device="cpu")


def test_log_mel_matches_librosa_melspectrogram() -> None:
    librosa = pytest.importorskip("librosa")
    y = _noise(2.0, seed=0) + _sine(2.0, freq=1000.0)
    mel = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=256, n_mels=96).T
    expected = np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1)
    ours = musicnn_log_mel(y)
    assert ours.shape == expected.shape == (1 + y.size // 256, 96)
    # float16 rounding may land one step apart (<= 2**-11 relative -> 2.1e-4 in log10)
    np.testing.assert_allclose(ours, expected, atol=5e-4)


def test_float16_rounding_equals_numpy_cast_everywhere() -> None:
    # every float16 value, the midpoints between neighbours (ties go to even), and random
    # values over 30 decades, subnormals included
    grid = np.arange(0, 0x7BFF + 1, dtype=np.uint16).view(np.float16).astype(np.float32)
    midpoints = (grid[:-1] + grid[1:]) / 2
    random = (10.0 ** np.random.default_rng(0).uniform(-12, 4.8, 200_000)).astype(np.float32)
    for x in (grid, midpoints, np.nextafter(midpoints, 0), np.nextafter(midpoints, 1), random):
        expected = x.astype(np.float16).astype(np.float32)
        np.testing.assert_array_equal(round_to_float16(x), expected)


def test_log_compression_by_table_equals_the_formula_bit_for_bit() -> None:
    # every float16 value, values between them and beyond float16's range, zeros
    grid = np.arange(0, 0x7BFF + 1, dtype=np.uint16).view(np.float16).astype(np.float32)
    random = (10.0 ** np.random.default_rng(1).uniform(-12, 6, (3000, 96))).astype(np.float32)
    random[::7, ::5] = 0.0
    for mel in (grid, random):
        rounded = np.minimum(mel, np.float32(np.finfo(np.float16).max)).astype(np.float16)
        expected = np.log10(np.float32(10000.0) * rounded.astype(np.float32) + np.float32(1.0))
        np.testing.assert_array_equal(musicnn_log_compress(mel), expected)


def test_log_compression_keeps_nan_where_the_table_cannot_answer() -> None:
    out = musicnn_log_compress(np.array([[0.5, np.nan, 0.0]], dtype=np.float32))
    assert out.shape == (1, 3) and np.isnan(out[0, 1])
    assert out[0, 2] == 0.0 and out[0, 0] == np.log10(np.float32(5001.0))


def test_log_mel_does_not_overflow_on_loud_input() -> None:
    mel = musicnn_log_mel(np.clip(4 * _sine(1.0, freq=200.0), -1, 1))
    assert np.isfinite(mel).all()
    assert mel.max() > np.log10(10000 * 6.55 + 1)  # where musicnn's float16 log gives inf


@pytest.mark.parametrize(
    ("n_frames", "hop", "expected"),
    [
        (1876, None, 10),
        (187, None, 1),
        (373, None, 1),
        (374, None, 2),
        (1876, 93, 19),
        (50, None, 1),
    ],
)
def test_patch_count(n_frames: int, hop: int | None, expected: int) -> None:
    mel = np.arange(n_frames * 96, dtype=np.float32).reshape(n_frames, 96)
    patches = musicnn_patches(mel, hop_frames=hop)
    assert patches.shape == (expected, MUSICNN_PATCH_FRAMES, 96)
    if n_frames >= MUSICNN_PATCH_FRAMES:
        np.testing.assert_array_equal(patches[-1, 0], mel[(expected - 1) * (hop or 187)])


def test_short_clip_is_repeated_into_one_patch() -> None:
    mel = np.arange(50 * 96, dtype=np.float32).reshape(50, 96)
    patch = musicnn_patches(mel)[0]
    np.testing.assert_array_equal(patch[50:100], mel)
    np.testing.assert_array_equal(patch[150:187], mel[:37])


@pytest.mark.parametrize("bad", [np.zeros((2, 100)), np.zeros(0), np.array([0.0, np.nan])])
def test_log_mel_rejects_bad_signals(bad: np.ndarray) -> None:
    with pytest.raises(ParameterError):
        musicnn_log_mel(bad)


def test_shipped_weights_load_into_the_model() -> None:
    model = load_msd_musicnn()
    assert not model.training
    # 792,079 values in the checkpoint, 4,920 of them batch-norm statistics (buffers)
    assert sum(p.numel() for p in model.parameters()) == 787_159
    assert all(torch.isfinite(t).all() for t in model.state_dict().values())
    fresh = Musicnn().state_dict()
    loaded = model.state_dict()
    assert set(fresh) == set(loaded)
    assert not torch.equal(fresh["dense.weight"], loaded["dense.weight"])
    assert (loaded["dense_bn.running_var"] > 0).all()


def test_forward_shapes_and_any_length() -> None:
    model = load_msd_musicnn()
    with torch.inference_mode():
        out = model(torch.rand(3, MUSICNN_PATCH_FRAMES, 96) * 4)
        longer = model(torch.rand(1, 300, 96) * 4)
    assert out.logits.shape == (3, 50)
    assert out.penultimate.shape == (3, 200)
    assert longer.logits.shape == (1, 50)


def test_embed_shapes_and_determinism(embedder: MusicnnEmbedder) -> None:
    y = _noise(6.5, seed=1) + _sine(6.5)
    first = embedder.embed(y)
    again = embedder.embed(y.copy())
    assert first.shape == (embedder.embedding_size,) == (200,)
    assert first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    both = embedder.embed(y, pooling="mean_std")
    assert both.shape == (400,)
    np.testing.assert_allclose(both[:200], first, rtol=1e-6)
    assert (both[200:] > 0).any()


def test_track_output_pools_patch_embeddings(embedder: MusicnnEmbedder) -> None:
    out = embedder.analyse(_noise(6.5, seed=2))
    assert out.patch_embeddings.shape == (2, 200)
    np.testing.assert_allclose(out.embedding, out.patch_embeddings.mean(axis=0), rtol=1e-5)


def test_tag_probabilities_are_probabilities(embedder: MusicnnEmbedder) -> None:
    tags = embedder.tag_probabilities(_sine(3.5) + _noise(3.5, seed=3))
    assert list(tags) == list(MSD_TAGS)
    assert len(tags) == 50
    values = np.array(list(tags.values()))
    assert np.isfinite(values).all()
    assert ((values >= 0) & (values <= 1)).all()
    assert values.std() > 0.01


def test_the_magnatagatune_checkpoint_has_its_own_tags_and_embedding(
        embedder: MusicnnEmbedder) -> None:
    mtt = MusicnnEmbedder(device="cpu", weights="mtt")
    y = _sine(3.5) + _noise(3.5, seed=3)
    tags = mtt.tag_probabilities(y)
    assert list(tags) == list(MTT_TAGS) and len(set(tags)) == 50
    assert all(0 <= p <= 1 for p in tags.values())
    ours, msd = mtt.embed(y), embedder.embed(y)
    assert ours.shape == msd.shape == (200,)
    assert np.corrcoef(ours, msd)[0, 1] < 0.9  # another network, not the same weights
    with pytest.raises(ParameterError, match="expected one of"):
        load_musicnn(weights="msd_big")


def test_embedding_separates_a_tone_from_noise(embedder: MusicnnEmbedder) -> None:
    noise_a = embedder.embed(_noise(3.5, seed=4))
    noise_b = embedder.embed(_noise(3.5, seed=5))
    tone = embedder.embed(_sine(3.5, freq=330.0))
    assert np.linalg.norm(noise_a - tone) > 3 * np.linalg.norm(noise_a - noise_b)


def test_batching_does_not_change_results(embedder: MusicnnEmbedder) -> None:
    patches = musicnn_patches(musicnn_log_mel(_noise(12.0, seed=6) + _sine(12.0)))
    whole, probs = embedder.forward_patches(patches)
    one_by_one = [embedder.forward_patches(patch[np.newaxis]) for patch in patches]
    np.testing.assert_allclose(whole, np.concatenate([e for e, _ in one_by_one]), atol=1e-4)
    np.testing.assert_allclose(probs, np.concatenate([p for _, p in one_by_one]), atol=1e-5)


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [("embed", {"pooling": "max"}), ("forward_patches", {})],
)
def test_bad_arguments_raise(embedder: MusicnnEmbedder, call: str, kwargs: dict) -> None:
    arg = _sine(3.5) if call == "embed" else np.zeros((2, 187, 40), dtype=np.float32)
    with pytest.raises(ParameterError):
        getattr(embedder, call)(arg, **kwargs)


def test_bf16_embedding_is_close_to_float32(embedder: MusicnnEmbedder,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Real bfloat16 arithmetic (emulated, slowly, on a CPU without it) stays close."""
    monkeypatch.setattr("moodnet.core.native_bf16", lambda device: True)
    y = _noise(3.5, seed=7) + _sine(3.5)
    fast = MusicnnEmbedder(device="cpu", bf16=True).embed(y)
    exact = embedder.embed(y)
    assert fast.dtype == np.float32
    cosine = fast @ exact / (np.linalg.norm(fast) * np.linalg.norm(exact))
    assert 0.99 < cosine < 1.0


def test_bad_batch_size_raises() -> None:
    with pytest.raises(ParameterError):
        MusicnnEmbedder(device="cpu", batch_size=0)


def test_inference_shortcut_equals_the_layer_order_of_training() -> None:
    model = load_msd_musicnn().eval()
    patches = torch.from_numpy(np.random.default_rng(3).normal(1.0, 2.0, (3, 187, 96)))
    patches = patches.float()
    with torch.no_grad():
        fast = model(patches)
        for module in [*model.timbral, *model.temporal]:
            module.training = True  # conv -> ReLU -> batch norm (running stats) -> max
        slow = model(patches)
    assert any(bool((m.bn.weight < 0).any()) for m in model.timbral)  # both branches used
    torch.testing.assert_close(fast.penultimate, slow.penultimate, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast.logits, slow.logits, rtol=1e-5, atol=1e-5)
