"""Mood words on the valence/arousal plane, for "nearest mood words".

The 28 affect words are those of J. A. Russell, "A circumplex model of affect", Journal of
Personality and Social Psychology 39(6):1161-1178, 1980. Russell places them on a circle whose
horizontal axis is pleasure-displeasure (valence) and vertical axis arousal-sleepiness, with the
anchors pleasure 0°, excitement 45°, arousal 90°, distress 135°, displeasure 180°, depression
225°, sleepiness 270° and relaxation 315°. The angles below are **approximate**: read off the
paper's circular-scaling figure and rounded, not taken from any lexicon. Every word sits on one
circle of radius :data:`RADIUS`, so the nearest words to a point are the words closest to it in
angle; a point near the centre (neutral) still gets the words of its direction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from moodnet.core import RUSSELL_1980_ANGLES
from moodnet.errors import ParameterError

RADIUS = 0.8
"""Distance of every mood word from the neutral centre, on the [-1, 1] VA scale."""



@dataclass(frozen=True)
class MoodWord:
    """One affect word placed on the VA plane ([-1, 1] per axis)."""

    word: str
    valence: float
    arousal: float


def mood_words(placements: Mapping[str, Sequence[float]] | None = None) -> list[MoodWord]:
    """Russell's 28 affect words on the VA plane.

    Parameters
    ----------
    placements : word -> (valence, arousal) on the predictions' scale, as a checkpoint stores
        them (the default model: each word's Warriner/NRC-VAD coordinates through the same
        tag pipeline as the training targets); None: on Russell's circle of radius
        :data:`RADIUS`

    Returns
    -------
    words : list of MoodWord, ordered by angle (counter-clockwise from "happy")
    """
    if placements:
        return [MoodWord(word, round(float(placements[word][0]), 4),
                         round(float(placements[word][1]), 4))
                for word in RUSSELL_1980_ANGLES if word in placements]
    return [
        MoodWord(
            word=word,
            valence=round(RADIUS * math.cos(math.radians(angle)), 4),
            arousal=round(RADIUS * math.sin(math.radians(angle)), 4),
        )
        for word, angle in RUSSELL_1980_ANGLES.items()
    ]


def nearest_mood_words(
    valence: float, arousal: float, *, k: int = 3,
    placements: Mapping[str, Sequence[float]] | None = None,
) -> list[str]:
    """The ``k`` mood words closest (Euclidean) to a point of the VA plane, nearest first.

    Parameters
    ----------
    valence, arousal : float, on the [-1, 1] scale
    k : number of words, 1..28
    placements : as in :func:`mood_words`

    Returns
    -------
    words : list of str, length ``k``
    """
    words = mood_words(placements)
    if not 1 <= k <= len(words):
        raise ParameterError(f"k must be between 1 and {len(words)}, got {k}")
    if not (math.isfinite(valence) and math.isfinite(arousal)):
        raise ParameterError(f"valence/arousal must be finite, got ({valence}, {arousal})")
    ranked = sorted(words, key=lambda m: math.hypot(m.valence - valence, m.arousal - arousal))
    return [m.word for m in ranked[:k]]


def label_levels(*, min_gap_degrees: float = 5.0) -> dict[str, int]:
    """How far out to push each word's label so that close words do not overlap.

    Words closer than ``min_gap_degrees`` to the previous word (in angle order) get the next
    level (0, 1, 2, ...); a wider gap resets to 0. Drawing code places a label at radius
    ``RADIUS * (1 + 0.06) + level * step``.
    """
    levels: dict[str, int] = {}
    previous: float | None = None
    level = 0
    for word, angle in sorted(RUSSELL_1980_ANGLES.items(), key=lambda item: item[1]):
        level = level + 1 if previous is not None and angle - previous < min_gap_degrees else 0
        levels[word] = level
        previous = angle
    return levels
