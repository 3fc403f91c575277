"""One exception hierarchy for everything moodnet raises on bad input."""

from __future__ import annotations

from pathlib import Path


class MoodnetError(Exception):
    """Base class of every error moodnet raises on purpose."""


class ParameterError(MoodnetError, ValueError):
    """A function was called with a value outside its documented range."""


class ConfigError(MoodnetError):
    """A configuration file or override is malformed."""


class FileProblem(MoodnetError):
    """A problem tied to one file; the message always names the file.

    Parameters
    ----------
    path : path of the offending file
    problem : what is wrong with it, in words
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class AudioError(FileProblem):
    """An audio file does not decode, is empty, silent, too short or out of range."""


class LyricsError(FileProblem):
    """A lyrics file cannot be read or decoded."""


class DataError(MoodnetError):
    """A manifest, dataset layout, split or label is inconsistent."""


class CheckpointError(MoodnetError):
    """A checkpoint directory is missing parts or does not match this version."""


class TagError(FileProblem):
    """An audio file's metadata cannot be read or written (``moodnet tag``); it is unchanged."""


class LyricsWarning(UserWarning):
    """Lyrics were taken in a way the caller may not have meant (a ``str`` naming a file)."""


class AudioWarning(UserWarning):
    """An audio file was accepted after a repair (e.g. float samples scaled back into [-1, 1])."""


class PrecisionWarning(UserWarning):
    """A requested numeric precision (bfloat16) was not used because the device would run it
    slower than float32."""
