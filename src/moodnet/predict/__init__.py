"""Mood of audio files (and their lyrics) with a trained model: the Python API.

>>> from moodnet.predict import Predictor
>>> predictor = Predictor.load()            # the model shipped with moodnet
>>> prediction = predictor.predict("song.mp3", lyrics=Path("song.txt"))
>>> prediction.valence, prediction.arousal, prediction.quadrant, prediction.mood_words

Valence and arousal are on the [-1, 1] scale (0 = neutral); see ``docs/DESIGN.md``.
"""

from moodnet.core import AUDIO_EXTENSIONS, quadrant_of
from moodnet.predict.models import MODELS
from moodnet.predict.moods import mood_words, nearest_mood_words
from moodnet.predict.predictor import Predictor
from moodnet.predict.results import Prediction, PredictionFailure, Segment

__all__ = [
    "AUDIO_EXTENSIONS",
    "MODELS",
    "Prediction",
    "PredictionFailure",
    "Predictor",
    "Segment",
    "mood_words",
    "nearest_mood_words",
    "quadrant_of",
]
