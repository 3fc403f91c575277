"""Check a list of tracks and report every problem found, never stopping at the first.

Audio files are checked for existence, size and a readable header (``soundfile.info``, then
PyAV's container probe) without decoding them; lyrics files for existence and decoding (UTF-8,
falling back to cp1252, reported as a warning); labels for missing / out-of-range VA, unknown
classes and duplicate ids; the set as a whole for what makes it untrainable (no tracks, a
constant valence or arousal, one class): :func:`check_trainable` is the same check for
``moodnet train``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from moodnet.core import QUADRANTS, VA_RANGE, quadrant_ids
from moodnet.errors import DataError
from moodnet.track import Track

R = TypeVar("R")
AudioResult = tuple[str, str] | None
LyricsResult = tuple[str, str, str] | None

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem: ``kind`` is a short code (``audio_missing``, ``va_out_of_range``, ...)."""

    track_id: str
    kind: str
    message: str
    path: str | None = None
    severity: str = ERROR

    def format(self) -> str:
        where = f" {self.path}:" if self.path else ""
        return f"{self.severity}: {self.track_id}:{where} {self.message}"


@dataclass
class ValidationReport:
    """All problems of a set of tracks and summary counts.

    Attributes
    ----------
    n_tracks : tracks checked
    n_audio, n_lyrics : tracks with an audio file / lyrics (file or inline) named
    n_audio_ok, n_lyrics_ok : of those, how many passed the file checks
    n_va : tracks with valence and arousal
    problems : every problem, in track order
    """

    n_tracks: int = 0
    n_audio: int = 0
    n_audio_ok: int = 0
    n_lyrics: int = 0
    n_lyrics_ok: int = 0
    n_va: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def counts(self) -> Counter[str]:
        """Problem kind -> number of problems."""
        return Counter(p.kind for p in self.problems)

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.counts().items())) or "none"
        return (
            f"tracks {self.n_tracks}; audio {self.n_audio_ok}/{self.n_audio} readable; "
            f"lyrics {self.n_lyrics_ok}/{self.n_lyrics} readable; VA {self.n_va}; "
            f"errors {len(self.errors)}, warnings {len(self.warnings)} ({kinds})"
        )

    def format(self, *, limit: int | None = None) -> str:
        """The problems one per line (at most ``limit``), then the summary."""
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [p.format() for p in shown]
        if len(shown) < len(self.problems):
            lines.append(f"... {len(self.problems) - len(shown)} more")
        lines.append(self.summary())
        return "\n".join(lines)


def check_audio_file(path: str) -> tuple[str, str] | None:
    """None when ``path`` is a non-empty audio file with a readable header, else (kind, why).

    Reads the header only (``soundfile.info``, else PyAV's probe); never decodes the file.
    """
    file = Path(path)
    if not file.is_file():
        return ("audio_missing", "no such file")
    if file.stat().st_size == 0:
        return ("audio_empty", "empty file")
    import soundfile

    try:
        info = soundfile.info(str(file))
        if info.frames > 0 and info.samplerate > 0:
            return None
    except (RuntimeError, soundfile.LibsndfileError):
        pass
    return _probe_with_av(file)


def _probe_with_av(file: Path) -> tuple[str, str] | None:
    import av

    try:
        with av.open(str(file)) as container:
            if not container.streams.audio:
                return ("audio_unreadable", "no audio stream")
            stream = container.streams.audio[0]
            if not stream.codec_context.sample_rate:
                return ("audio_unreadable", "audio stream without a sample rate")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        return ("audio_unreadable", f"no readable header ({exc.__class__.__name__}: {exc})")
    return None


def check_lyrics_file(path: str) -> tuple[str, str, str] | None:
    """None for a readable non-empty UTF-8 text file, else (kind, why, severity)."""
    file = Path(path)
    if not file.is_file():
        return ("lyrics_missing", "no such file", ERROR)
    try:
        data = file.read_bytes()
    except OSError as exc:
        return ("lyrics_unreadable", f"cannot read ({exc.strerror})", ERROR)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            return ("lyrics_undecodable", f"neither UTF-8 nor cp1252 ({exc.reason})", ERROR)
        if text.strip():
            return ("lyrics_not_utf8", "not UTF-8 (decodes as cp1252)", WARNING)
    if not text.strip():
        return ("lyrics_empty", "empty lyrics file", WARNING)
    return None


def _check_labels(
    track: Track,
    *,
    va_range: tuple[float, float] | None,
    classes: Collection[str] | None,
    require_va: bool,
) -> list[Problem]:
    problems = []
    if not track.has_va:
        if require_va or (track.valence is None) != (track.arousal is None):
            problems.append(Problem(track.id, "va_missing", "no valence/arousal"))
    elif va_range is not None:
        low, high = va_range
        for name in ("valence", "arousal"):
            value = getattr(track, name)
            if not (math.isfinite(value) and low <= value <= high):
                problems.append(
                    Problem(track.id, "va_out_of_range", f"{name} {value} outside [{low}, {high}]")
                )
    if classes is not None and track.label not in classes:
        problems.append(Problem(track.id, "label_unknown", f"label {track.label!r} not in classes"))
    return problems


def _map(function: Callable[[str], R], paths: list[str], workers: int) -> list[R]:
    if workers <= 1 or len(paths) < 8:
        return [function(p) for p in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, paths))


def validate(
    tracks: Sequence[Track],
    *,
    check_audio: bool = True,
    check_lyrics: bool = True,
    require_audio: bool = False,
    require_va: bool = False,
    va_range: tuple[float, float] | None = VA_RANGE,
    classes: Collection[str] | None = None,
    workers: int = 2,
) -> ValidationReport:
    """Check every track; collect all problems.

    Parameters
    ----------
    tracks : the tracks to check
    check_audio, check_lyrics : probe the named files (headers only for audio)
    require_audio : a track without an audio path is an error (``audio_none``)
    require_va : a track without valence/arousal is an error (``va_missing``)
    va_range : inclusive (low, high) bounds for valence and arousal; None skips the check
        (use None for z-scored labels such as Deezer's)
    classes : when given, every ``label`` must be one of these (``label_unknown``)
    workers : threads probing files (I/O bound)

    Returns
    -------
    ValidationReport
    """
    report = ValidationReport(n_tracks=len(tracks))
    seen: Counter[str] = Counter(t.id for t in tracks)
    audio_paths = [t.audio for t in tracks if t.audio] if check_audio else []
    lyrics_paths = [t.lyrics for t in tracks if t.lyrics] if check_lyrics else []
    audio_results = dict(
        zip(audio_paths, _map(check_audio_file, audio_paths, workers), strict=True)
    )
    lyrics_results = dict(
        zip(lyrics_paths, _map(check_lyrics_file, lyrics_paths, workers), strict=True)
    )
    for track in tracks:
        report.problems.extend(_track_problems(track, audio_results, lyrics_results, report))
        report.problems.extend(
            _check_labels(track, va_range=va_range, classes=classes, require_va=require_va)
        )
        if require_audio and not track.audio:
            report.problems.append(Problem(track.id, "audio_none", "no audio file named"))
        report.n_va += track.has_va
    for track_id, count in sorted(seen.items()):
        if count > 1:
            report.problems.append(Problem(track_id, "duplicate_id", f"id used {count} times"))
    report.problems.extend(dataset_problems(tracks))
    return report


def dataset_problems(tracks: Sequence[Track]) -> list[Problem]:
    """What makes a set of tracks untrainable as a whole (``data validate`` and ``train``).

    No tracks (``empty``); valence or arousal the same for every track (``va_constant``:
    R² is undefined); every track in one quadrant of the VA plane, or with one label
    (``one_class``: a classifier scores macro-F1 1.0 by answering it). Each is an error.

    Parameters
    ----------
    tracks : the tracks (a manifest, or the train split)

    Returns
    -------
    problems : list of Problem, with ``track_id`` ``"*"`` (the whole set)
    """
    if not tracks:
        return [Problem("*", "empty", "no tracks")]
    problems = []
    with_va = [t for t in tracks if t.has_va]
    for name in ("valence", "arousal"):
        values = {getattr(t, name) for t in with_va}
        if len(with_va) > 1 and len(values) == 1:
            problems.append(Problem("*", "va_constant",
                                    f"{name} is {values.pop()} for all {len(with_va)} tracks"))
    points = [[t.valence, t.arousal] for t in with_va]
    quadrants = {QUADRANTS[int(i)] for i in quadrant_ids(points)} if points else set()
    labels = {t.label for t in tracks if t.label is not None}
    for kind, classes, n in (("quadrant", quadrants, len(with_va)),
                             ("label", labels, sum(t.label is not None for t in tracks))):
        if n > 1 and len(classes) == 1:
            problems.append(Problem("*", "one_class",
                                    f"all {n} tracks have one {kind} ({classes.pop()})"))
    return problems


def check_trainable(
    tracks: Sequence[Track], *, va_range: tuple[float, float] | None, source: str | Path
) -> None:
    """Refuse training tracks with a :func:`dataset_problems` or out-of-range VA.

    Parameters
    ----------
    tracks : the training tracks
    va_range : inclusive VA bounds (None: z-scores, unbounded)
    source : the manifest, named in the message

    Raises
    ------
    DataError
        One line: the number of problems, the first three, and the command that lists all.
    """
    problems = dataset_problems(tracks)
    for track in tracks:
        problems += _check_labels(track, va_range=va_range, classes=None, require_va=False)
    errors = [p for p in problems if p.severity == ERROR]
    if errors:
        shown = "; ".join(p.format().removeprefix("error: ") for p in errors[:3])
        raise DataError(f"{source}: not trainable, {len(errors)} problem(s): {shown} "
                        f"(all: moodnet data validate {source})")


def _track_problems(
    track: Track,
    audio_results: dict[str, AudioResult],
    lyrics_results: dict[str, LyricsResult],
    report: ValidationReport,
) -> list[Problem]:
    problems = []
    if track.audio:
        report.n_audio += 1
        if track.audio in audio_results:
            audio = audio_results[track.audio]
            if audio is None:
                report.n_audio_ok += 1
            else:
                problems.append(Problem(track.id, audio[0], audio[1], track.audio))
    if track.lyrics:
        report.n_lyrics += 1
        if track.lyrics in lyrics_results:
            lyrics = lyrics_results[track.lyrics]
            if lyrics is None or lyrics[2] == WARNING:
                report.n_lyrics_ok += 1
            if lyrics is not None:
                problems.append(Problem(track.id, lyrics[0], lyrics[1], track.lyrics, lyrics[2]))
    elif track.lyrics_text:
        report.n_lyrics += 1
        report.n_lyrics_ok += 1
    return problems
