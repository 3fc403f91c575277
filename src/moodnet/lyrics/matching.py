"""Which lyrics file goes with which track, the way people name them (``--lyrics``).

``--lyrics`` of ``moodnet predict`` and ``moodnet tag`` may be

* one lyrics file, for exactly one track;
* a mapping CSV (``.csv``) with the columns ``path,lyrics_path``; relative paths in it are
  relative to the CSV's folder;
* a folder of ``.txt`` / ``.lrc`` files, matched to a track ``<stem>.mp3`` by

  1. the same stem: ``<stem>.txt``, else ``<stem>.lrc`` (letter case ignored);
  2. else the same trailing number: ``mirex_004.mp3`` <-> ``004.txt`` (or ``lyrics-4.lrc``),
     compared as numbers, and only when it is unambiguous: one lyrics file with that number
     left, and one track left wanting it.

``.lrc`` files lose their timestamps (``[01:02.50]``, ``<01:02.50>``) and their metadata lines
(``[ar: ...]``, ``[ti: ...]``, ``[offset: ...]``, ...).
"""

from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from moodnet.errors import LyricsError

LYRICS_SUFFIXES = (".txt", ".lrc")
"""Lyrics file endings found in a ``--lyrics`` folder, the first preferred for one stem."""
MAPPING_COLUMNS = ("path", "lyrics_path")

_TRAILING_NUMBER = re.compile(r"(\d+)$")
_LRC_TIME = re.compile(r"[\[<]\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?[\]>]")
_LRC_METADATA = re.compile(r"^\s*\[[A-Za-z#]+:[^\]]*\]\s*$")


@dataclass(frozen=True)
class LyricsMatch:
    """Lyrics found for tracks.

    Attributes
    ----------
    lyrics : track (as given) -> its lyrics: a ``Path`` of a text file, or the text of an
        ``.lrc`` file with its timestamps stripped (what :meth:`moodnet.Predictor.predict`
        takes as ``lyrics=``)
    unmatched : tracks without lyrics, in the order given
    notes : problems met on the way (an ambiguous number, a missing file named in the CSV)
    """

    lyrics: dict[str, str | Path]
    unmatched: list[str]
    notes: list[str] = field(default_factory=list)


def strip_lrc(text: str) -> str:
    """The words of an LRC file: timestamps and metadata lines removed.

    Parameters
    ----------
    text : the content of an ``.lrc`` file

    Returns
    -------
    lyrics : str, one line per lyric line (lines empty after stripping are dropped)
    """
    lines = []
    for line in text.splitlines():
        if _LRC_METADATA.match(line):
            continue
        words = " ".join(_LRC_TIME.sub(" ", line).split())
        if words:
            lines.append(words)
    return "\n".join(lines)


def lyrics_of_file(path: Path) -> str | Path:
    """What to give the model for a lyrics file: its path, or an ``.lrc`` file's stripped text.

    Raises
    ------
    LyricsError
        An ``.lrc`` file cannot be read or decoded.
    """
    if path.suffix.lower() != ".lrc":
        return path
    from moodnet.lyrics.text import read_lyrics

    return strip_lrc(read_lyrics(path))


def match_lyrics(tracks: Sequence[str], source: str | Path) -> LyricsMatch:
    """Find the lyrics of ``tracks`` from a ``--lyrics`` value (see the module docstring).

    Parameters
    ----------
    tracks : audio files, as given
    source : a lyrics file (one track only), a mapping ``.csv`` or a folder

    Returns
    -------
    match : LyricsMatch

    Raises
    ------
    LyricsError
        ``source`` does not exist, is a single lyrics file for several tracks, or is a CSV
        without the ``path`` and ``lyrics_path`` columns.
    """
    source = Path(source)
    if source.is_dir():
        lyrics, notes = _match_folder(tracks, source)
    elif source.is_file() and source.suffix.lower() == ".csv":
        lyrics, notes = _match_mapping(tracks, source)
    elif source.is_file():
        if len(tracks) != 1:
            raise LyricsError(source, f"one lyrics file goes with one audio file, not "
                              f"{len(tracks)}; give a folder or a path,lyrics_path CSV")
        lyrics, notes = {tracks[0]: source}, []
    else:
        raise LyricsError(source, "no such lyrics file or folder")
    return _read_lrc(tracks, lyrics, notes)


def lyrics_report(match: LyricsMatch, *, total: int, shown: int = 5) -> list[str]:
    """Lines telling how many tracks got lyrics and which did not (the first ``shown``)."""
    lines = [f"lyrics found for {total - len(match.unmatched)} of {total} track(s)"]
    if match.unmatched:
        names = ", ".join(Path(t).name for t in match.unmatched[:shown])
        more = len(match.unmatched) - shown
        lines.append(f"without lyrics: {names}" + (f" (and {more} more)" if more > 0 else ""))
    return [*lines, *match.notes]


def lyrics_for_command(
    tracks: Sequence[str], source: str | Path, *, command: str, stream: TextIO | None = None,
) -> dict[str, str | Path]:
    """:func:`match_lyrics`, with :func:`lyrics_report` printed (``moodnet COMMAND: ...``).

    Parameters
    ----------
    tracks, source : as in :func:`match_lyrics`
    command : the subcommand's name, for the message prefix
    stream : where the report goes (default: ``sys.stderr``)

    Returns
    -------
    lyrics : track -> lyrics, as :attr:`LyricsMatch.lyrics`

    Raises
    ------
    LyricsError
        As :func:`match_lyrics`.
    """
    match = match_lyrics(tracks, source)
    out = sys.stderr if stream is None else stream
    for line in lyrics_report(match, total=len(tracks)):
        print(f"moodnet {command}: {line}", file=out)
    return match.lyrics


def _read_lrc(
    tracks: Sequence[str], lyrics: dict[str, Path], notes: list[str],
) -> LyricsMatch:
    found: dict[str, str | Path] = {}
    for track, path in lyrics.items():
        try:
            found[track] = lyrics_of_file(path)
        except LyricsError as exc:
            notes.append(f"{exc}; {Path(track).name} goes without lyrics")
    return LyricsMatch(found, [t for t in tracks if t not in found], notes)


def _lyrics_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in LYRICS_SUFFIXES and p.is_file())


def _match_folder(tracks: Sequence[str], folder: Path) -> tuple[dict[str, Path], list[str]]:
    files = _lyrics_files(folder)
    by_stem: dict[str, Path] = {}
    for path in sorted(files, key=lambda p: LYRICS_SUFFIXES.index(p.suffix.lower())):
        by_stem.setdefault(path.stem.casefold(), path)
    matched = {t: by_stem[Path(t).stem.casefold()] for t in tracks
               if Path(t).stem.casefold() in by_stem}
    used = set(matched.values())
    by_number, notes = _match_numbers([t for t in tracks if t not in matched],
                                      [p for p in files if p not in used])
    return {**matched, **by_number}, notes


def _number(stem: str) -> int | None:
    found = _TRAILING_NUMBER.search(stem)
    return int(found.group(1)) if found else None


def _match_numbers(
    tracks: Iterable[str], files: Iterable[Path],
) -> tuple[dict[str, Path], list[str]]:
    """Tracks and lyrics files paired by the trailing number of their stems, one to one."""
    files_by_number: dict[int, list[Path]] = defaultdict(list)
    for path in files:
        number = _number(path.stem)
        if number is not None:
            files_by_number[number].append(path)
    tracks_by_number: dict[int, list[str]] = defaultdict(list)
    for track in tracks:
        number = _number(Path(track).stem)
        if number is not None and number in files_by_number:
            tracks_by_number[number].append(track)
    matched, notes = {}, []
    for number, wanting in tracks_by_number.items():
        candidates = files_by_number[number]
        if len(wanting) == 1 and len(candidates) == 1:
            matched[wanting[0]] = candidates[0]
        else:
            notes.append(f"number {number} is ambiguous ({', '.join(Path(t).name for t in wanting)}"
                         f" <-> {', '.join(p.name for p in candidates)}): no lyrics given")
    return matched, notes


def _match_mapping(tracks: Sequence[str], mapping: Path) -> tuple[dict[str, Path], list[str]]:
    base = mapping.parent
    try:
        text = mapping.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LyricsError(mapping, f"cannot be read as a UTF-8 CSV ({exc})") from exc
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or not set(MAPPING_COLUMNS) <= set(reader.fieldnames):
        raise LyricsError(mapping, f"a lyrics mapping CSV needs the columns "
                          f"{','.join(MAPPING_COLUMNS)}; it has {reader.fieldnames or 'none'}")
    wanted = {_absolute(Path(t), Path.cwd()): t for t in tracks}
    found: dict[str, Path] = {}
    notes = []
    for line, row in enumerate(reader, start=2):
        track = wanted.get(_absolute(Path(row["path"] or ""), base))
        if track is None:
            continue
        lyrics = _absolute(Path(row["lyrics_path"] or ""), base)
        if row["lyrics_path"] and lyrics.is_file():
            found[track] = lyrics
        else:
            notes.append(f"{mapping} line {line}: no lyrics file {row['lyrics_path']!r}")
    return found, notes


def _absolute(path: Path, base: Path) -> Path:
    path = path.expanduser()
    return (path if path.is_absolute() else base / path).resolve()
