"""Augmented copies of musicnn log-mels, for distilling the student on more varied input.

An augmented copy (:func:`augment_log_mel`) stretches time, shifts the mel bands and applies
an equaliser to the mel power, then restores the mean power (the analysis works on
level-normalised audio). The teacher is run again on the copy, so its targets describe the
augmented input (``bench/teacher_cache.py --augment K``).
"""

from __future__ import annotations

import zlib

import numpy as np

from moodnet.errors import ParameterError

STRETCH_RANGE = (0.9, 1.1)
"""Frames of the copy per frame of the original (uniform)."""
BAND_SHIFT_RANGE = (-2.0, 2.0)
"""Shift of the mel bands, in bands (uniform, linear interpolation, edges repeated)."""
EQ_DB = 6.0
"""Largest tilt across the bands and largest gain of one bell (8 bands wide), in dB."""


def augmentation_rng(name: str, copy: int) -> np.random.Generator:
    """The generator of copy ``copy`` (1, 2, ...) of the cache file ``name``: the same draws
    on every machine and run."""
    if copy < 1:
        raise ParameterError(f"copy numbers start at 1, got {copy}")
    return np.random.default_rng(zlib.crc32(name.encode()) + 2**32 * (copy - 1))


def augment_log_mel(mel: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """One augmented copy of a musicnn log-mel (``log10(1 + 10000 power)``).

    Parameters
    ----------
    mel : np.ndarray [shape=(n_frames, n_mels)], n_frames >= 2
    rng : the draws of the stretch, the shift and the equaliser

    Returns
    -------
    copy : np.ndarray [shape=(about n_frames / stretch, n_mels)], float32, the same mean
        mel power as ``mel``
    """
    mel = np.asarray(mel, dtype=np.float64)
    if mel.ndim != 2 or mel.shape[0] < 2:
        raise ParameterError(f"expected a (n_frames >= 2, n_mels) log-mel, got {mel.shape}")
    power = (np.power(10.0, mel) - 1.0) / 1e4
    total = power.mean()
    power = _interpolate(power, np.arange(0, power.shape[0] - 1, rng.uniform(*STRETCH_RANGE)),
                         axis=0)
    n_mels = power.shape[1]
    bands = np.clip(np.arange(n_mels) - rng.uniform(*BAND_SHIFT_RANGE), 0, n_mels - 1)
    power = _interpolate(power, bands, axis=1)
    tilt = rng.uniform(-EQ_DB, EQ_DB)
    centre = rng.uniform(0, n_mels)
    bell = rng.uniform(-EQ_DB, EQ_DB)
    gain_db = (np.linspace(-tilt / 2, tilt / 2, n_mels)
               + bell * np.exp(-0.5 * ((np.arange(n_mels) - centre) / 8) ** 2))
    power = power * 10 ** (gain_db / 10)
    power *= total / max(power.mean(), 1e-20)
    return np.log10(1.0 + 1e4 * power).astype(np.float32)


def _interpolate(values: np.ndarray, positions: np.ndarray, *, axis: int) -> np.ndarray:
    """Linear interpolation of ``values`` at fractional ``positions`` along ``axis``."""
    last = values.shape[axis] - 1
    index = positions.astype(int)
    weight = positions - index
    lower = np.take(values, index, axis=axis)
    upper = np.take(values, np.minimum(index + 1, last), axis=axis)
    weight = weight[:, None] if axis == 0 else weight[None, :]
    return lower * (1 - weight) + upper * weight
