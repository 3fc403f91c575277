"""Helpers shared by the dataset adapters: CSV reading, path resolution, record checks."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from moodnet.core import AUDIO_EXTENSIONS
from moodnet.errors import DataError, FileProblem
from moodnet.track import Track

if TYPE_CHECKING:
    from moodnet.labels.lexicon import Lexicons

LYRICS_EXTENSIONS: frozenset[str] = frozenset({".txt"})


def existing_dir(path: str | Path, what: str) -> Path:
    """``path`` resolved, or FileProblem when it is not a folder."""
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise FileProblem(folder, f"{what}: no such folder")
    return folder


def read_csv(path: Path, *, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 CSV with a header, as (line number, row) pairs; values stripped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or ()]
            missing = [name for name in required if name not in header]
            if missing:
                raise FileProblem(path, f"missing columns {missing} (has {header})")
            rows = []
            for line, row in enumerate(reader, start=2):
                if None in row:
                    raise DataError(f"{path}:{line}: more cells than header columns")
                clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
                if any(clean.values()):
                    rows.append((line, clean))
            return rows
    except OSError as exc:
        raise FileProblem(path, f"cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise FileProblem(path, f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc


def parse_float(text: str, *, where: str, column: str) -> float | None:
    """``text`` as a finite float, None when empty; DataError naming ``where`` otherwise."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {column} is not finite ({text})")
    return value


def index_by_stem(folder: Path, extensions: frozenset[str]) -> dict[str, Path]:
    """Files below ``folder`` whose suffix is in ``extensions``, keyed by file stem."""
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in extensions and path.is_file():
            found.setdefault(path.stem, path.resolve())
    return found


def resolve(base: Path, value: str) -> str | None:
    """``value`` (relative to ``base`` unless absolute) as an absolute path, None if empty."""
    if not value:
        return None
    return str((base / Path(value).expanduser()).resolve())


def _relocate(path: str | None, index: dict[str, Path] | None) -> str | None:
    if path is None or index is None:
        return path
    found = index.get(Path(path).stem)
    return str(found) if found is not None else None


def relocate_files(
    tracks: list[Track],
    *,
    audio_dir: str | Path | None,
    lyrics_dir: str | Path | None,
) -> list[Track]:
    """Tracks whose audio/lyrics are looked up by file stem in other folders, when given.

    A file not found there becomes None (reported by validation as no audio / no lyrics).
    """
    if audio_dir is None and lyrics_dir is None:
        return tracks
    audio = index_by_stem(existing_dir(audio_dir, "audio"), AUDIO_EXTENSIONS) if audio_dir else None
    lyrics = (
        index_by_stem(existing_dir(lyrics_dir, "lyrics"), LYRICS_EXTENSIONS) if lyrics_dir else None
    )
    return [
        t.with_(audio=_relocate(t.audio, audio), lyrics=_relocate(t.lyrics, lyrics)) for t in tracks
    ]


def check_unique(tracks: Sequence[Track], *, source: Path) -> None:
    """DataError naming ``source`` and the first duplicated ids."""
    seen: set[str] = set()
    duplicates = []
    for track in tracks:
        if track.id in seen:
            duplicates.append(track.id)
        seen.add(track.id)
    if duplicates:
        raise DataError(f"{source}: duplicate ids {sorted(set(duplicates))[:10]}")


def split_list(text: str, separator: str = ";") -> tuple[str, ...]:
    """``"a; b;;c"`` -> ``("a", "b", "c")``."""
    return tuple(part.strip() for part in text.split(separator) if part.strip())


def add_tag_va(tracks: list[Track], lexicons: Lexicons | None) -> list[Track]:
    """Tracks with valence/arousal derived from their tags (unchanged without lexicons)."""
    if lexicons is None:
        return tracks
    from moodnet.labels.tags import tags_to_va, with_tag_va

    results, _ = tags_to_va(tracks, lexicons=lexicons)
    return with_tag_va(tracks, results)
