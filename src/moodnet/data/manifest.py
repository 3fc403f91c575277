"""The common manifest: one :class:`Track` per line of a JSONL file.

Every dataset adapter converts its own layout into a list of tracks; everything downstream
(extraction, training, evaluation) reads only manifests. Paths are stored absolute.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from moodnet.errors import DataError
from moodnet.io_utils import atomic_write_text
from moodnet.track import SPLITS, Track

__all__ = ["SPLITS", "Track", "by_split", "read_manifest", "write_manifest"]

def write_manifest(tracks: Iterable[Track], path: str | Path) -> Path:
    """Write tracks as JSONL, atomically."""
    lines = [json.dumps(t.to_json(), ensure_ascii=False) for t in tracks]
    return atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def read_manifest(path: str | Path) -> list[Track]:
    """Read a JSONL manifest written by :func:`write_manifest`."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise DataError(f"{path}: not a regular file, cannot be a manifest")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read manifest ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text, not a JSONL manifest (byte {exc.start})"
        ) from None
    if "\x00" in text:
        raise DataError(f"{path}: contains NUL bytes, not a JSONL manifest")
    tracks = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            tracks.append(Track.from_json(json.loads(line)))
        except (json.JSONDecodeError, TypeError, DataError) as exc:
            raise DataError(f"{path}:{number}: not a manifest entry ({exc})") from None
    ids = [t.id for t in tracks]
    if len(set(ids)) != len(ids):
        raise DataError(f"{path}: duplicate track ids")
    return tracks


def by_split(tracks: Sequence[Track], split: str) -> list[Track]:
    """The tracks of one split, in manifest order."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; expected one of {SPLITS}")
    return [t for t in tracks if t.split == split]
