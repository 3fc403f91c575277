"""Classical audio descriptors for the SVM baseline (numpy/scipy only).

One fixed-length vector per clip: mean and standard deviation over frames of 20 MFCCs,
spectral centroid, bandwidth, roll-off (85 %), flux, flatness, RMS and zero-crossing rate,
plus onset-strength statistics and a tempo estimate. Frame-level definitions follow librosa's
(``n_fft=2048``, ``hop_length=512``, centred frames; MFCCs from a 128-band Slaney mel power
spectrogram in dB, top 80 dB, orthonormal DCT-II), so librosa can check them in tests.
"""

from __future__ import annotations

import numpy as np

from moodnet.audio.features import (
    frame_signal,
    mel_filterbank,
    power_spectrogram,
)
from moodnet.errors import ParameterError

# bump when a definition below changes (part of the descriptor cache key)
DESCRIPTOR_VERSION = 1

_FRAME_FEATURES = ("centroid", "bandwidth", "rolloff", "flux", "flatness", "rms", "zcr")
_RHYTHM_FEATURES = ("onset_mean", "onset_std", "onset_max", "tempo_bpm", "tempo_strength")
_TEMPO_RANGE_BPM = (40.0, 240.0)


def descriptor_names(*, n_mfcc: int = 20) -> list[str]:
    """Names of the entries of :func:`descriptors`' vector, in order."""
    names = [f"mfcc{i}_{stat}" for i in range(n_mfcc) for stat in ("mean", "std")]
    names += [f"{name}_{stat}" for name in _FRAME_FEATURES for stat in ("mean", "std")]
    return names + list(_RHYTHM_FEATURES)


def descriptors(
    y: np.ndarray,
    *,
    sr: int = 22050,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mfcc: int = 20,
    n_mels: int = 128,
) -> np.ndarray:
    """Summary descriptors of one clip.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], mono audio at ``sr`` Hz
    sr : sample rate in Hz
    n_fft, hop_length : STFT frame and hop in samples
    n_mfcc : number of MFCCs (<= ``n_mels``)
    n_mels : mel bands under the MFCCs and the onset strength

    Returns
    -------
    vector : np.ndarray [shape=(len(descriptor_names(n_mfcc=n_mfcc)),)], float32; frequencies
        in Hz, RMS in full-scale units, ZCR in crossings per sample, tempo in BPM
    """
    import scipy.fft
    import scipy.sparse

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise ParameterError(f"expected a non-empty 1-D signal, got shape {y.shape}")
    if not 0 < n_mfcc <= n_mels:
        raise ParameterError(f"n_mfcc={n_mfcc} must be in 1..n_mels={n_mels}")
    power = power_spectrogram(y, n_fft=n_fft, hop_length=hop_length, power=2.0)
    magnitude = np.sqrt(power)
    basis = scipy.sparse.csr_array(
        mel_filterbank(sample_rate=sr, n_fft=n_fft, n_mels=n_mels, fmin=0.0, fmax=sr / 2.0)
    )
    mel_db = _power_to_db((basis @ power.T).T)  # (T, n_mels)
    mfcc = scipy.fft.dct(mel_db, type=2, norm="ortho", axis=1)[:, :n_mfcc]
    freqs = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    frame_features = [
        *_centroid_bandwidth(magnitude, freqs),
        _rolloff(magnitude, freqs),
        _flux(magnitude),
        _flatness(power),
        _rms(power, n_fft),
        _zcr(y, n_fft=n_fft, hop_length=hop_length),
    ]
    onset = _onset_strength(mel_db)
    parts = [np.stack([mfcc.mean(axis=0), mfcc.std(axis=0)], axis=1).ravel()]
    parts.append(np.array([f(x) for x in frame_features for f in (np.mean, np.std)]))
    parts.append(np.array([onset.mean(), onset.std(), onset.max(), *_tempo(onset, sr, hop_length)]))
    return np.concatenate(parts).astype(np.float32)


def _power_to_db(power: np.ndarray, *, top_db: float = 80.0) -> np.ndarray:
    db = 10.0 * np.log10(np.maximum(power, 1e-10))
    return np.maximum(db, db.max() - top_db)


def _centroid_bandwidth(magnitude: np.ndarray, freqs: np.ndarray) -> tuple[np.ndarray, ...]:
    powers = np.stack([np.ones_like(freqs), freqs, freqs * freqs], axis=1).astype(np.float32)
    moments = np.einsum("tf,fk->tk", magnitude, powers).astype(np.float64)  # no BLAS threads
    total = np.where(moments[:, 0] > 0, moments[:, 0], 1.0)
    centroid = moments[:, 1] / total
    variance = np.maximum(moments[:, 2] / total - centroid * centroid, 0.0)
    return centroid, np.sqrt(variance)


def _rolloff(magnitude: np.ndarray, freqs: np.ndarray, *, fraction: float = 0.85) -> np.ndarray:
    cumulative = np.cumsum(magnitude, axis=1)
    threshold = fraction * cumulative[:, -1:]
    index = np.argmax(cumulative >= threshold, axis=1)
    return freqs[index]


def _flux(magnitude: np.ndarray) -> np.ndarray:
    """L2 norm of the positive change of the sum-normalised magnitude spectrum (first = 0)."""
    total = magnitude.sum(axis=1, keepdims=True)
    normalised = magnitude / np.where(total > 0, total, 1.0)
    rise = np.maximum(np.diff(normalised, axis=0, prepend=normalised[:1]), 0.0)
    return np.sqrt((rise * rise).sum(axis=1))


def _flatness(power: np.ndarray, *, amin: float = 1e-10) -> np.ndarray:
    floored = np.maximum(power, amin)
    return np.exp(np.log(floored).mean(axis=1)) / floored.mean(axis=1)


def _rms(power: np.ndarray, n_fft: int) -> np.ndarray:
    """Frame RMS from the (Hann-windowed) spectrum, Parseval's way (librosa ``rms(S=...)``)."""
    energy = 2.0 * power.sum(axis=1) - power[:, 0]
    if n_fft % 2 == 0:
        energy -= power[:, -1]
    return np.sqrt(energy / n_fft**2)


def _zcr(y: np.ndarray, *, n_fft: int, hop_length: int) -> np.ndarray:
    frames = frame_signal(y, frame_length=n_fft, hop_length=hop_length)
    signs = np.signbit(frames)
    return (signs[:, 1:] != signs[:, :-1]).sum(axis=1) / n_fft


def _onset_strength(mel_db: np.ndarray) -> np.ndarray:
    """Mean over bands of the positive first difference of the dB mel spectrogram."""
    rise = np.maximum(np.diff(mel_db, axis=0), 0.0)
    return rise.mean(axis=1) if rise.size else np.zeros(1)


def _tempo(onset: np.ndarray, sr: int, hop_length: int) -> tuple[float, float]:
    """Tempo in BPM and its strength from the onset autocorrelation.

    The lag maximising the autocorrelation (its largest value within one lag either side, for
    periods between frames) weighted by a log-normal prior centred at 120 BPM with a
    one-octave spread (as librosa's ``tempo``) in 40-240 BPM. Strength is the normalised
    autocorrelation at that lag (0..1); (0, 0) when the clip is too short.
    """
    import scipy.fft

    frame_rate = sr / hop_length
    low_lag = max(int(np.floor(60.0 * frame_rate / _TEMPO_RANGE_BPM[1])), 2)
    high_lag = int(np.ceil(60.0 * frame_rate / _TEMPO_RANGE_BPM[0]))
    centred = onset - onset.mean()
    if centred.size <= high_lag + 2:
        return 0.0, 0.0
    size = scipy.fft.next_fast_len(2 * centred.size)
    spectrum = scipy.fft.rfft(centred, n=size)
    acf = scipy.fft.irfft(spectrum * np.conj(spectrum), n=size)[: centred.size]
    if acf[0] <= 0:
        return 0.0, 0.0
    lags = np.arange(low_lag, high_lag + 1)
    local = np.maximum(np.maximum(acf[lags - 1], acf[lags]), acf[lags + 1])
    bpm = 60.0 * frame_rate / lags
    prior = np.exp(-0.5 * np.log2(bpm / 120.0) ** 2)
    best = int(np.argmax(local * prior))
    return float(bpm[best]), float(max(local[best], 0.0) / acf[0])
