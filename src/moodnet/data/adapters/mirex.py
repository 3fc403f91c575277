"""The multi-modal MIREX-like emotion dataset (Panda et al., CMMR 2013).

Layout: ``ROOT/metadata.csv`` with columns
``id,title,artist,album,year,mirex_cluster,allmusic_mood,audio,lyrics`` (paths relative to
ROOT; an empty ``lyrics`` cell means no lyrics). Each track gets ``label = "cluster<N>"``
(N = 1..5), ``tags = (allmusic_mood,)`` and, when lexicons are given, valence/arousal derived
from its tag (:mod:`moodnet.labels.tags`, class prior = the mean of its cluster).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from moodnet.core import MIREX_CLUSTERS
from moodnet.data.adapters._common import (
    add_tag_va,
    check_unique,
    existing_dir,
    read_csv,
    relocate_files,
    resolve,
)
from moodnet.errors import DataError
from moodnet.track import Track

if TYPE_CHECKING:
    from moodnet.labels.lexicon import Lexicons

NAME = "mirex"
COLUMNS = ("id", "title", "artist", "mirex_cluster", "allmusic_mood", "audio", "lyrics")
CITATION = (
    "R. Panda, R. Malheiro, B. Rocha, A. Oliveira, R. P. Paiva, Multi-Modal Music Emotion "
    "Recognition: A New Dataset, Methodology and Comparative Analysis, CMMR 2013."
)


def _track(row: dict[str, str], *, root: Path, where: str) -> Track:
    if not row["id"]:
        raise DataError(f"{where}: empty id")
    label = f"cluster{row['mirex_cluster']}"
    if label not in MIREX_CLUSTERS:
        raise DataError(f"{where}: mirex_cluster {row['mirex_cluster']!r} is not 1..5")
    if not row["allmusic_mood"]:
        raise DataError(f"{where}: empty allmusic_mood")
    return Track(
        id=row["id"],
        dataset=NAME,
        artist=row["artist"],
        title=row["title"],
        audio=resolve(root, row["audio"]),
        lyrics=resolve(root, row["lyrics"]),
        tags=(row["allmusic_mood"],),
        label=label,
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
    lexicons : when given, valence/arousal come from the mood tag (else they stay None)
    audio_dir, lyrics_dir : look the files up by file stem in these folders instead

    Returns
    -------
    tracks : one per row, with absolute paths, in file order, ``split`` None
    """
    folder = existing_dir(root, "MIREX-like dataset")
    metadata = folder / "metadata.csv"
    tracks = [
        _track(row, root=folder, where=f"{metadata}:{line}")
        for line, row in read_csv(metadata, required=COLUMNS)
    ]
    check_unique(tracks, source=metadata)
    tracks = relocate_files(tracks, audio_dir=audio_dir, lyrics_dir=lyrics_dir)
    return add_tag_va(tracks, lexicons)
