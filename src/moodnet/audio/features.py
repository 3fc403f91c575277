"""Log-mel spectrograms: one :class:`FeatureConfig`, a numpy/scipy path and a batched torch path.

Both paths compute the same thing: a centred STFT (periodic Hann window, zero padding of
``n_fft // 2`` on both sides, as ``librosa.stft(center=True, pad_mode="constant")``), the power
``re*re + im*im`` raised to ``power / 2``, a Slaney-style mel filterbank (librosa's default,
``htk=False, norm="slaney"``), then a log compression:

- ``log="log1p"`` (default): ``log10(1 + log_gain * mel)`` with ``log_gain = 1e4``. It is
  logarithmic above about -40 dB re 1 (where music spends most of its frames) and goes
  smoothly to 0 for silence, so zero padding maps to 0 and no clip-dependent reference is
  needed. Delbouys et al.'s port used ``power=1, log_gain=10``.
- ``log="db"``: ``10 * log10(max(mel, 1e-10))`` (``librosa.power_to_db`` with ``ref=1``,
  ``top_db=None``).

This module never imports torch at module level; only :func:`log_mel_torch` does.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.audio.fft import rfft
from moodnet.audio.io import audio_info, load_audio
from moodnet.errors import AudioError, ParameterError

if TYPE_CHECKING:
    import scipy.sparse
    import torch

CROP_POLICIES = ("first", "centre", "random")
LOG_SCALES = ("log1p", "db")
DB_AMIN = 1e-10
# seconds read either side of a clip so that resampling has context at its edges
_RESAMPLE_MARGIN = 0.1
# bump when the computation changes in a way the config fields do not show
FEATURE_VERSION = 1


@dataclass(frozen=True)
class FeatureConfig:
    """Everything that defines a log-mel input; stored in checkpoints and cache keys.

    Attributes
    ----------
    sample_rate : Hz; audio is resampled to it
    n_fft : STFT window and FFT length in samples
    hop_length : STFT hop in samples
    n_mels : mel bands (40 as in Delbouys et al.; 128 for 2-D CNNs)
    fmin, fmax : mel filterbank range in Hz; ``fmax=None`` means ``sample_rate / 2``
    power : 2.0 for the power spectrum, 1.0 for the magnitude
    log : ``"log1p"`` (``log10(1 + log_gain * mel)``) or ``"db"`` (``10 log10 mel``)
    log_gain : the gain inside ``log1p`` compression
    clip_seconds : length of the clip a track is cropped or zero-padded to
    crop : where the clip is taken: ``"first"``, ``"centre"`` or ``"random"`` seconds
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float | None = None
    power: float = 2.0
    log: str = "log1p"
    log_gain: float = 1e4
    clip_seconds: float = 30.0
    crop: str = "centre"

    def __post_init__(self) -> None:
        _positive_int("sample_rate", self.sample_rate)
        _positive_int("n_fft", self.n_fft)
        _positive_int("hop_length", self.hop_length)
        _positive_int("n_mels", self.n_mels)
        nyquist = self.sample_rate / 2
        if not 0 <= self.fmin < self.fmax_hz <= nyquist:
            raise ParameterError(
                f"need 0 <= fmin < fmax <= sample_rate/2, got fmin={self.fmin}, "
                f"fmax={self.fmax} (Nyquist {nyquist} Hz)"
            )
        if self.power not in (1.0, 2.0):
            raise ParameterError(f"power={self.power} must be 1.0 (magnitude) or 2.0 (power)")
        if self.log not in LOG_SCALES:
            raise ParameterError(f"log={self.log!r} must be one of {LOG_SCALES}")
        if not (math.isfinite(self.log_gain) and self.log_gain > 0):
            raise ParameterError(f"log_gain={self.log_gain} must be > 0")
        if not (math.isfinite(self.clip_seconds) and self.clip_seconds > 0):
            raise ParameterError(f"clip_seconds={self.clip_seconds} must be > 0")
        if self.crop not in CROP_POLICIES:
            raise ParameterError(f"crop={self.crop!r} must be one of {CROP_POLICIES}")

    @property
    def fmax_hz(self) -> float:
        """The upper mel edge in Hz (``fmax`` or Nyquist)."""
        return float(self.sample_rate / 2 if self.fmax is None else self.fmax)

    @property
    def n_samples(self) -> int:
        """Samples in one clip: ``round(clip_seconds * sample_rate)``."""
        return round(self.clip_seconds * self.sample_rate)

    @property
    def n_frames(self) -> int:
        """Frames in one clip's log-mel: ``1 + n_samples // hop_length`` (1292 for 30 s)."""
        return frames_for_samples(self.n_samples, hop_length=self.hop_length)

    @property
    def frame_seconds(self) -> float:
        """Seconds between frames (``hop_length / sample_rate``)."""
        return self.hop_length / self.sample_rate

    @property
    def pad_value(self) -> float:
        """The log-mel value of silence (zero padding)."""
        return 0.0 if self.log == "log1p" else 10.0 * math.log10(DB_AMIN)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-able data (see :func:`moodnet.config.to_dict`)."""
        from moodnet.config import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`~moodnet.errors.ConfigError`."""
        from moodnet.config import from_dict

        return from_dict(cls, data)

    def key(self) -> str:
        """A stable, readable identifier for cache folders, e.g. ``mel40_sr22050_3f9a1c2b7d``.

        Two configs with equal fields (and the same :data:`FEATURE_VERSION`) have equal keys.
        The crop policy is included: a cached clip depends on it.
        """
        payload = json.dumps(
            {"version": FEATURE_VERSION, **self.to_dict()}, sort_keys=True, default=str
        )
        digest = hashlib.blake2b(payload.encode("utf-8"), digest_size=5).hexdigest()
        return f"mel{self.n_mels}_sr{self.sample_rate}_{digest}"


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive integer")


def frames_for_samples(n_samples: int, *, hop_length: int) -> int:
    """Frames of a centred STFT over ``n_samples``: ``1 + n_samples // hop_length``."""
    return 1 + n_samples // hop_length


# --- mel filterbank ----------------------------------------------------------------------------


def hz_to_mel(frequencies: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above."""
    f = np.asarray(frequencies, dtype=np.float64)
    linear = f / (200.0 / 3)
    logstep = math.log(6.4) / 27.0
    with np.errstate(divide="ignore"):
        log_part = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / logstep
    return np.where(f >= 1000.0, log_part, linear)


def mel_to_hz(mels: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    m = np.asarray(mels, dtype=np.float64)
    logstep = math.log(6.4) / 27.0
    return np.where(m >= 15.0, 1000.0 * np.exp(logstep * (m - 15.0)), m * (200.0 / 3))


@functools.lru_cache(maxsize=16)
def mel_filterbank(
    *, sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float
) -> np.ndarray:
    """Triangular mel filters with Slaney area normalisation (librosa's default).

    Returns
    -------
    basis : np.ndarray [shape=(n_mels, 1 + n_fft // 2)], float32, read-only
    """
    fft_freqs = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, np.newaxis] - fft_freqs[np.newaxis, :]
    lower = -ramps[:-2] / widths[:-1, np.newaxis]
    upper = ramps[2:] / widths[1:, np.newaxis]
    basis = np.maximum(0.0, np.minimum(lower, upper))
    basis *= (2.0 / (edges[2:] - edges[:-2]))[:, np.newaxis]
    basis = basis.astype(np.float32)
    basis.setflags(write=False)
    return basis


@functools.lru_cache(maxsize=16)
def _sparse_filterbank(
    *, sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float
) -> scipy.sparse.csr_array:
    basis = mel_filterbank(
        sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax
    )
    import scipy.sparse

    return scipy.sparse.csr_array(basis)


def _config_filterbank_args(config: FeatureConfig) -> dict[str, Any]:
    return {
        "sample_rate": config.sample_rate,
        "n_fft": config.n_fft,
        "n_mels": config.n_mels,
        "fmin": float(config.fmin),
        "fmax": config.fmax_hz,
    }


# --- numpy / scipy path ------------------------------------------------------------------------


def power_spectrogram(
    y: np.ndarray, *, n_fft: int = 1024, hop_length: int = 512, power: float = 2.0
) -> np.ndarray:
    """Centred STFT power (or magnitude) spectrogram, frames in rows.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], audio samples
    n_fft, hop_length : samples
    power : 2.0 for ``|X|^2``, 1.0 for ``|X|``

    Returns
    -------
    S : np.ndarray [shape=(n_frames, 1 + n_fft // 2)], float32, ``n_frames = 1 + n // hop``
    """
    frames = frame_signal(y, frame_length=n_fft, hop_length=hop_length)
    window = _hann(n_fft)
    magnitude = np.abs(rfft(frames * window, axis=1)).astype(np.float32, copy=False)
    if power == 2.0:
        np.square(magnitude, out=magnitude)
    return magnitude


@functools.lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    n = np.arange(n_fft)
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)
    window.setflags(write=False)
    return window


def frame_signal(y: np.ndarray, *, frame_length: int, hop_length: int) -> np.ndarray:
    """Centred frames of a signal (zero padding of ``frame_length // 2`` on both sides).

    Returns
    -------
    frames : np.ndarray [shape=(1 + n // hop_length, frame_length)], float32, a read-only view
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"expected a 1-D signal, got shape {y.shape}")
    padded = np.pad(y, frame_length // 2)
    if padded.size < frame_length:
        padded = np.pad(padded, (0, frame_length - padded.size))
    view = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop_length]
    return view[: frames_for_samples(y.size, hop_length=hop_length)]


def mel_spectrogram(y: np.ndarray, *, config: FeatureConfig) -> np.ndarray:
    """Mel spectrogram before log compression (``librosa.feature.melspectrogram`` equivalent).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float audio at ``config.sample_rate``

    Returns
    -------
    mel : np.ndarray [shape=(n_mels, 1 + n // hop_length)], float32, >= 0
    """
    spec = power_spectrogram(
        y, n_fft=config.n_fft, hop_length=config.hop_length, power=config.power
    )
    basis = _sparse_filterbank(**_config_filterbank_args(config))
    return np.ascontiguousarray((basis @ spec.T).astype(np.float32, copy=False))


def log_compress(mel: np.ndarray, *, config: FeatureConfig) -> np.ndarray:
    """Apply the config's log compression (see the module docstring) to a mel spectrogram."""
    mel = np.asarray(mel, dtype=np.float32)
    if config.log == "db":
        return (10.0 * np.log10(np.maximum(mel, DB_AMIN))).astype(np.float32)
    return np.log10(1.0 + np.float32(config.log_gain) * mel).astype(np.float32)


def log_mel(y: np.ndarray, *, config: FeatureConfig) -> np.ndarray:
    """Log-mel spectrogram of one signal (numpy/scipy; no torch).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float audio at ``config.sample_rate``
    config : the feature definition

    Returns
    -------
    mel : np.ndarray [shape=(n_mels, 1 + n // hop_length)], float32, log scale
    """
    return log_compress(mel_spectrogram(y, config=config), config=config)


# --- torch path --------------------------------------------------------------------------------


def log_mel_torch(batch: torch.Tensor, *, config: FeatureConfig) -> torch.Tensor:
    """Batched log-mel with ``torch.stft``; same definition as :func:`log_mel`.

    Parameters
    ----------
    batch : torch.Tensor [shape=(B, n) or (n,)], float audio at ``config.sample_rate``,
        on any device

    Returns
    -------
    mel : torch.Tensor [shape=(B, n_mels, 1 + n // hop_length) or (n_mels, ...)], log scale,
        same device and dtype as ``batch``
    """
    import torch

    if batch.ndim not in (1, 2):
        raise ParameterError(f"expected a (B, n) or (n,) tensor, got shape {tuple(batch.shape)}")
    window = torch.hann_window(config.n_fft, dtype=batch.dtype, device=batch.device)
    spec = torch.stft(
        batch,
        config.n_fft,
        hop_length=config.hop_length,
        window=window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )  # (B, bins, T)
    power = spec.real * spec.real + spec.imag * spec.imag
    if config.power == 1.0:
        power = power.sqrt()
    basis = torch.from_numpy(np.array(mel_filterbank(**_config_filterbank_args(config))))
    mel = torch.matmul(basis.to(device=batch.device, dtype=power.dtype), power)
    if config.log == "db":
        return 10.0 * torch.log10(torch.clamp(mel, min=DB_AMIN))
    return torch.log10(1.0 + config.log_gain * mel)


# --- clips and windows -------------------------------------------------------------------------


def crop_or_pad(
    y: np.ndarray,
    *,
    n_samples: int,
    policy: str = "centre",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Cut a signal to exactly ``n_samples``, or zero-pad it at the end.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)]
    n_samples : output length
    policy : ``"first"`` (start of the track), ``"centre"`` (middle) or ``"random"``
        (uniform start; draws from ``rng``, a fresh unseeded generator when None)

    Returns
    -------
    clip : np.ndarray [shape=(..., n_samples)], same dtype
    """
    if policy not in CROP_POLICIES:
        raise ParameterError(f"policy={policy!r} must be one of {CROP_POLICIES}")
    if n_samples <= 0:
        raise ParameterError(f"n_samples={n_samples} must be positive")
    length = y.shape[-1]
    if length < n_samples:
        pad = [(0, 0)] * (y.ndim - 1) + [(0, n_samples - length)]
        return np.pad(y, pad)
    start = crop_start(length, n_samples=n_samples, policy=policy, rng=rng)
    return y[..., start : start + n_samples]


def crop_start(
    length: int, *, n_samples: int, policy: str, rng: np.random.Generator | None = None
) -> int:
    """First sample of the ``n_samples`` crop of a ``length``-sample signal under ``policy``."""
    spare = max(length - n_samples, 0)
    if policy == "first" or spare == 0:
        return 0
    if policy == "centre":
        return spare // 2
    generator = rng if rng is not None else np.random.default_rng()
    return int(generator.integers(0, spare + 1))


def clip_for_file(
    path: str | Path, *, config: FeatureConfig, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Decode the ``config.clip_seconds`` clip of a file chosen by ``config.crop``.

    Long files (more than twice the clip) are read through a seek to the clip only.

    Returns
    -------
    clip : np.ndarray [shape=(config.n_samples,)], float32, mono at ``config.sample_rate``,
        zero-padded at the end when the file is shorter
    """
    n = config.n_samples
    window = _clip_window(path, config=config, rng=rng)
    if window is not None:
        offset, seconds = window
        margin = min(_RESAMPLE_MARGIN, offset)
        y = load_audio(
            path,
            sr=config.sample_rate,
            offset=offset - margin,
            duration=seconds + margin + _RESAMPLE_MARGIN,
        )
        y = y[round(margin * config.sample_rate) :]
        if y.size >= n - config.hop_length:
            return crop_or_pad(y, n_samples=n, policy="first")
    y = load_audio(path, sr=config.sample_rate)
    return crop_or_pad(y, n_samples=n, policy=config.crop, rng=rng)


def _clip_window(
    path: str | Path, *, config: FeatureConfig, rng: np.random.Generator | None
) -> tuple[float, float] | None:
    try:
        info = audio_info(path)
    except AudioError:
        return None
    if not math.isfinite(info.duration) or info.duration <= 2 * config.clip_seconds:
        return None
    total = round(info.duration * config.sample_rate)
    start = crop_start(total, n_samples=config.n_samples, policy=config.crop, rng=rng)
    return start / config.sample_rate, config.clip_seconds


def features_for_file(
    path: str | Path, *, config: FeatureConfig, rng: np.random.Generator | None = None
) -> np.ndarray:
    """The model input of one file: decode, crop/pad to the clip, log-mel.

    Parameters
    ----------
    path : audio file
    config : feature definition
    rng : random generator for ``crop="random"``

    Returns
    -------
    mel : np.ndarray [shape=(config.n_mels, config.n_frames)], float32, log scale

    Raises
    ------
    AudioError
        The file does not decode or is empty, silent or too short (see ``load_audio``).
    """
    return log_mel(clip_for_file(path, config=config, rng=rng), config=config)


