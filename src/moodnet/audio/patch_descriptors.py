"""Descriptors of every 3-second patch of a track: the input of the default (fast) model.

numpy/scipy only (no torch). A track is resampled to 16 kHz mono, brought to a fixed RMS level
(so that a gain change does not move the result), and analysed with two STFTs:

* a 512-point STFT (hop 256, 62.5 frames/s) under a 96-band Slaney mel filterbank in dB, cut
  into non-overlapping patches of 187 frames (2.99 s, musicnn's patch); per patch: the mean and
  the standard deviation over time of 32 mel bands, the mean absolute frame-to-frame change of
  each band (flux), 19 MFCC standard deviations, onset-envelope statistics, pulse clarity at
  eight tempo lags, spectral centroid, roll-off and flatness;
* a 4096-point STFT (hop 2048) for a chroma of the 65-2093 Hz range; per patch: the chroma
  rotated to its best-matching major key (12 values) and the Krumhansl-Kessler major and minor
  key correlations (mode is a classical valence cue).

Every descriptor is a per-patch value, so a segment of a track is described by the mean of its
patches' descriptors; a linear model over them scores patches, segments and whole tracks on one
scale.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from moodnet.audio.features import frame_signal, mel_filterbank
from moodnet.audio.fft import rfft
from moodnet.errors import ParameterError

PATCH_SAMPLE_RATE = 16000
PATCH_FRAMES = 187
PATCH_HOP = 256
PATCH_SECONDS = PATCH_FRAMES * PATCH_HOP / PATCH_SAMPLE_RATE
"""Seconds per patch (2.992): the time resolution of the default model."""
PATCH_DESCRIPTOR_VERSION = 1
TARGET_RMS_DB = -20.0
"""Tracks are scaled to this RMS level (dBFS) before analysis."""

_N_FFT = 512
_N_MELS = 96
_N_BANDS = 32
_N_MFCC = 20
_CHROMA_N_FFT = 4096
_CHROMA_HOP = 2048
_CHROMA_RANGE_HZ = (65.0, 2093.0)
_DB_FLOOR = -100.0
_DB_PER_LN = np.float32(10.0 / np.log(10.0))  # 10 log10(x) = _DB_PER_LN * ln(x)
_N_TONAL = 15  # 12 relative chroma, key_major, key_minor, key_mode
_TEMPO_LAGS_S = (0.25, 0.333, 0.4, 0.5, 0.6, 0.75, 1.0, 1.25)
# Krumhansl & Kessler (1982) key profiles, C major / C minor.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def patch_descriptor_names() -> list[str]:
    """Names of the columns of :func:`analyse_patches`' rows, in order."""
    names = [f"band{b}_{stat}" for stat in ("mean", "std", "flux") for b in range(_N_BANDS)]
    names += [f"mfcc{i}_std" for i in range(1, _N_MFCC)]
    names += ["onset_mean", "onset_std", "onset_max", "level_std"]
    names += [f"pulse_{lag:g}s" for lag in _TEMPO_LAGS_S]
    names += ["centroid_mean", "centroid_std", "rolloff_mean", "flatness_mean"]
    names += [f"chroma_rel{i}" for i in range(12)] + ["key_major", "key_minor", "key_mode"]
    return names


def descriptor_groups() -> dict[str, np.ndarray]:
    """Column indices of the groups of :func:`patch_descriptor_names`: the 32 band means,
    stds and fluxes, MFCC stds, onset, level, pulse, spectral shape (centroid, roll-off,
    flatness), chroma and key."""
    found: dict[str, list[int]] = {}
    for column, name in enumerate(patch_descriptor_names()):
        first = re.sub(r"\d+", "", name.split("_")[0])
        group = ("band_" + name.split("_")[1] if first == "band"
                 else "shape" if first in ("centroid", "rolloff", "flatness") else first)
        found.setdefault(group, []).append(column)
    return {name: np.array(columns) for name, columns in found.items()}


SKIPPABLE_GROUPS: Mapping[str, tuple[str, ...]] = {
    "mfcc": ("mfcc",), "pulse": ("pulse",), "shape": ("shape",), "tonal": ("chroma", "key"),
}
"""What :func:`analyse_patches` can leave uncomputed (those columns then hold 0), and the
:func:`descriptor_groups` each one covers: chroma and key share one STFT, so they go
together."""


def normalise_level(y: np.ndarray) -> np.ndarray:
    """Scale a signal to :data:`TARGET_RMS_DB` dBFS RMS (a silent signal is returned as is)."""
    y = np.asarray(y, dtype=np.float32)
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    if rms <= 0.0:
        return y
    return y * np.float32(10.0 ** (TARGET_RMS_DB / 20.0) / rms)


@dataclass(frozen=True)
class PatchAnalysis:
    """What :func:`analyse_patches` computes once for the descriptors and the student.

    Attributes
    ----------
    rows : np.ndarray [shape=(n_patches, n_descriptors)], float32
    mel : np.ndarray [shape=(n_frames, 96)], float32, mel power (Slaney, 512-point STFT)
    bounds : frame ranges of the patches (:func:`patch_bounds`)
    """

    rows: np.ndarray
    mel: np.ndarray
    bounds: list[tuple[int, int]]


def analyse_patches(y: np.ndarray, *, skip: Collection[str] = ()) -> PatchAnalysis:
    """Mel power and per-patch descriptors of a 16 kHz mono signal (see the module doc).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], 16 kHz mono
    skip : groups of :data:`SKIPPABLE_GROUPS` not to compute (a model that gives them no
        weight); their columns hold 0, every other column is unchanged
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size < _N_FFT:
        raise ParameterError(f"expected a 1-D signal of >= {_N_FFT} samples, got {y.shape}")
    unknown = set(skip) - SKIPPABLE_GROUPS.keys()
    if unknown:
        raise ParameterError(f"cannot skip {sorted(unknown)}: only {sorted(SKIPPABLE_GROUPS)}")
    power = _power(y, n_fft=_N_FFT, hop=PATCH_HOP)  # (T, 257)
    mel = _mel(power)  # (T, 96)
    frames = _FrameFeatures.of(power, _db(mel), skip=skip)
    bounds = patch_bounds(power.shape[0])
    rows = np.hstack([frames.describe_patches(bounds, pulse="pulse" not in skip),
                      _tonal_rows(y, bounds) if "tonal" not in skip
                      else np.zeros((len(bounds), _N_TONAL))])
    return PatchAnalysis(rows.astype(np.float32), mel, bounds)


def _tonal_rows(y: np.ndarray, bounds: list[tuple[int, int]]) -> np.ndarray:
    """(n_patches, 15): chroma and key descriptors of each patch."""
    chroma = _chroma(y)  # (T_c, 12)
    chroma_scale = PATCH_HOP / _CHROMA_HOP
    tonal = []
    for start, stop in bounds:
        c0 = int(start * chroma_scale)
        c1 = max(int(np.ceil(stop * chroma_scale)), c0 + 1)
        tonal.append(_tonal(chroma[c0:c1]))
    return np.stack(tonal)


def patch_bounds(n_frames: int) -> list[tuple[int, int]]:
    """Frame ranges of the patches of an ``n_frames``-long spectrogram (see
    :func:`analyse_patches`)."""
    n_patches = max(1, round(n_frames / PATCH_FRAMES))
    edges = [min(i * PATCH_FRAMES, n_frames) for i in range(n_patches)] + [n_frames]
    return list(itertools.pairwise(edges))


def _mfcc(mel_db: np.ndarray) -> np.ndarray:
    """MFCC 1-19 of dB mel frames (T, n_mels): scipy.fft, imported only here (the default
    model leaves this group out)."""
    import scipy.fft

    return scipy.fft.dct(mel_db, type=2, norm="ortho", axis=1)[:, 1:_N_MFCC]


@dataclass(frozen=True)
class _FrameFeatures:
    """Frame-level quantities computed once per track; patches take statistics of slices."""

    bands: np.ndarray  # (T, 32) dB
    mfcc: np.ndarray  # (T, 19)
    flux: np.ndarray  # (T - 1, 32) |change| of the bands
    onset: np.ndarray  # (T - 1,) mean positive change of the 96 dB bands
    centroid: np.ndarray  # (T,) kHz
    rolloff: np.ndarray  # (T,) kHz
    flatness: np.ndarray  # (T,)

    @classmethod
    def of(cls, power: np.ndarray, mel_db: np.ndarray, *,
           skip: Collection[str] = ()) -> _FrameFeatures:
        """Frame quantities; those of the ``mfcc`` and ``shape`` groups are zeros if skipped."""
        bands = _band_means(mel_db)
        n = mel_db.shape[0]
        mfcc = (np.zeros((n, _N_MFCC - 1), dtype=np.float32) if "mfcc" in skip
                else _mfcc(mel_db))
        shape = ({key: np.zeros(n, dtype=np.float32) for key in ("centroid", "rolloff",
                                                                  "flatness")}
                 if "shape" in skip else _spectral_shape(power))
        return cls(
            bands=bands, mfcc=mfcc, flux=np.abs(np.diff(bands, axis=0)),
            onset=np.maximum(np.diff(mel_db, axis=0), 0.0).mean(axis=1), **shape,
        )

    def describe_patches(self, bounds: list[tuple[int, int]], *, pulse: bool = True
                         ) -> np.ndarray:
        """(n_patches, n_descriptors - 15): the non-tonal descriptors of every patch of
        :func:`patch_bounds`; its leading patches of exactly :data:`PATCH_FRAMES` frames are
        described all at once, the others one by one (:meth:`describe`). Without ``pulse``
        the pulse columns hold 0."""
        n_regular = sum(stop - start == PATCH_FRAMES for start, stop in bounds)
        rows = [self._describe_regular(n_regular, pulse=pulse)] if n_regular else []
        rows += [self.describe(start, stop, pulse=pulse)[None]
                 for start, stop in bounds[n_regular:]]
        return np.concatenate(rows)

    def _describe_regular(self, n: int, *, pulse: bool = True) -> np.ndarray:
        """What :meth:`describe` gives for the patches [i * PATCH_FRAMES, (i + 1) *
        PATCH_FRAMES), i < n, as one (n, ...) array (the same values, up to float rounding of
        the pulse correlations)."""

        def patches(values: np.ndarray, length: int = PATCH_FRAMES) -> np.ndarray:
            # (>= n * PATCH_FRAMES - 1, ...) -> (n, length, ...); frame differences are one
            # short when the last patch ends at the last frame: a zero row pads them
            missing = n * PATCH_FRAMES - values.shape[0]
            if missing > 0:
                values = np.concatenate([values, np.zeros((missing, *values.shape[1:]),
                                                          dtype=values.dtype)])
            return values[: n * PATCH_FRAMES].reshape(n, PATCH_FRAMES, *values.shape[1:])[
                :, :length]

        bands, centroid = patches(self.bands), patches(self.centroid)
        onset = patches(self.onset, PATCH_FRAMES - 1)
        return np.concatenate([
            bands.mean(axis=1), bands.std(axis=1),
            patches(self.flux, PATCH_FRAMES - 1).mean(axis=1), patches(self.mfcc).std(axis=1),
            np.stack([onset.mean(axis=1), onset.std(axis=1), onset.max(axis=1),
                      bands.mean(axis=2).std(axis=1)], axis=1),
            _pulse_rows(onset) if pulse else np.zeros((n, len(_TEMPO_LAGS_S))),
            np.stack([centroid.mean(axis=1), centroid.std(axis=1),
                      patches(self.rolloff).mean(axis=1), patches(self.flatness).mean(axis=1)],
                     axis=1),
        ], axis=1)

    def describe(self, start: int, stop: int, *, pulse: bool = True) -> np.ndarray:
        """The descriptors (without the tonal ones) of frames [start, stop)."""
        bands = self.bands[start:stop]
        if stop - start > 1:
            flux = self.flux[start : stop - 1].mean(axis=0)
            onset = self.onset[start : stop - 1]
        else:
            flux, onset = bands[0] * 0, np.zeros(1)
        centroid = self.centroid[start:stop]
        return np.concatenate([
            bands.mean(axis=0), bands.std(axis=0), flux, self.mfcc[start:stop].std(axis=0),
            [onset.mean(), onset.std(), onset.max(), bands.mean(axis=1).std()],
            _pulse(onset) if pulse else np.zeros(len(_TEMPO_LAGS_S)),
            [centroid.mean(), centroid.std(), self.rolloff[start:stop].mean(),
             self.flatness[start:stop].mean()],
        ])


def _band_means(mel_db: np.ndarray) -> np.ndarray:
    """(T, 96) -> (T, 32): the mean of each run of three mel bands (the same float32 values as
    ``reshape(T, 32, 3).mean(axis=2)``, without its slow strided reduction)."""
    width = mel_db.shape[1] // _N_BANDS
    total = mel_db[:, 0::width].copy()
    for offset in range(1, width):
        total += mel_db[:, offset::width]
    return total / np.float32(width)


def _pulse(onset: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of the onset envelope at :data:`_TEMPO_LAGS_S`."""
    frame_rate = PATCH_SAMPLE_RATE / PATCH_HOP
    centred = onset - onset.mean()
    energy = float(centred @ centred)
    out = np.zeros(len(_TEMPO_LAGS_S))
    if energy <= 0.0:
        return out
    for i, lag_s in enumerate(_TEMPO_LAGS_S):
        lag = round(lag_s * frame_rate)
        if lag < centred.size:
            out[i] = float(centred[:-lag] @ centred[lag:]) / energy
    return out


def _pulse_rows(onset: np.ndarray) -> np.ndarray:
    """:func:`_pulse` of each row of ``onset`` (n, frames) at once."""
    frame_rate = PATCH_SAMPLE_RATE / PATCH_HOP
    centred = onset - onset.mean(axis=1, keepdims=True)
    energy = np.einsum("ij,ij->i", centred, centred)
    out = np.zeros((len(onset), len(_TEMPO_LAGS_S)))
    for i, lag_s in enumerate(_TEMPO_LAGS_S):
        lag = round(lag_s * frame_rate)
        if lag < centred.shape[1]:
            out[:, i] = np.einsum("ij,ij->i", centred[:, :-lag], centred[:, lag:])
    silent = energy <= 0.0
    out[~silent] /= energy[~silent, None]
    out[silent] = 0.0
    return out


def _spectral_shape(power: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame: spectral centroid and 85 % roll-off (kHz) and flatness."""
    freqs = np.fft.rfftfreq(_N_FFT, d=1.0 / PATCH_SAMPLE_RATE) / 1000.0  # kHz
    magnitude = np.sqrt(power)
    total = np.maximum(magnitude.sum(axis=1), 1e-10)
    floored = np.maximum(power, 1e-10)
    return {
        "centroid": (magnitude @ freqs) / total,
        "rolloff": freqs[_rolloff_bins(magnitude, share=0.85)],
        "flatness": np.exp(np.log(floored).mean(axis=1)) / floored.mean(axis=1),
    }


def _rolloff_bins(magnitude: np.ndarray, *, share: float) -> np.ndarray:
    """(T, bins) -> (T,): the first bin whose cumulative magnitude reaches ``share`` of the
    frame's total. The running sums are the float32 values of ``np.cumsum(axis=1)``, added
    one bin at a time across all frames (numpy's own cumsum does not vectorise over frames);
    being non-decreasing, the first bin at the threshold is the count of bins below it."""
    columns = magnitude.T  # (bins, T)
    cumulative = np.empty_like(columns)
    cumulative[0] = columns[0]
    for k in range(1, columns.shape[0]):
        np.add(cumulative[k - 1], columns[k], out=cumulative[k])
    return (cumulative < share * cumulative[-1]).sum(axis=0)


def _tonal(chroma: np.ndarray) -> np.ndarray:
    profile = chroma.mean(axis=0)
    profile = profile / max(float(profile.sum()), 1e-10)
    major, minor = (_key_correlations(profile, keys) for keys in _key_profiles())
    relative = np.roll(profile, -int(np.argmax(major)))
    best_major, best_minor = float(major.max()), float(minor.max())
    return np.concatenate([relative, [best_major, best_minor, best_major - best_minor]])


def _key_correlations(profile: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Pearson correlation of a chroma profile with each row of centred, unit-norm ``keys``."""
    centred = profile - profile.mean()
    norm = float(np.sqrt(centred @ centred))
    return keys @ centred / norm if norm > 0 else np.zeros(len(keys))


@functools.lru_cache(maxsize=1)
def _key_profiles() -> tuple[np.ndarray, np.ndarray]:
    """The 12 rotations of the major and the minor profile, centred and unit-norm."""
    out = []
    for profile in (_MAJOR, _MINOR):
        keys = np.stack([np.roll(profile, k) for k in range(12)])
        keys = keys - keys.mean(axis=1, keepdims=True)
        out.append(keys / np.linalg.norm(keys, axis=1, keepdims=True))
    return out[0], out[1]


def _power(y: np.ndarray, *, n_fft: int, hop: int, bins: slice = slice(None)) -> np.ndarray:
    """(frames, bins) float32 power of the Hann-windowed STFT, only the ``bins`` asked for."""
    frames = frame_signal(y, frame_length=n_fft, hop_length=hop)
    spectrum = rfft(frames * _hann(n_fft), axis=1)[:, bins]
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32, copy=False)


def _db(x: np.ndarray) -> np.ndarray:
    """float32 dB of power, floored at :data:`_DB_FLOOR` (a new array).

    ``10 log10`` is taken as ``ln`` times ``10 / ln 10``: numpy's float32 ``log`` is
    vectorised where its ``log10`` is not (1.0 ms against 2.9 ms for a 30 s clip's mel on an
    AVX2 machine); the two differ by at most 1.5e-5 dB (4e-7 relative).
    """
    out = np.maximum(np.asarray(x, dtype=np.float32), np.finfo(np.float32).tiny)
    np.log(out, out=out)
    out *= _DB_PER_LN
    return np.maximum(out, np.float32(_DB_FLOOR), out=out)


def _mel(power: np.ndarray) -> np.ndarray:
    """(T, 257) -> (T, 96) mel power: the filterbank's product taken per group of bands over
    the bins where the group is non-zero (a third of the dense product's cost)."""
    out = np.empty((power.shape[0], _N_MELS), dtype=np.float32)
    for first, last, bins, weights in _mel_groups():
        out[:, first:last] = power[:, bins] @ weights
    return out


def _chroma(y: np.ndarray) -> np.ndarray:
    if y.size < _CHROMA_N_FFT:
        y = np.pad(y, (0, _CHROMA_N_FFT - y.size))
    bins, weights = _chroma_weights()
    return _power(y, n_fft=_CHROMA_N_FFT, hop=_CHROMA_HOP, bins=bins) @ weights  # (T_c, 12)


@functools.lru_cache(maxsize=4)
def _hann(n_fft: int) -> np.ndarray:
    n = np.arange(n_fft)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    return np.ascontiguousarray(mel_filterbank(
        sample_rate=PATCH_SAMPLE_RATE, n_fft=_N_FFT, n_mels=_N_MELS, fmin=0.0,
        fmax=PATCH_SAMPLE_RATE / 2.0,
    ))


_MEL_GROUP = 8


@functools.lru_cache(maxsize=1)
def _mel_groups() -> list[tuple[int, int, slice, np.ndarray]]:
    """Per run of :data:`_MEL_GROUP` bands: first and last band, and the bins where any of
    them is non-zero with those weights (:func:`_nonzero_bins`)."""
    basis = _mel_basis()
    return [(first, min(first + _MEL_GROUP, _N_MELS),
             *_nonzero_bins(basis[first : first + _MEL_GROUP]))
            for first in range(0, _N_MELS, _MEL_GROUP)]


@functools.lru_cache(maxsize=1)
def _chroma_weights() -> tuple[slice, np.ndarray]:
    """:func:`_nonzero_bins` of the chroma basis."""
    return _nonzero_bins(_chroma_basis())


def _nonzero_bins(basis: np.ndarray) -> tuple[slice, np.ndarray]:
    """The range of bins where any row of ``basis`` (rows, bins) is non-zero, and the basis
    there as a contiguous (bins, rows) matrix to multiply spectra by."""
    nonzero = np.flatnonzero(basis.any(axis=0))
    bins = slice(int(nonzero[0]), int(nonzero[-1]) + 1)
    return bins, np.ascontiguousarray(basis[:, bins].T)


@functools.lru_cache(maxsize=1)
def _chroma_basis() -> np.ndarray:
    """(12, bins) 0/1 matrix: each FFT bin in range to its pitch class (C = 0)."""
    freqs = np.fft.rfftfreq(_CHROMA_N_FFT, d=1.0 / PATCH_SAMPLE_RATE)
    basis = np.zeros((12, freqs.size), dtype=np.float32)
    low, high = _CHROMA_RANGE_HZ
    for k, f in enumerate(freqs):
        if low <= f <= high:
            pitch = round(12.0 * np.log2(f / 440.0) + 69.0)
            basis[pitch % 12, k] = 1.0
    return basis
