"""The Deezer mood detection labels of Delbouys et al. (ISMIR 2018).

Layout: ``ROOT/{train,validation,test}.csv`` with columns
``dzr_sng_id,MSD_sng_id,MSD_track_id,valence,arousal,artist_name,track_name``. The split is the
file a row comes from; valence/arousal are the published z-scores, kept as given. The dataset
has no audio or lyrics; when folders are given, a track's audio is any file named after its
``dzr_sng_id`` or ``MSD_track_id`` with an audio extension, its lyrics ``<same>.txt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from moodnet.core import AUDIO_EXTENSIONS
from moodnet.data.adapters._common import (
    LYRICS_EXTENSIONS,
    check_unique,
    existing_dir,
    index_by_stem,
    parse_float,
    read_csv,
)
from moodnet.errors import DataError
from moodnet.track import SPLITS, Track

if TYPE_CHECKING:
    from moodnet.labels.lexicon import Lexicons

NAME = "deezer"
COLUMNS = ("dzr_sng_id", "MSD_track_id", "valence", "arousal", "artist_name", "track_name")
CITATION = (
    "R. Delbouys, R. Hennequin, F. Piccoli, J. Royo-Letelier, M. Moussallam, Music Mood "
    "Detection Based On Audio And Lyrics With Deep Neural Net, ISMIR 2018."
)


def _find(row: dict[str, str], index: dict[str, Path] | None) -> str | None:
    if index is None:
        return None
    for key in (row["dzr_sng_id"], row["MSD_track_id"]):
        if key and key in index:
            return str(index[key])
    return None


def _track(
    row: dict[str, str],
    *,
    split: str,
    where: str,
    audio: dict[str, Path] | None,
    lyrics: dict[str, Path] | None,
) -> Track:
    if not row["dzr_sng_id"]:
        raise DataError(f"{where}: empty dzr_sng_id")
    valence = parse_float(row["valence"], where=where, column="valence")
    arousal = parse_float(row["arousal"], where=where, column="arousal")
    if valence is None or arousal is None:
        raise DataError(f"{where}: missing valence or arousal")
    return Track(
        id=row["dzr_sng_id"],
        dataset=NAME,
        artist=row["artist_name"],
        title=row["track_name"],
        audio=_find(row, audio),
        lyrics=_find(row, lyrics),
        valence=valence,
        arousal=arousal,
        split=split,
    )


def load(
    root: str | Path,
    *,
    lexicons: Lexicons | None = None,
    audio_dir: str | Path | None = None,
    lyrics_dir: str | Path | None = None,
) -> list[Track]:
    """Read the three split files into tracks (split given, VA as published z-scores).

    Parameters
    ----------
    root : the folder holding ``train.csv``, ``validation.csv`` and ``test.csv``
    lexicons : unused (the labels are already valence/arousal)
    audio_dir : optional folder searched (recursively) for ``<dzr_sng_id|MSD_track_id>.<ext>``
    lyrics_dir : optional folder searched (recursively) for ``<dzr_sng_id|MSD_track_id>.txt``

    Returns
    -------
    tracks : train, then validation, then test rows; audio/lyrics None where not found
    """
    folder = existing_dir(root, "Deezer mood labels")
    audio = index_by_stem(existing_dir(audio_dir, "audio"), AUDIO_EXTENSIONS) if audio_dir else None
    lyrics = (
        index_by_stem(existing_dir(lyrics_dir, "lyrics"), LYRICS_EXTENSIONS) if lyrics_dir else None
    )
    tracks = []
    for split in SPLITS:
        path = folder / f"{split}.csv"
        for line, row in read_csv(path, required=COLUMNS):
            where = f"{path}:{line}"
            tracks.append(_track(row, split=split, where=where, audio=audio, lyrics=lyrics))
    check_unique(tracks, source=folder)
    return tracks
