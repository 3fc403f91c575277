"""moodnet: music mood (valence/arousal) from audio and lyrics.

Heavy parts (torch, the model) are imported lazily: ``import moodnet`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moodnet.errors import (
    AudioError,
    CheckpointError,
    ConfigError,
    DataError,
    FileProblem,
    LyricsError,
    MoodnetError,
    ParameterError,
)
from moodnet.version import __version__

__all__ = [
    "AudioError",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "FileProblem",
    "LyricsError",
    "MoodnetError",
    "ParameterError",
    "Prediction",
    "Predictor",
    "__version__",
]

if TYPE_CHECKING:
    from moodnet.predict import Prediction, Predictor


def __getattr__(name: str) -> Any:
    if name in ("Predictor", "Prediction"):
        from moodnet import predict

        return getattr(predict, name)
    raise AttributeError(f"module 'moodnet' has no attribute {name!r}")
