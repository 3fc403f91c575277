"""Augmented copies of musicnn log-mels, for distilling the student on more varied input.

An augmented copy (:func:`augment_log_mel`) stretches time, shifts the mel bands and applies
an equaliser to the mel power, then restores the mean power (the analysis works on
level-normalised audio). The teacher is run again on the copy, so its targets describe the
augmented input (``bench/teacher_cache.py --augment K``).

A mixed copy (:func:`mix_log_mels`) adds a share of another track's mel power to a track's,
the input mixing that Beyer et al. (2022, "Knowledge distillation: A good teacher is patient
and consistent") found to help a student match its teacher's function when data are few;
the teacher labels the mix (``bench/teacher_cache.py --mix K``).
"""

from __future__ import annotations

import zlib

import numpy as np

from moodnet.audio.musicnn_frontend import MUSICNN_LOG_GAIN
from moodnet.errors import ParameterError

STRETCH_RANGE = (0.9, 1.1)
"""Frames of the copy per frame of the original (uniform)."""
BAND_SHIFT_RANGE = (-2.0, 2.0)
"""Shift of the mel bands, in bands (uniform, linear interpolation, edges repeated)."""
EQ_DB = 6.0
"""Largest tilt across the bands and largest gain of one bell (8 bands wide), in dB."""
PARTNER_SHARE_RANGE = (0.0, 0.5)
"""Share of the mixed copy's mel power that comes from the partner track (uniform)."""


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
    power = _power(mel)
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
    return _compress(power)


def mix_log_mels(mel: np.ndarray, partner: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """A track's musicnn log-mel with a share of another's mel power mixed in.

    Parameters
    ----------
    mel : np.ndarray [shape=(n_frames, n_mels)], the track (``log10(1 + 10000 power)``)
    partner : np.ndarray [shape=(m_frames, n_mels)], the other track; a random stretch of
        ``n_frames`` of it is used (tiled when shorter)
    rng : the draws of the partner's share (:data:`PARTNER_SHARE_RANGE`) and offset

    Returns
    -------
    copy : np.ndarray [shape=(n_frames, n_mels)], float32, the same mean mel power as ``mel``
    """
    mel = np.asarray(mel, dtype=np.float64)
    partner = np.asarray(partner, dtype=np.float64)
    if mel.ndim != 2 or partner.ndim != 2 or mel.shape[1] != partner.shape[1] or not (
            mel.size and partner.size):
        raise ParameterError(f"expected two (n_frames, n_mels) log-mels with the same bands, "
                             f"got {mel.shape} and {partner.shape}")
    n = mel.shape[0]
    start = int(rng.integers(0, partner.shape[0]))
    rows = (start + np.arange(n)) % partner.shape[0]
    power, other = _power(mel), _power(partner[rows])
    share = rng.uniform(*PARTNER_SHARE_RANGE)
    level = max(power.mean(), 1e-20)
    mixed = (1 - share) * power + share * other * (level / max(other.mean(), 1e-20))
    mixed *= level / max(mixed.mean(), 1e-20)
    return _compress(mixed)


def _power(log_mel: np.ndarray) -> np.ndarray:
    """Mel power of a musicnn log-mel (the inverse of :func:`_compress`)."""
    return (np.power(10.0, log_mel) - 1.0) / MUSICNN_LOG_GAIN


def _compress(power: np.ndarray) -> np.ndarray:
    """musicnn's ``log10(1 + 10000 power)`` as float32, without the float16 rounding of the
    power that :func:`moodnet.audio.musicnn_frontend.musicnn_log_compress` applies to audio."""
    return np.log10(1.0 + MUSICNN_LOG_GAIN * power).astype(np.float32)


def _interpolate(values: np.ndarray, positions: np.ndarray, *, axis: int) -> np.ndarray:
    """Linear interpolation of ``values`` at fractional ``positions`` along ``axis``."""
    last = values.shape[axis] - 1
    index = positions.astype(int)
    weight = positions - index
    lower = np.take(values, index, axis=axis)
    upper = np.take(values, np.minimum(index + 1, last), axis=axis)
    weight = weight[:, None] if axis == 0 else weight[None, :]
    return lower * (1 - weight) + upper * weight
