"""Log-mel against librosa, the torch path against numpy, crops, windows and descriptors."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from moodnet.audio import (
    FeatureConfig,
    clip_for_file,
    crop_or_pad,
    descriptor_names,
    descriptors,
    features_for_file,
    load_audio,
    log_mel,
    log_mel_torch,
    mel_spectrogram,
)
from moodnet.errors import ConfigError, ParameterError

librosa = pytest.importorskip("librosa")

SR = 22050


def chirp_with_noise(seconds: float = 3.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * sr)) / sr
    sweep = np.sin(2 * np.pi * (50 * t + (4000 - 50) / (2 * seconds) * t**2))
    return (0.4 * sweep + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def db(x: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.maximum(x, 1e-10))


CONFIGS = [
    FeatureConfig(),
    FeatureConfig(n_mels=128),
    FeatureConfig(n_fft=2048, hop_length=256, n_mels=96, power=1.0),
    FeatureConfig(sample_rate=16000, n_mels=64, fmin=30.0, fmax=7000.0),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.key())
def test_mel_matches_librosa(config: FeatureConfig) -> None:
    y = chirp_with_noise(sr=config.sample_rate)
    ours = mel_spectrogram(y, config=config)
    ref = librosa.feature.melspectrogram(
        y=y,
        sr=config.sample_rate,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        n_mels=config.n_mels,
        fmin=config.fmin,
        fmax=config.fmax,
        power=config.power,
        pad_mode="constant",
    )
    assert ours.shape == ref.shape
    assert ours.dtype == np.float32
    audible = ref > ref.max() * 1e-8  # within 80 dB of the peak
    # stated tolerance: 1e-3 dB over the top 80 dB (float32 FFT vs librosa's)
    assert np.abs(db(ours) - db(ref))[audible].max() < 1e-3


def test_default_clip_has_1292_frames() -> None:
    config = FeatureConfig()
    assert config.n_samples == 30 * SR
    assert config.n_frames == 1292
    assert log_mel(np.zeros(config.n_samples, np.float32), config=config).shape == (40, 1292)


@pytest.mark.parametrize("log", ["log1p", "db"])
def test_log_compression_and_pad_value(log: str) -> None:
    config = FeatureConfig(log=log)
    y = chirp_with_noise()
    mel = mel_spectrogram(y, config=config)
    expected = np.log10(1 + 1e4 * mel) if log == "log1p" else db(mel)
    np.testing.assert_allclose(log_mel(y, config=config), expected, rtol=1e-5, atol=1e-5)
    silence = log_mel(np.zeros(4096, np.float32), config=config)
    np.testing.assert_allclose(silence, config.pad_value)


@pytest.mark.parametrize("config", [FeatureConfig(), FeatureConfig(log="db", power=1.0)])
def test_torch_path_matches_numpy(config: FeatureConfig) -> None:
    torch = pytest.importorskip("torch")
    batch = np.stack([chirp_with_noise(seed=1), chirp_with_noise(seed=2)])
    ours = log_mel_torch(torch.from_numpy(batch), config=config)
    assert ours.shape == (2, config.n_mels, 1 + batch.shape[1] // config.hop_length)
    for row, signal in zip(ours.numpy(), batch, strict=True):
        np.testing.assert_allclose(row, log_mel(signal, config=config), atol=2e-3, rtol=1e-4)
    single = log_mel_torch(torch.from_numpy(batch[0]), config=config)
    np.testing.assert_allclose(single.numpy(), ours[0].numpy(), atol=1e-5)


# --- config ------------------------------------------------------------------------------------


def test_config_round_trips_and_keys_are_stable() -> None:
    config = FeatureConfig(n_mels=128, crop="first")
    assert FeatureConfig.from_dict(config.to_dict()) == config
    assert config.key() == FeatureConfig(n_mels=128, crop="first").key()
    assert config.key() != FeatureConfig(n_mels=128).key()
    # a cache key must not change between versions by accident
    assert FeatureConfig().key() == "mel40_sr22050_0498b473ee"


@pytest.mark.parametrize(
    "changes",
    [
        {"n_mels": 0},
        {"hop_length": 1.5},
        {"fmax": 20000.0},
        {"fmin": 9000.0, "fmax": 8000.0},
        {"power": 3.0},
        {"log": "ln"},
        {"clip_seconds": 0.0},
        {"crop": "middle"},
    ],
)
def test_config_rejects_bad_values(changes: dict[str, Any]) -> None:
    with pytest.raises(ParameterError):
        dataclasses.replace(FeatureConfig(), **changes)


def test_config_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="n_mel"):
        FeatureConfig.from_dict({"n_mel": 40})


# --- crops -------------------------------------------------------------------------------------


def test_crop_policies() -> None:
    y = np.arange(10.0)
    np.testing.assert_array_equal(crop_or_pad(y, n_samples=4, policy="first"), [0, 1, 2, 3])
    np.testing.assert_array_equal(crop_or_pad(y, n_samples=4, policy="centre"), [3, 4, 5, 6])
    starts = {
        int(crop_or_pad(y, n_samples=4, policy="random", rng=np.random.default_rng(s))[0])
        for s in range(60)
    }
    assert starts == set(range(7))


def test_random_crop_is_reproducible_with_a_seed() -> None:
    y = np.arange(1000.0)
    first = crop_or_pad(y, n_samples=10, policy="random", rng=np.random.default_rng(3))
    again = crop_or_pad(y, n_samples=10, policy="random", rng=np.random.default_rng(3))
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("policy", ["first", "centre", "random"])
def test_short_signals_are_zero_padded_at_the_end(policy: str) -> None:
    y = np.ones((2, 3), np.float32)
    out = crop_or_pad(y, n_samples=5, policy=policy)
    np.testing.assert_array_equal(out, [[1, 1, 1, 0, 0], [1, 1, 1, 0, 0]])
    assert out.dtype == np.float32


def test_crop_rejects_unknown_policy() -> None:
    with pytest.raises(ParameterError, match="middle"):
        crop_or_pad(np.ones(5), n_samples=2, policy="middle")


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("features") / "long.wav"
    sf.write(path, chirp_with_noise(seconds=7.0), SR, subtype="FLOAT")
    return path


@pytest.fixture(scope="module")
def long_flac_44k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("features") / "long44k.flac"
    sf.write(path, chirp_with_noise(seconds=7.0, sr=44100), 44100)
    return path


@pytest.mark.parametrize("crop", ["first", "centre", "random"])
@pytest.mark.parametrize("name", ["long_wav", "long_flac_44k"])
def test_clip_of_a_long_file_equals_cropping_the_full_decode(
    request: pytest.FixtureRequest, name: str, crop: str
) -> None:
    path = request.getfixturevalue(name)
    config = FeatureConfig(clip_seconds=3.0, crop=crop)
    clip = clip_for_file(path, config=config, rng=np.random.default_rng(5))
    expected = crop_or_pad(
        load_audio(path), n_samples=config.n_samples, policy=crop, rng=np.random.default_rng(5)
    )
    np.testing.assert_allclose(clip, expected, atol=1e-5)


def test_features_for_file(long_wav: Path) -> None:
    config = FeatureConfig(clip_seconds=10.0, n_mels=32)
    mel = features_for_file(long_wav, config=config)
    assert mel.shape == (32, config.n_frames)
    padded = crop_or_pad(load_audio(long_wav), n_samples=config.n_samples, policy="centre")
    np.testing.assert_allclose(mel, log_mel(padded, config=config), atol=1e-6)
    assert np.all(mel[:, -10:] == config.pad_value)


def test_features_for_resampled_file_keep_their_shape(tmp_path: Path) -> None:
    path = tmp_path / "tone48k.flac"
    sf.write(path, chirp_with_noise(seconds=2.5, sr=48000), 48000)
    config = FeatureConfig(clip_seconds=2.0)
    assert features_for_file(path, config=config).shape == (40, config.n_frames)


# --- windows -----------------------------------------------------------------------------------


def test_track_windows_tile_the_whole_track_and_pad_the_last(long_wav: Path) -> None:
    """The windows a torch checkpoint reads a track in (``moodnet.predict.windows``)."""
    from moodnet.predict.windows import _tile_windows, _window, _window_plans, track_features

    config = FeatureConfig(clip_seconds=2.0)
    features = track_features(long_wav, feature_config=config)
    n, width = features.mel.shape[1], config.n_frames
    whole, spans, plans = _window_plans(features, window_frames=width,
                                        frames_per_s=1 / config.frame_seconds, segments=1.5)
    assert whole[0] == 0 and whole[-1] + width == n  # back to back, the last one ends the track
    assert all(b - a == width for a, b in itertools.pairwise(whole[:-1]))
    assert len(spans) == len(plans) and spans[-1][1] == pytest.approx(features.duration_s)
    assert all(0 <= s <= n - width for plan in plans for s in plan)
    padded = _window(features.mel, n - 10, width, pad_value=config.pad_value)
    assert padded.shape == (config.n_mels, width)
    np.testing.assert_array_equal(padded[:, :10], features.mel[:, -10:])
    assert np.all(padded[:, 10:] == config.pad_value)
    assert _tile_windows(0, 50, 100, 50) == [0]  # shorter than a window: one window


# --- descriptors -------------------------------------------------------------------------------


def test_descriptors_match_librosa() -> None:
    y = chirp_with_noise()
    values = dict(zip(descriptor_names(), descriptors(y, sr=SR), strict=True))
    magnitude = np.abs(librosa.stft(y, n_fft=2048, hop_length=512, pad_mode="constant"))
    references = {
        "centroid": librosa.feature.spectral_centroid(S=magnitude, sr=SR),
        "bandwidth": librosa.feature.spectral_bandwidth(S=magnitude, sr=SR),
        "rolloff": librosa.feature.spectral_rolloff(S=magnitude, sr=SR),
        "flatness": librosa.feature.spectral_flatness(S=magnitude),
        "rms": librosa.feature.rms(S=magnitude),
        "zcr": librosa.feature.zero_crossing_rate(y),
    }
    for name, ref in references.items():
        assert values[f"{name}_mean"] == pytest.approx(ref.mean(), rel=2e-3), name
        assert values[f"{name}_std"] == pytest.approx(ref.std(), rel=2e-2), name
    mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20)
    for i in range(20):
        assert values[f"mfcc{i}_mean"] == pytest.approx(mfcc[i].mean(), abs=1e-2)
        assert values[f"mfcc{i}_std"] == pytest.approx(mfcc[i].std(), abs=1e-2)


def test_tempo_of_a_click_track() -> None:
    y = np.zeros(10 * SR, np.float32)
    beat = round(SR * 60 / 120)
    for start in range(0, y.size - 200, beat):
        y[start : start + 200] = np.hanning(200) * np.sin(np.arange(200) * 0.9)
    values = dict(zip(descriptor_names(), descriptors(y, sr=SR), strict=True))
    assert values["tempo_bpm"] == pytest.approx(120, abs=3)
    assert values["tempo_strength"] > 0.5


def test_descriptor_vector_is_finite_even_for_near_silence() -> None:
    y = np.zeros(SR, np.float32)
    y[100] = 1e-3
    vector = descriptors(y, sr=SR)
    assert vector.shape == (len(descriptor_names()),)
    assert np.isfinite(vector).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rfft_is_scipys_bit_for_bit(dtype: type) -> None:
    import scipy.fft

    from moodnet.audio.fft import rfft

    rng = np.random.default_rng(0)
    for shape, axis in (((7, 512), 1), ((4096,), 0), ((300, 8), 0), ((3, 5, 1024), -1)):
        x = rng.standard_normal(shape).astype(dtype)
        ours, theirs = rfft(x, axis=axis), scipy.fft.rfft(x, axis=axis)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        assert np.array_equal(ours, theirs)
    assert np.array_equal(rfft(np.arange(8)), scipy.fft.rfft(np.arange(8)))  # integers
    half = rng.standard_normal(64).astype(np.float16)
    assert rfft(half).dtype == scipy.fft.rfft(half).dtype == np.complex64
    assert np.array_equal(rfft(half), scipy.fft.rfft(half))


def test_feature_path_never_imports_torch(long_wav: Path) -> None:
    code = (
        "import sys; from moodnet.audio import features_for_file, FeatureConfig, descriptors;"
        "import moodnet.data.extract, moodnet.cli.extract_cmd;"
        f"features_for_file({str(long_wav)!r}, config=FeatureConfig(clip_seconds=1.0));"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
