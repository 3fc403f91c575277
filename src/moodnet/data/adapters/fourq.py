"""The 4Q audio emotion dataset (Panda, Malheiro & Paiva 2018).

Layout: ``ROOT/metadata.csv`` with columns ``id,artist,title,quadrant,allmusic_moods,genres,audio``
(``allmusic_moods`` and ``genres`` separated by ``;``; paths relative to ROOT). Each track gets
``label`` = its quadrant (``Q1``..``Q4``), ``tags`` = its AllMusic moods and, when lexicons are
given, valence/arousal derived from the tags (class prior = the mean of its quadrant).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from moodnet.core import QUADRANTS
from moodnet.data.adapters._common import (
    add_tag_va,
    check_unique,
    existing_dir,
    read_csv,
    relocate_files,
    resolve,
    split_list,
)
from moodnet.errors import DataError
from moodnet.track import Track

if TYPE_CHECKING:
    from moodnet.labels.lexicon import Lexicons

NAME = "4q"
COLUMNS = ("id", "artist", "title", "quadrant", "allmusic_moods", "audio")
CITATION = (
    "R. Panda, R. Malheiro, R. P. Paiva, Novel audio features for music emotion recognition, "
    "IEEE Trans. Affective Computing, 2018."
)


def _track(row: dict[str, str], *, root: Path, where: str) -> Track:
    if not row["id"]:
        raise DataError(f"{where}: empty id")
    quadrant = row["quadrant"].upper()
    if quadrant not in QUADRANTS:
        raise DataError(f"{where}: quadrant {row['quadrant']!r} is not one of {QUADRANTS}")
    return Track(
        id=row["id"],
        dataset=NAME,
        artist=row["artist"],
        title=row["title"],
        audio=resolve(root, row["audio"]),
        tags=split_list(row["allmusic_moods"]),
        label=quadrant,
    )


def load(
    root: str | Path,
    *,
    lexicons: Lexicons | None = None,
    audio_dir: str | Path | None = None,
    lyrics_dir: str | Path | None = None,
) -> list[Track]:
    """Read the dataset's ``metadata.csv`` into tracks.

    Parameters
    ----------
    root : the dataset folder (holding ``metadata.csv``)
    lexicons : when given, valence/arousal come from the mood tags (else they stay None)
    audio_dir, lyrics_dir : look the files up by file stem in these folders instead (the
        dataset has no lyrics of its own)

    Returns
    -------
    tracks : one per row, with absolute paths, in file order, ``split`` None
    """
    folder = existing_dir(root, "4Q dataset")
    metadata = folder / "metadata.csv"
    tracks = [
        _track(row, root=folder, where=f"{metadata}:{line}")
        for line, row in read_csv(metadata, required=COLUMNS)
    ]
    check_unique(tracks, source=metadata)
    tracks = relocate_files(tracks, audio_dir=audio_dir, lyrics_dir=lyrics_dir)
    return add_tag_va(tracks, lexicons)
