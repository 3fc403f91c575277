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
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["tags"] = tuple(known.get("tags") or ())
        return cls(**known)
