"""The common manifest: one :class:`Track` per line of a JSONL file.

Every dataset adapter converts its own layout into a list of tracks; everything downstream
(extraction, training, evaluation) reads only manifests. Paths are stored absolute.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from moodnet.errors import DataError
from moodnet.io_utils import atomic_write_text

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


def write_manifest(tracks: Iterable[Track], path: str | Path) -> Path:
    """Write tracks as JSONL, atomically."""
    lines = [json.dumps(t.to_json(), ensure_ascii=False) for t in tracks]
    return atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def read_manifest(path: str | Path) -> list[Track]:
    """Read a JSONL manifest written by :func:`write_manifest`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read manifest ({exc.strerror})") from exc
    tracks = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            tracks.append(Track.from_json(json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise DataError(f"{path}:{number}: not a manifest entry ({exc})") from exc
    ids = [t.id for t in tracks]
    if len(set(ids)) != len(ids):
        raise DataError(f"{path}: duplicate track ids")
    return tracks


def by_split(tracks: Sequence[Track], split: str) -> list[Track]:
    """The tracks of one split, in manifest order."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; expected one of {SPLITS}")
    return [t for t in tracks if t.split == split]
