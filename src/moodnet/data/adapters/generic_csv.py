"""Any dataset described by one CSV file.

Columns (only ``id`` is required; an absent column means "unknown"): ``id, artist, title,
audio, lyrics`` (a path) or ``lyrics_text`` (inline), ``valence, arousal`` (floats on the
dataset's own VA scale), ``tags`` (``;``-separated), ``label``, ``split``
(``train``/``validation``/``test`` or empty). Paths are relative to the CSV's folder. When
lexicons are given, tracks without valence/arousal but with tags get VA from their tags.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from moodnet.data.adapters._common import (
    check_unique,
    parse_float,
    read_csv,
    relocate_files,
    resolve,
    split_list,
)
from moodnet.errors import DataError, FileProblem
from moodnet.track import SPLITS, Track

if TYPE_CHECKING:
    from moodnet.labels.lexicon import Lexicons

NAME = "csv"


def _csv_file(root: str | Path) -> Path:
    path = Path(root).expanduser().resolve()
    if path.is_file():
        return path
    if path.is_dir():
        candidates = sorted(path.glob("*.csv"))
        if len(candidates) == 1:
            return candidates[0]
        raise FileProblem(path, f"expected exactly one .csv file here, found {len(candidates)}")
    raise FileProblem(path, "no such file or folder")


def _track(row: dict[str, str], *, base: Path, where: str) -> Track:
    if not row.get("id"):
        raise DataError(f"{where}: empty id")
    split = row.get("split") or None
    if split is not None and split not in SPLITS:
        raise DataError(f"{where}: split {split!r} is not one of {SPLITS}")
    valence = parse_float(row.get("valence", ""), where=where, column="valence")
    arousal = parse_float(row.get("arousal", ""), where=where, column="arousal")
    if (valence is None) != (arousal is None):
        raise DataError(f"{where}: valence and arousal must be given together")
    return Track(
        id=row["id"],
        dataset=NAME,
        artist=row.get("artist", ""),
        title=row.get("title", ""),
        audio=resolve(base, row.get("audio", "")),
        lyrics=resolve(base, row.get("lyrics", "")),
        lyrics_text=row.get("lyrics_text") or None,
        valence=valence,
        arousal=arousal,
        tags=split_list(row.get("tags", "")),
        label=row.get("label") or None,
        split=split,
    )


def _fill_va_from_tags(tracks: list[Track], lexicons: Lexicons) -> list[Track]:
    from moodnet.labels.tags import tags_to_va

    pending = [t for t in tracks if not t.has_va and t.tags]
    if not pending:
        return tracks
    results = {r.id: r for r in tags_to_va(pending, lexicons=lexicons)[0]}
    return [
        t.with_(valence=results[t.id].valence, arousal=results[t.id].arousal)
        if t.id in results
        else t
        for t in tracks
    ]


def load(
    root: str | Path,
    *,
    lexicons: Lexicons | None = None,
    audio_dir: str | Path | None = None,
    lyrics_dir: str | Path | None = None,
) -> list[Track]:
    """Read one CSV into tracks.

    Parameters
    ----------
    root : the CSV file, or a folder holding exactly one ``.csv``
    lexicons : when given, rows with tags but no valence/arousal get VA from their tags
    audio_dir, lyrics_dir : look the files up by file stem in these folders instead

    Returns
    -------
    tracks : one per row, paths absolute, ``split`` as given (None when empty)
    """
    path = _csv_file(root)
    tracks = [
        _track(row, base=path.parent, where=f"{path}:{line}")
        for line, row in read_csv(path, required=("id",))
    ]
    check_unique(tracks, source=path)
    tracks = relocate_files(tracks, audio_dir=audio_dir, lyrics_dir=lyrics_dir)
    return _fill_va_from_tags(tracks, lexicons) if lexicons is not None else tracks
