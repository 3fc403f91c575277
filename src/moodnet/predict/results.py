"""What a prediction returns: :class:`Prediction`, its :class:`Segment` s, and failures.

Valence and arousal are on the [-1, 1] scale of ``docs/DESIGN.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from moodnet.errors import AudioError, LyricsError, MoodnetError


class Segment(NamedTuple):
    """Valence/arousal of one stretch of a track, seconds from its start."""

    start_s: float
    end_s: float
    valence: float
    arousal: float


@dataclass(frozen=True)
class Prediction:
    """The mood of one track.

    Attributes
    ----------
    path : the audio file, as given
    valence, arousal : float in [-1, 1] (DESIGN.md scale), averaged over the track's windows
    quadrant : "Q1".."Q4" from the signs of valence and arousal
    class_probs : class name -> probability (empty when the model has no class head)
    mood_words : the 3 mood words of Russell (1980) nearest to (valence, arousal)
    used_lyrics : whether lyrics were given, non-empty, and read by the model
    segments : per-stretch (start_s, end_s, valence, arousal) when asked for, else empty
    model_id : the id of the model that made the prediction (its checkpoint's ``model_id``)
    analysed_s : seconds of audio analysed, from the start of the track (0 when unknown)
    lyrics_note : why given lyrics were not used (empty when they were, or none were given)
    """

    path: str
    valence: float
    arousal: float
    quadrant: str
    class_probs: dict[str, float] = field(default_factory=dict)
    mood_words: tuple[str, ...] = ()
    used_lyrics: bool = False
    segments: tuple[Segment, ...] = ()
    model_id: str = ""
    analysed_s: float = 0.0
    lyrics_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data: segments become a list of objects."""
        return {
            "path": self.path,
            "valence": self.valence,
            "arousal": self.arousal,
            "quadrant": self.quadrant,
            "class_probs": dict(self.class_probs),
            "mood_words": list(self.mood_words),
            "used_lyrics": self.used_lyrics,
            "segments": [segment._asdict() for segment in self.segments],
            "model_id": self.model_id,
            "analysed_s": self.analysed_s,
            "lyrics_note": self.lyrics_note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prediction:
        """Inverse of :meth:`to_dict` (also reads segments given as a JSON string)."""
        segments = data.get("segments") or []
        if isinstance(segments, str):
            segments = json.loads(segments)
        return cls(
            path=str(data["path"]),
            valence=float(data["valence"]),
            arousal=float(data["arousal"]),
            quadrant=str(data["quadrant"]),
            class_probs={str(k): float(v) for k, v in (data.get("class_probs") or {}).items()},
            mood_words=tuple(data.get("mood_words") or ()),
            used_lyrics=bool(data.get("used_lyrics", False)),
            segments=tuple(
                Segment(*(float(s[k]) for k in Segment._fields)) if isinstance(s, Mapping)
                else Segment(*(float(v) for v in s))
                for s in segments
            ),
            model_id=str(data.get("model_id") or ""),
            analysed_s=float(data.get("analysed_s") or 0.0),
            lyrics_note=str(data.get("lyrics_note") or ""),
        )


@dataclass(frozen=True)
class PredictionFailure:
    """A track that could not be predicted: its path and the problem in words."""

    path: str
    error: str


def _problem(exc: BaseException) -> str:
    if isinstance(exc, AudioError | LyricsError):
        return exc.problem
    return str(exc) or type(exc).__name__


def failure_message(exc: Exception) -> str:
    """What a failed track's row says: the problem of a moodnet error (the file is named
    beside it), else the exception's type and text."""
    if isinstance(exc, MoodnetError):
        return _problem(exc)
    return f"{type(exc).__name__}: {exc}"
