"""Playlists from predictions: read what ``moodnet predict`` wrote, choose tracks, write M3U.

>>> rows = read_results(Path("moods.csv"))
>>> chosen = by_quadrant(rows, quadrant="Q4")          # or near(rows, point=(0.5, -0.5), count=20)
>>> write_m3u(chosen, path=Path("calm.m3u"))
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from moodnet.core import QUADRANT_WORDS, QUADRANTS, quadrant_of
from moodnet.errors import DataError, ParameterError
from moodnet.io_utils import atomic_write_text

RESULT_COLUMNS = ("path", "valence", "arousal")
"""Columns (CSV) or keys (JSONL) a results file needs."""


@dataclass(frozen=True)
class ResultRow:
    """One predicted track of a results file.

    Attributes
    ----------
    path : the audio file, absolute when it was found (see :func:`read_results`)
    valence, arousal : float on the [-1, 1] scale
    quadrant : "Q1".."Q4"
    found : whether the audio file exists
    """

    path: Path
    valence: float
    arousal: float
    quadrant: str
    found: bool


def read_results(path: Path) -> list[ResultRow]:
    """The tracks of a ``moodnet predict --format csv|jsonl --output`` file.

    A relative track path is taken relative to the current folder (where ``moodnet predict``
    ran, as it wrote the paths as given) and, when no file is there, relative to the results
    file's folder.

    Parameters
    ----------
    path : a ``.csv`` or ``.jsonl`` results file (the format is read from its first
        character: ``{`` is JSONL)

    Returns
    -------
    rows : list of ResultRow, in the file's order

    Raises
    ------
    DataError
        The file is missing or unreadable, lacks the columns, or a row's numbers are not
        numbers in [-1, 1]; the message names the file and line.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the results file ({exc})") from exc
    records = _jsonl_records(path, text) if text.lstrip().startswith("{") else _csv_records(
        path, text)
    return [_row(path, line, record) for line, record in records]


def _jsonl_records(path: Path, text: str) -> list[tuple[int, dict[str, object]]]:
    records = []
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            records.append((line, dict(json.loads(content))))
        except (ValueError, TypeError) as exc:
            raise DataError(f"{path} line {line}: not a JSON object ({exc})") from exc
    return records


def _csv_records(path: Path, text: str) -> list[tuple[int, dict[str, object]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in RESULT_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise DataError(f"{path}: not a moodnet predict results file (no column "
                        f"{', '.join(missing)}); write one with moodnet predict --output F.csv")
    return [(line, dict(row)) for line, row in enumerate(reader, start=2)]


def _row(results: Path, line: int, record: dict[str, object]) -> ResultRow:
    try:
        track = Path(str(record["path"])).expanduser()
        valence, arousal = float(str(record["valence"])), float(str(record["arousal"]))
    except (KeyError, ValueError) as exc:
        raise DataError(f"{results} line {line}: needs path, valence and arousal ({exc})") from exc
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in (valence, arousal)):
        raise DataError(f"{results} line {line}: valence/arousal ({valence}, {arousal}) are not "
                        "on the [-1, 1] scale")
    quadrant = str(record.get("quadrant") or "") or quadrant_of(valence, arousal)
    candidates = [track] if track.is_absolute() else [Path.cwd() / track, results.parent / track]
    found = next((c for c in candidates if c.is_file()), None)
    return ResultRow((found or candidates[0]).absolute(), valence, arousal, quadrant,
                     found is not None)


def parse_quadrant(text: str) -> str:
    """``Q4``, ``q4``, ``4`` or one of the quadrant's words (``calm``) -> ``"Q4"``.

    Raises
    ------
    ParameterError
        Neither a quadrant name nor one of its words.
    """
    key = text.strip().casefold()
    for quadrant in QUADRANTS:
        if key in (quadrant.casefold(), quadrant[1:], *QUADRANT_WORDS[quadrant]):
            return quadrant
    choices = "; ".join(f"{q} ({', '.join(QUADRANT_WORDS[q])})" for q in QUADRANTS)
    raise ParameterError(f"quadrant {text!r}: expected one of {choices}")


def by_quadrant(rows: Iterable[ResultRow], *, quadrant: str,
                count: int | None = None) -> list[ResultRow]:
    """The tracks in ``quadrant``, the farthest from the neutral centre first.

    Parameters
    ----------
    rows : tracks read by :func:`read_results`
    quadrant : "Q1".."Q4"
    count : at most this many (None: all)
    """
    chosen = sorted((r for r in rows if r.quadrant == quadrant),
                    key=lambda r: -math.hypot(r.valence, r.arousal))
    return chosen if count is None else chosen[:count]


def near(rows: Iterable[ResultRow], *, point: tuple[float, float], count: int) -> list[ResultRow]:
    """The ``count`` tracks nearest to ``point`` = (valence, arousal), nearest first."""
    if count < 1:
        raise ParameterError(f"count must be >= 1, got {count}")
    v, a = point
    return sorted(rows, key=lambda r: math.hypot(r.valence - v, r.arousal - a))[:count]


def m3u_text(rows: Sequence[ResultRow], *, folder: Path | None) -> str:
    """An extended M3U playlist of ``rows``; paths relative to ``folder`` when one is given
    (and the track is on the same drive), else absolute."""
    lines = ["#EXTM3U"]
    for row in rows:
        title = (f"{row.path.stem} ({row.quadrant}, valence {row.valence:+.2f}, "
                 f"arousal {row.arousal:+.2f})")
        lines += [f"#EXTINF:{_seconds(row)},{title}", _relative(row.path, folder)]
    return "\n".join(lines) + "\n"


def write_m3u(rows: Sequence[ResultRow], *, path: Path) -> Path:
    """Write :func:`m3u_text` atomically to ``path``, track paths relative to its folder."""
    return atomic_write_text(path, m3u_text(rows, folder=path.absolute().parent))


def _relative(track: Path, folder: Path | None) -> str:
    if folder is None:
        return str(track)
    try:
        return os.path.relpath(track, folder)
    except ValueError:  # another drive (Windows)
        return str(track)


def _seconds(row: ResultRow) -> int:
    """Whole seconds of the track from its header; -1 (unknown, as M3U has it) otherwise."""
    if not row.found:
        return -1
    from moodnet.audio import audio_info
    from moodnet.errors import AudioError

    try:
        return round(audio_info(row.path).duration)
    except AudioError:
        return -1
