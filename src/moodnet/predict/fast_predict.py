"""Predictions of the default (fast) model: whole tracks and segments from patch logits.

The model scores every 3 s patch (:class:`moodnet.models.fast_model.FastModel`); the track's
answer comes from the mean logit of all its patches, a segment's from the mean logit of the
patches it overlaps, weighted by the overlap in seconds. No torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodnet.audio.io import load_audio
from moodnet.audio.patch_descriptors import PATCH_SAMPLE_RATE
from moodnet.core import quadrant_of
from moodnet.models.fast_head import quadrant_probabilities, va_from_logits
from moodnet.models.fast_model import FastModel, PatchLogits
from moodnet.predict.moods import nearest_mood_words
from moodnet.predict.results import Prediction, Segment

MIN_LAST_SEGMENT_S = 1.0


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded track as the default model reads it.

    Attributes
    ----------
    path : the audio file, as given
    samples : np.ndarray [shape=(n,)], float32, mono at :data:`PATCH_SAMPLE_RATE` Hz
    """

    path: str
    samples: np.ndarray


def decode_fast(audio_path: str | Path, *, max_duration: float) -> DecodedAudio:
    """Decode the first ``max_duration`` seconds of a track to 16 kHz mono (no model)."""
    y = load_audio(audio_path, sr=PATCH_SAMPLE_RATE, mono=True, duration=max_duration)
    return DecodedAudio(str(audio_path), y)


def predict_fast_decoded(
    model: FastModel, decoded: DecodedAudio, *, segments: float | None,
    lyrics_offset: np.ndarray | None = None, lyrics_note: str = "",
) -> Prediction:
    """Predict a decoded track (see :meth:`moodnet.Predictor.predict`)."""
    return prediction_from_logits(model, decoded.path, model.patch_logits(decoded.samples),
                                  segments, lyrics_offset=lyrics_offset, lyrics_note=lyrics_note)


def predict_fast(
    model: FastModel, audio_path: str | Path, *, segments: float | None, max_duration: float,
    lyrics_offset: np.ndarray | None = None, lyrics_note: str = "",
) -> Prediction:
    """Decode a track and predict it (see :meth:`moodnet.Predictor.predict`)."""
    return predict_fast_decoded(model, decode_fast(audio_path, max_duration=max_duration),
                                segments=segments, lyrics_offset=lyrics_offset,
                                lyrics_note=lyrics_note)


def prediction_from_logits(
    model: FastModel, path: str, patches: PatchLogits, segments: float | None, *,
    lyrics_offset: np.ndarray | None = None, lyrics_note: str = "",
) -> Prediction:
    """The whole-track prediction (and segments) from per-patch logits; the lyrics' offset
    (:meth:`FastModel.lyrics_offset`), when given, shifts every patch alike."""
    if lyrics_offset is not None:
        patches = PatchLogits(patches.logits + lyrics_offset, patches.bounds_s,
                              patches.analysed_s)
    weights = patches.bounds_s[:, 1] - patches.bounds_s[:, 0]
    track = _weighted_mean(patches.logits, weights)
    spans = segment_spans(patches.analysed_s, segments) if segments is not None else []
    segment_list = []
    for start, end in spans:
        overlap = np.clip(
            np.minimum(patches.bounds_s[:, 1], end) - np.maximum(patches.bounds_s[:, 0], start),
            0.0, None,
        )
        if overlap.sum() <= 0:  # a stretch inside one patch's rounding gap
            overlap = weights * (patches.bounds_s[:, 0] <= start)
        va = va_from_logits(_weighted_mean(patches.logits, overlap), model.head.scale)
        segment_list.append(Segment(start, end, float(va[0]), float(va[1])))
    valence, arousal = (float(v) for v in va_from_logits(track, model.head.scale))
    return Prediction(
        path=path,
        valence=valence,
        arousal=arousal,
        quadrant=quadrant_of(valence, arousal),
        class_probs=quadrant_probabilities(track),
        mood_words=tuple(nearest_mood_words(valence, arousal, k=3,
                                            placements=model.meta.get("mood_words"))),
        used_lyrics=lyrics_offset is not None,
        lyrics_note=lyrics_note,
        segments=tuple(segment_list),
        model_id=model.model_id,
        analysed_s=round(patches.analysed_s, 3),
    )


def _weighted_mean(logits: np.ndarray, weights: np.ndarray) -> np.ndarray:
    total = float(weights.sum())
    if total <= 0:
        return logits.mean(axis=0)
    return (logits * weights[:, None]).sum(axis=0) / total


def segment_spans(duration_s: float, segment_s: float) -> list[tuple[float, float]]:
    """(start, end) seconds of consecutive ``segment_s`` stretches covering the track; a last
    stretch shorter than a second joins the one before it."""
    count = max(1, math.ceil(duration_s / segment_s - 1e-6))
    if count > 1 and duration_s - (count - 1) * segment_s < MIN_LAST_SEGMENT_S:
        count -= 1
    ends = [min((k + 1) * segment_s, duration_s) for k in range(count - 1)] + [duration_s]
    return [(round(float(k * segment_s), 3), round(float(end), 3)) for k, end in enumerate(ends)]
