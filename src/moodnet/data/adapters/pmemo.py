"""PMEmo (Zhang et al., ICMR 2018) in the layout of the shared samples.

Layout: ``ROOT/index.json`` (a list of objects with at least ``id``) and, per song,
``ROOT/<id>.json`` holding ``valence_mean``/``arousal_mean`` in 0..1 (mapped to [-1, 1] by
``2x - 1``), ``title``, ``artist``, optional ``lyrics`` (inline text) and ``quadrant``
(its leading ``Q1``..``Q4`` becomes ``label``). Audio is ``<id>.<audio extension>``; a
``<id>.txt`` file, when present, is used as the lyrics file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moodnet.core import AUDIO_EXTENSIONS, QUADRANTS
from moodnet.data.adapters._common import (
    check_unique,
    existing_dir,
    index_by_stem,
    relocate_files,
)
from moodnet.errors import DataError, FileProblem
from moodnet.track import Track

if TYPE_CHECKING:
    from moodnet.labels.lexicon import Lexicons

NAME = "pmemo"
CITATION = (
    "K. Zhang, H. Zhang, S. Li, C. Yang, L. Sun, The PMEmo Dataset for Music Emotion "
    "Recognition, ICMR 2018."
)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FileProblem(path, f"cannot read ({exc.strerror})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileProblem(path, f"not JSON ({exc})") from exc


def _unit_to_va(value: Any, *, path: Path, key: str) -> float:
    if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise DataError(f"{path}: {key} {value!r} is not a number in [0, 1]")
    return 2.0 * float(value) - 1.0


def _track(song_id: str, *, folder: Path, audio: dict[str, Path]) -> Track:
    path = folder / f"{song_id}.json"
    record = _read_json(path)
    if not isinstance(record, dict):
        raise DataError(f"{path}: expected a JSON object")
    quadrant = str(record.get("quadrant") or "")[:2].upper()
    lyrics_file = folder / f"{song_id}.txt"
    return Track(
        id=song_id,
        dataset=NAME,
        artist=str(record.get("artist") or ""),
        title=str(record.get("title") or ""),
        audio=str(audio[song_id]) if song_id in audio else None,
        lyrics=str(lyrics_file) if lyrics_file.is_file() else None,
        lyrics_text=str(record.get("lyrics") or "") or None,
        valence=_unit_to_va(record.get("valence_mean"), path=path, key="valence_mean"),
        arousal=_unit_to_va(record.get("arousal_mean"), path=path, key="arousal_mean"),
        label=quadrant if quadrant in QUADRANTS else None,
    )


def load(
    root: str | Path,
    *,
    lexicons: Lexicons | None = None,
    audio_dir: str | Path | None = None,
    lyrics_dir: str | Path | None = None,
) -> list[Track]:
    """Read ``index.json`` and the per-song JSON files into tracks.

    Parameters
    ----------
    root : the folder holding ``index.json`` and ``<id>.json``
    lexicons : unused (the labels are already valence/arousal)
    audio_dir, lyrics_dir : look the files up by file stem in these folders instead

    Returns
    -------
    tracks : in index order, valence/arousal on [-1, 1]
    """
    folder = existing_dir(root, "PMEmo samples")
    index_path = folder / "index.json"
    index = _read_json(index_path)
    if not isinstance(index, list) or not all(isinstance(e, dict) and "id" in e for e in index):
        raise DataError(f"{index_path}: expected a list of objects with an 'id'")
    audio = index_by_stem(folder, AUDIO_EXTENSIONS)
    tracks = [_track(str(entry["id"]), folder=folder, audio=audio) for entry in index]
    check_unique(tracks, source=index_path)
    return relocate_files(tracks, audio_dir=audio_dir, lyrics_dir=lyrics_dir)
