"""Whole-track log-mels and the windows a torch checkpoint reads them in.

A torch checkpoint was trained on clips of a fixed length: a track is decoded (at most
:data:`MAX_DURATION_S` seconds), turned into one log-mel spectrogram and tiled with windows as
long as those clips; a segment is read through the windows that cover it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodnet.predict.fast_predict import segment_spans

MAX_DURATION_S = 600.0
"""Only the first 10 minutes of a track are decoded."""


_LAST_WINDOW_MIN_SHARE = 0.25


@dataclass(frozen=True)
class TrackFeatures:
    """The log-mel spectrogram of a whole (bounded) track; made without torch.

    Attributes
    ----------
    path : the audio file, as given
    mel : np.ndarray [shape=(n_mels, n_frames)], float32, as the checkpoint's features
    duration_s : seconds decoded
    """

    path: str
    mel: np.ndarray
    duration_s: float


def track_features(
    audio_path: str | Path, *, feature_config: Any, max_duration: float = MAX_DURATION_S,
) -> TrackFeatures:
    """Decode a track (its first ``max_duration`` seconds) and compute its log-mel.

    Parameters
    ----------
    audio_path : an audio file
    feature_config : :class:`moodnet.audio.FeatureConfig` of the checkpoint
    max_duration : seconds decoded at most

    Returns
    -------
    features : TrackFeatures with ``mel`` [shape=(n_mels, n_frames)], float32

    Raises
    ------
    AudioError
        As :func:`moodnet.audio.load_audio`.
    """
    from moodnet.audio import load_audio, log_mel

    rate = feature_config.sample_rate
    y = load_audio(audio_path, sr=rate, mono=True, duration=max_duration)
    mel = log_mel(y, config=feature_config)
    return TrackFeatures(str(audio_path), np.asarray(mel, dtype=np.float32), len(y) / rate)


def _window(mel: np.ndarray, start: int, length: int, *, pad_value: float) -> np.ndarray:
    piece = mel[:, start : start + length]
    if piece.shape[1] < length:
        pad = np.full((mel.shape[0], length - piece.shape[1]), pad_value, dtype=mel.dtype)
        piece = np.concatenate([piece, pad], axis=1)
    return piece


def _tile_windows(a: int, b: int, length: int, n_frames: int) -> list[int]:
    """Starts of windows tiling frames [a, b): back to back, plus one ending at ``b`` when
    the rest is at least a quarter window; a stretch shorter than a window gets one."""
    if b - a <= length:
        return [max(0, min(a, n_frames - length))]
    starts = list(range(a, b - length + 1, length))
    rest = b - (starts[-1] + length)
    if rest >= _LAST_WINDOW_MIN_SHARE * length:
        starts.append(b - length)
    return starts


def _window_plans(
    features: TrackFeatures, *, window_frames: int, frames_per_s: float, segments: float | None,
) -> tuple[list[int], list[tuple[float, float]], list[list[int]]]:
    """Window starts (frames) for the whole track; segment spans (s) and their windows."""
    n_frames = features.mel.shape[1]
    whole = _tile_windows(0, n_frames, window_frames, n_frames)
    spans = segment_spans(features.duration_s, segments) if segments is not None else []
    plans = []
    for a_s, b_s in spans:
        a = min(round(a_s * frames_per_s), n_frames - 1)
        b = min(max(round(b_s * frames_per_s), a + 1), n_frames)
        plans.append(_segment_windows(a, b, window_frames, n_frames))
    return whole, spans, plans


def _segment_windows(a: int, b: int, length: int, n_frames: int) -> list[int]:
    """Windows for the stretch [a, b): tiled when it is longer than a window, else one
    window centred on it (kept inside the track)."""
    if b - a >= length:
        return _tile_windows(a, b, length, n_frames)
    centre = (a + b) // 2
    return [max(0, min(centre - length // 2, n_frames - length))]
