"""Mood tags in the audio files themselves (``moodnet tag``, the beets plugin).

>>> from moodnet import Predictor
>>> from moodnet.tagging import tag_files
>>> for outcome in tag_files(Predictor.load(), ["song.mp3"], write=True):
...     print(outcome.path, outcome.status, outcome.values)

The keys (``MOOD``, ``VALENCE``, ``AROUSAL``, ``MOOD_QUADRANT``, ``MOODNET_MODEL``) and how each
container stores them are documented in ``docs/tags.md``. Writing never damages a file: a copy
in the same folder is tagged, read back, its audio stream compared bit for bit with the
original's, and only then swapped in with ``os.replace`` (:func:`write_tags_safely`).
Importing this package imports neither mutagen nor torch.
"""

from moodnet.tagging.batch import (
    ALREADY,
    FAILED,
    TAGGED,
    WOULD_TAG,
    TagOutcome,
    predict_and_tag,
    tag_files,
)
from moodnet.tagging.formats import open_audio, read_mood_tags
from moodnet.tagging.keys import TAG_KEYS, model_id, mood_word, tag_values
from moodnet.tagging.safe import audio_stream_digest, write_tags_safely

__all__ = [
    "ALREADY",
    "FAILED",
    "TAGGED",
    "TAG_KEYS",
    "WOULD_TAG",
    "TagOutcome",
    "audio_stream_digest",
    "model_id",
    "mood_word",
    "open_audio",
    "predict_and_tag",
    "read_mood_tags",
    "tag_files",
    "tag_values",
    "write_tags_safely",
]
