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
from dataclasses import dataclass

from moodnet.errors import ParameterError

RADIUS = 0.8
"""Distance of every mood word from the neutral centre, on the [-1, 1] VA scale."""

# word -> approximate angle in degrees on Russell's (1980) circumplex, counter-clockwise from
# the positive valence axis.
RUSSELL_1980_ANGLES: dict[str, float] = {
    "happy": 8.0,
    "delighted": 25.0,
    "excited": 49.0,
    "astonished": 70.0,
    "aroused": 74.0,
    "tense": 93.0,
    "alarmed": 97.0,
    "angry": 99.0,
    "afraid": 116.0,
    "annoyed": 123.0,
    "distressed": 138.0,
    "frustrated": 141.0,
    "miserable": 189.0,
    "sad": 208.0,
    "gloomy": 209.0,
    "depressed": 211.0,
    "bored": 241.0,
    "droopy": 257.0,
    "tired": 268.0,
    "sleepy": 272.0,
    "calm": 316.0,
    "relaxed": 318.0,
    "satisfied": 320.0,
    "at ease": 321.0,
    "content": 323.0,
    "serene": 329.0,
    "glad": 345.0,
    "pleased": 353.0,
}


@dataclass(frozen=True)
class MoodWord:
    """One affect word placed on the VA plane ([-1, 1] per axis)."""

    word: str
    valence: float
    arousal: float


def mood_words() -> list[MoodWord]:
    """Russell's 28 affect words at their approximate places on the VA plane.

    Returns
    -------
    words : list of MoodWord, ordered by angle (counter-clockwise from "happy")
    """
    return [
        MoodWord(
            word=word,
            valence=round(RADIUS * math.cos(math.radians(angle)), 4),
            arousal=round(RADIUS * math.sin(math.radians(angle)), 4),
        )
        for word, angle in RUSSELL_1980_ANGLES.items()
    ]


def nearest_mood_words(valence: float, arousal: float, *, k: int = 3) -> list[str]:
    """The ``k`` mood words closest (Euclidean) to a point of the VA plane, nearest first.

    Parameters
    ----------
    valence, arousal : float, on the [-1, 1] scale
    k : number of words, 1..28

    Returns
    -------
    words : list of str, length ``k``
    """
    words = mood_words()
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
