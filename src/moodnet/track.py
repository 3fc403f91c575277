"""One track of a dataset (:class:`Track`) and the split names: the record every stage shares.

Adapters make tracks, :mod:`moodnet.data.manifest` stores them as JSONL, labels and training
read them. This module sits below both ``labels`` and ``data``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from moodnet.errors import DataError

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Track:
    """One track of a dataset.

    Attributes
    ----------
    id : unique within its dataset
    dataset : name of the adapter that produced it (``mirex``, ``4q``, ``deezer``, ...)
    artist, title : free text ("" when unknown); ``artist`` drives artist-disjoint splits
    audio : absolute path of the audio file, or None
    lyrics : absolute path of a UTF-8 (or legacy-encoded) text file, or None
    lyrics_text : lyrics given inline (generic CSV), used when ``lyrics`` is None
    valence, arousal : targets on the dataset's VA scale, or None
    tags : mood words/tags as given by the source
    label : a categorical label given by the source (MIREX cluster, quadrant), or None
    split : ``train``/``validation``/``test`` or None when not assigned yet
    """

    id: str
    dataset: str = ""
    artist: str = ""
    title: str = ""
    audio: str | None = None
    lyrics: str | None = None
    lyrics_text: str | None = None
    valence: float | None = None
    arousal: float | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    label: str | None = None
    split: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise DataError("track without an id")
        if self.split is not None and self.split not in SPLITS:
            raise DataError(f"track {self.id}: split {self.split!r} is not one of {SPLITS}")
        for name in ("valence", "arousal"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise DataError(f"track {self.id}: {name} is not finite ({value})")
        if not isinstance(self.tags, tuple):
            object.__setattr__(self, "tags", tuple(self.tags))

    @property
    def has_va(self) -> bool:
        return self.valence is not None and self.arousal is not None

    @property
    def has_lyrics(self) -> bool:
        return self.lyrics is not None or bool(self.lyrics_text)

    def with_(self, **changes: Any) -> Track:
        """A copy with some fields changed (tracks are immutable)."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Track:
        """A track from its JSON object; every field's type is checked.

        Raises
        ------
        DataError
            ``data`` is not an object, or a field has the wrong type (an integer id, a string
            where the tag list belongs, a boolean valence, ...).
        """
        if not isinstance(data, dict):
            raise DataError(f"expected a JSON object, got {type(data).__name__} {_short(data)}")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for name, value in known.items():
            _check_type(name, value)
        known["tags"] = tuple(known.get("tags") or ())
        return cls(**known)


_STRINGS = frozenset({"id", "dataset", "artist", "title"})
_OPTIONAL_STRINGS = frozenset({"audio", "lyrics", "lyrics_text", "label", "split"})


def _check_type(name: str, value: object) -> None:
    if name in _STRINGS or (name in _OPTIONAL_STRINGS and value is not None):
        ok = isinstance(value, str)
        wanted = "a string"
    elif name in ("valence", "arousal"):
        ok = value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        wanted = "a number or null"
    elif name == "tags":
        ok = value is None or (isinstance(value, list) and all(isinstance(t, str) for t in value))
        wanted = "a list of strings"
    else:
        ok, wanted = True, ""
    if not ok:
        raise DataError(f"{name} must be {wanted}, got {type(value).__name__} {_short(value)}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
