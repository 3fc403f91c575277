"""``moodnet predict``: mood of audio files or folders, written row by row and resumable."""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import re
import sys
import textwrap
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from moodnet.cli import add_device_option
from moodnet.core import quadrants_in_words

if TYPE_CHECKING:
    from moodnet.predict import Prediction, PredictionFailure

FORMATS = ("table", "csv", "json", "jsonl", "parquet")
ENGINES = ("local", "ray")
PLOT_SEGMENT_S = 3.0
"""Segment length of the over-time picture of ``--plot`` when ``--segments`` is not given."""
STREAMED_FORMATS = ("csv", "jsonl", "parquet")
PARQUET_ROWS_PER_PART = 10_000
"""Rows buffered before a Parquet part file is written (a kill loses at most these)."""
PARQUET_SECONDS_PER_PART = 60.0
"""...or the rows of this many seconds, whichever comes first."""

_QUADRANTS_HELP = textwrap.fill(
    f"Quadrants: {quadrants_in_words()}.", width=90, break_long_words=False, break_on_hyphens=False
)
DESCRIPTION = f"""\
Predict the mood of audio files (and their lyrics) with a trained model.

Valence and arousal are on the [-1, 1] scale: 0 is neutral, -1 the most negative / calmest,
+1 the most positive / most energetic (Warriner's 1-9 norms mapped with (x - 5) / 4).
{_QUADRANTS_HELP}
Mood words are the 3 of Russell's (1980) 28 affect words nearest to the prediction.
"""

EPILOG = """\
csv and jsonl are written one row per track as it finishes; rerunning with the same --output
skips the tracks already in it. parquet writes --output as a folder of part files (one per
10,000 rows or minute), resumable the same way. A file that cannot be read is reported on
stderr and skipped (exit code 1); usage errors exit with 2.

--engine ray runs the same prediction as a Ray Data pipeline (pip install 'moodnet[ray]'):
decoding in CPU tasks, the model in an actor pool; without --address on a local Ray instance
with every core of this machine. Rows are the local engine's, in the order they finish.

examples:
  moodnet predict song.mp3 --lyrics song.txt
  moodnet predict music/ --lyrics lyrics/ --format csv --output moods.csv --plot moods.png
  moodnet predict song.mp3 --segments 10 --format json
  moodnet predict --lyrics-only lyrics/ --format csv --output lyric_moods.csv
  moodnet predict /mnt/music --engine ray --address auto --format parquet --output moods.parquet
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "predict",
        help="mood (valence/arousal in [-1, 1], quadrant, mood words) of audio files",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="audio files, or folders searched recursively for audio files")
    parser.add_argument("--lyrics", type=Path, metavar="PATH",
                        help="a lyrics file (one track), a folder of .txt/.lrc files matched "
                        "by stem or trailing number, or a path,lyrics_path CSV")
    parser.add_argument("--lyrics-only", action="store_true",
                        help="PATHs are lyrics files (.txt/.lrc) or folders of them: predict "
                        "from the text alone (the default model's lyrics branch)")
    parser.add_argument("--model", metavar="NAME_OR_DIR",
                        help="shipped model name or training run directory (default: shipped)")
    parser.add_argument("--format", choices=FORMATS,
                        help="output format (default: from the --output suffix, else table)")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="write here instead of stdout (csv/jsonl: appended, resumable)")
    parser.add_argument("--segments", type=float, metavar="SECONDS",
                        help="also give valence/arousal for every SECONDS-long stretch (>= 1)")
    parser.add_argument("--plot", type=Path, metavar="FILE.png",
                        help="draw valence and arousal over time beside the valence/arousal "
                        "plane (one track), or a folder's tracks numbered on the plane; "
                        f"segments of {PLOT_SEGMENT_S:g} s unless --segments is given")
    parser.add_argument("--workers", type=int, default=default_workers(), metavar="N",
                        help="decoding processes; 1 decodes in the main process "
                        "(default: one per core, at most 4: %(default)s)")
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local: this machine's processes (default); ray: a Ray Data "
                        "pipeline on a Ray cluster (docs/scaling.md)")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --engine ray: the Ray cluster (auto, host:6379, "
                        "ray://host:10001); default: a local Ray instance")
    add_device_option(parser)
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="bfloat16 inference: faster on CPUs with AMX / AVX-512 BF16, outputs within ~1%%",
    )
    parser.set_defaults(func=run, usage_error=parser.error)
    return parser


def default_workers() -> int:
    """Decoding processes: one per core, at most 4.

    bench/bench_predict.py, 200 MP3s on 2 cores: idle, 2 decoding processes gave 63-67
    files/s against 52-56 in one process; with the cores busy with other work, 27 against 34.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cores or 1))


@dataclass
class _Plan:
    tracks: list[str]
    missing: list[str]
    lyrics: dict[str, str | Path] | None
    fmt: str


def one_torch_thread() -> None:
    """Run the model on one CPU thread: per-track batches are small, and a second intra-op
    thread made inference 10-30x slower when the cores were busy (bench/bench_predict.py)."""
    import torch

    torch.set_num_threads(1)


def run(args: argparse.Namespace) -> int:
    plan = _plan(args)
    from moodnet.predict import Predictor

    predictor = Predictor.load(args.model, device=args.device, bf16=args.bf16)
    if "torch" in sys.modules:  # a torch checkpoint (the default model runs without torch)
        one_torch_thread()
    columns = _columns(predictor.class_names, segments=args.segments is not None)
    previous, done = _previous(args, plan.fmt, columns)
    todo = [t for t in plan.tracks if os.path.realpath(t) not in done]
    if done:
        print(f"moodnet predict: {len(plan.tracks) - len(todo)} track(s) already in "
              f"{args.output}, {len(todo)} to go", file=sys.stderr)
    failed = len(plan.missing)
    for path in plan.missing:
        print(f"moodnet predict: skipped {path}: no such file or folder", file=sys.stderr)
    new: list[Prediction] = []
    results = _results(predictor, todo, plan, args)
    try:
        with _Writer(plan.fmt, args.output, columns=columns,
                     widths=_widths(plan.tracks)) as writer:
            for result in _progress(results, total=len(todo)):
                if isinstance(result, str):
                    failed += 1
                    _tqdm_write(f"moodnet predict: skipped {result}", sys.stderr)
                    continue
                writer.write(result if args.segments is not None
                             else dataclasses.replace(result, segments=()))
                new.append(result)
    finally:  # stops the worker processes at once, also on Ctrl-C
        results.close()
    if args.plot is not None and previous + new:
        from moodnet.predict.plot import plot_predictions

        with _writing(args.plot):
            written = plot_predictions(previous + new, path=args.plot,
                                       placements=predictor.mood_word_placements)
        print(f"moodnet predict: plot written to {written}", file=sys.stderr)
    if args.output is not None:
        print(f"moodnet predict: wrote {len(new)} row(s) to {args.output}", file=sys.stderr)
    if failed:
        print(f"moodnet predict: {failed} file(s) failed, {len(new)} predicted", file=sys.stderr)
    return 1 if failed else 0


def _plan(args: argparse.Namespace) -> _Plan:
    fmt = args.format or _format_from_suffix(args.output)
    if args.workers < 1:
        args.usage_error(f"--workers must be >= 1, got {args.workers}")
    if args.segments is not None and not args.segments >= 1.0:
        args.usage_error(f"--segments must be at least 1 second, got {args.segments}")
    if args.plot is not None and args.plot.suffix.lower() != ".png":
        args.usage_error(f"--plot must name a .png file, got {args.plot}")
    if args.address is not None and args.engine != "ray":
        args.usage_error("--address is for --engine ray")
    if args.engine == "ray" and args.lyrics_only:
        args.usage_error("--lyrics-only runs on the local engine (no audio to distribute)")
    if fmt == "parquet" and args.output is None:
        args.usage_error("--format parquet writes a folder of part files: give --output DIR")
    tracks, missing = (_find_lyrics_files if args.lyrics_only else find_audio)(args.paths)
    if not tracks and not missing:
        kind = "lyrics" if args.lyrics_only else "audio"
        args.usage_error(f"no {kind} files found in {' '.join(args.paths)}")
    _check_outputs(args, tracks, fmt=fmt)
    lyrics = None
    if args.lyrics is not None:
        from moodnet.errors import LyricsError
        from moodnet.lyrics.matching import lyrics_for_command

        try:
            lyrics = lyrics_for_command(tracks, args.lyrics, command="predict")
        except LyricsError as exc:
            args.usage_error(f"--lyrics: {exc}")
    return _Plan(tracks, missing, lyrics, fmt)


def _check_outputs(args: argparse.Namespace, tracks: Sequence[str], *, fmt: str) -> None:
    """Refuse an ``--output`` or ``--plot`` that is an input, could be audio or is no file
    (``--output`` of parquet: no folder of part files)."""
    inputs = {os.path.realpath(track) for track in tracks}
    for option, path in (("--output", args.output), ("--plot", args.plot)):
        if path is None:
            continue
        if option == "--output" and fmt == "parquet":
            problem = _parquet_output_problem(path, inputs)
        else:
            problem = _output_problem(path, inputs)
        if problem is not None:
            args.usage_error(f"{option} {path}: {problem}")


def _parquet_output_problem(path: Path, inputs: set[str]) -> str | None:
    if os.path.realpath(path) in inputs or path.is_file():
        return "is a file; --format parquet writes a folder of part files"
    if path.exists() and not path.is_dir():
        return "exists and is not a folder"
    if path.is_dir():
        others = sorted(p.name for p in path.iterdir()
                        if not p.name.startswith(".") and not _PART.fullmatch(p.name))
        if others:
            return (f"is a folder holding other files than part-NNNNNN.parquet "
                    f"({', '.join(others[:3])}); choose another --output")
    return None


def _output_problem(path: Path, inputs: set[str]) -> str | None:
    from moodnet.core import AUDIO_EXTENSIONS

    if os.path.realpath(path) in inputs:
        return "is one of the input files, which it would overwrite"
    if path.suffix.lower() in AUDIO_EXTENSIONS:
        return "has an audio extension (it would replace a song); name a .csv, .jsonl or .json"
    if path.is_dir():
        return "is a folder; name a file"
    if path.exists() and not path.is_file():
        return "exists and is not a regular file (a device, a FIFO)"
    return None


@contextlib.contextmanager
def _writing(path: Path | None) -> Iterator[None]:
    """An OSError while writing ``path`` as one-line :class:`FileProblem` (None: stdout)."""
    try:
        yield
    except OSError as exc:
        if path is None or isinstance(exc, BrokenPipeError):
            raise
        from moodnet.errors import FileProblem

        raise FileProblem(path, f"cannot be written ({exc.strerror or exc})") from None


def _format_from_suffix(output: Path | None) -> str:
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    return suffix if suffix in FORMATS else "table"


def find_audio(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Audio files named or found (recursively) under folders; and the paths that do not exist.

    Named files are taken whatever their extension; folders contribute files with an audio
    extension, sorted. Duplicates are dropped.
    """
    from moodnet.predict.predictor import is_audio_file

    tracks: list[str] = []
    missing: list[str] = []
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file() and is_audio_file(p))
        elif path.exists():
            found = [given]
        else:
            missing.append(given)
            continue
        for track in found:
            key = os.path.abspath(track)
            if key not in seen:
                seen.add(key)
                tracks.append(track)
    return tracks, missing


def _results(
    predictor: Any, todo: list[str], plan: _Plan, args: argparse.Namespace,
) -> Generator[Prediction | str, None, None]:
    from moodnet.predict import PredictionFailure

    if args.lyrics_only:
        yield from _lyrics_only_results(predictor, todo)
        return
    segments = PLOT_SEGMENT_S if args.segments is None and args.plot else args.segments
    if args.engine == "ray":
        from moodnet.predict.ray_engine import predict_on_ray

        results: Iterator[Prediction | PredictionFailure] = predict_on_ray(
            todo, model=args.model, lyrics=plan.lyrics, segments=segments, device=args.device,
            bf16=args.bf16, address=args.address)
    else:
        results = predictor.predict_many(todo, lyrics=plan.lyrics, workers=args.workers,
                                         segments=segments)
    try:
        for result in results:
            yield (f"{result.path}: {result.error}" if isinstance(result, PredictionFailure)
                   else result)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()


def _find_lyrics_files(paths: list[str]) -> tuple[list[str], list[str]]:
    """Lyrics files (.txt, .lrc) among ``paths``, folders searched recursively; and the
    paths that do not exist."""
    found, missing = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(str(p) for p in path.rglob("*")
                            if p.suffix.lower() in (".txt", ".lrc") and p.is_file())
        elif path.is_file():
            found.append(raw)
        else:
            missing.append(raw)
    return found, missing


def _lyrics_only_results(predictor: Any, todo: list[str]) -> Iterator[Prediction | str]:
    from moodnet.errors import MoodnetError
    from moodnet.lyrics.matching import lyrics_of_file

    for path in todo:
        try:
            yield predictor.predict_lyrics(lyrics_of_file(Path(path)), name=path)
        except MoodnetError as exc:
            yield f"{path}: {getattr(exc, 'problem', exc)}"


def _progress(results: Iterator[Any], *, total: int) -> Iterator[Any]:
    if total <= 1:
        yield from results
        return
    from tqdm import tqdm

    with tqdm(results, total=total, unit="track", file=sys.stderr, disable=None,
              dynamic_ncols=True) as bar:
        yield from bar


def _tqdm_write(text: str, stream: IO[str]) -> None:
    from tqdm import tqdm

    tqdm.write(text, file=stream)


# --- output -----------------------------------------------------------------------------------


def _columns(class_names: Sequence[str], *, segments: bool) -> list[str]:
    columns = ["path", "valence", "arousal", "quadrant"]
    columns += [f"p_{name}" for name in class_names]
    columns += ["mood_words", "used_lyrics", "model_id", "analysed_s"]
    return [*columns, "segments"] if segments else columns


def _round_keeping_sign(value: float, digits: int = 4) -> float:
    """Round, but never onto 0 from either side: the row's quadrant stays that of its
    (valence, arousal)."""
    rounded = round(value, digits)
    if rounded == 0 and value != 0:
        return math.copysign(10.0**-digits, value)
    return rounded


def _row(prediction: Prediction, columns: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "path": prediction.path,
        "valence": _round_keeping_sign(prediction.valence),
        "arousal": _round_keeping_sign(prediction.arousal),
        "quadrant": prediction.quadrant,
        "mood_words": "; ".join(prediction.mood_words),
        "used_lyrics": prediction.used_lyrics,
        "model_id": prediction.model_id,
        "analysed_s": prediction.analysed_s,
        "segments": json.dumps([[round(v, 4) for v in s] for s in prediction.segments]),
    }
    for name, p in prediction.class_probs.items():
        row[f"p_{name}"] = round(p, 4)
    return {column: row.get(column, "") for column in columns}


def _json_record(prediction: Prediction) -> dict[str, Any]:
    record = prediction.to_dict()
    record["valence"] = round(prediction.valence, 4)
    record["arousal"] = round(prediction.arousal, 4)
    record["class_probs"] = {k: round(v, 4) for k, v in prediction.class_probs.items()}
    record["segments"] = [
        {k: round(v, 4) for k, v in s._asdict().items()} for s in prediction.segments
    ]
    return record


def _widths(tracks: Sequence[str]) -> int:
    return min(max((len(t) for t in tracks), default=10), 60)


_PART = re.compile(r"part-(\d{6})\.parquet")


class _ParquetParts:
    """Rows of :func:`_row` into ``folder/part-NNNNNN.parquet`` files, each written whole and
    atomically once :data:`PARQUET_ROWS_PER_PART` rows or :data:`PARQUET_SECONDS_PER_PART`
    seconds have gathered; a rerun adds parts after the existing ones."""

    def __init__(self, folder: Path, columns: Sequence[str]) -> None:
        self.folder = folder
        self.schema = _parquet_schema(columns)
        self.rows: list[dict[str, Any]] = []
        self.since = time.monotonic()
        folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for p in folder.iterdir() if (m := _PART.fullmatch(p.name))]
        self.next = max(numbers, default=-1) + 1

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if (len(self.rows) >= PARQUET_ROWS_PER_PART
                or time.monotonic() - self.since >= PARQUET_SECONDS_PER_PART):
            self.flush()

    def flush(self) -> None:
        self.since = time.monotonic()
        if not self.rows:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(self.rows, schema=self.schema)
        target = self.folder / f"part-{self.next:06d}.parquet"
        temporary = self.folder / f".{target.name}.{os.getpid()}.tmp"
        try:
            pq.write_table(table, temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        self.next += 1
        self.rows = []


def _parquet_schema(columns: Sequence[str]) -> Any:
    import pyarrow as pa

    def kind(column: str) -> Any:
        if column in ("valence", "arousal", "analysed_s") or column.startswith("p_"):
            return pa.float64()
        return pa.bool_() if column == "used_lyrics" else pa.string()

    return pa.schema([(column, kind(column)) for column in columns])


@dataclass
class _Writer:
    fmt: str
    output: Path | None
    columns: list[str]
    widths: int
    _stream: IO[str] | None = None
    _csv: Any = None
    _json: list[dict[str, Any]] = field(default_factory=list)
    _header_written: bool = False
    _parquet: _ParquetParts | None = None

    def __enter__(self) -> _Writer:
        with _writing(self.output):
            return self._open()

    def _open(self) -> _Writer:
        if self.fmt == "json":
            return self
        if self.fmt == "parquet" and self.output is not None:
            self._parquet = _ParquetParts(self.output, self.columns)
            return self
        if self.output is None:
            self._stream = sys.stdout
        elif self.fmt == "table":  # written whole and atomically at the end
            self._stream = io.StringIO()
        else:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            append = self.fmt in STREAMED_FORMATS and self.output.exists()
            self._stream = self.output.open("a" if append else "w", encoding="utf-8",
                                            newline="")
        fresh = self.output is None or self._stream.tell() == 0
        if self.fmt == "csv":
            self._csv = csv.DictWriter(self._stream, fieldnames=self.columns,
                                       lineterminator="\n")
            if fresh:
                self._csv.writeheader()
        self._stream.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        with _writing(self.output):
            self._close()

    def _close(self) -> None:
        from moodnet.io_utils import atomic_write_text

        if self._parquet is not None:
            self._parquet.flush()
        elif self.fmt == "json":
            text = json.dumps(self._json, indent=2) + "\n"
            if self.output is None:
                sys.stdout.write(text)
            else:
                atomic_write_text(self.output, text)
        elif isinstance(self._stream, io.StringIO) and self.output is not None:
            atomic_write_text(self.output, self._stream.getvalue())
        elif self._stream is not None and self._stream is not sys.stdout:
            self._stream.close()

    def write(self, prediction: Prediction) -> None:
        if self.output is not None and self.fmt in STREAMED_FORMATS:
            # resolved paths: a resume from another folder recognises the rows
            prediction = dataclasses.replace(prediction, path=os.path.realpath(prediction.path))
        with _writing(self.output):
            self._write(prediction)

    def _write(self, prediction: Prediction) -> None:
        if self.fmt == "json":
            self._json.append(_json_record(prediction))
            return
        if self._parquet is not None:
            self._parquet.add(_row(prediction, self.columns))
            return
        if self.fmt == "csv":
            self._csv.writerow(_row(prediction, self.columns))
        elif self.fmt == "jsonl":
            self._out().write(json.dumps(_json_record(prediction)) + "\n")
        else:
            if not self._header_written:  # no header when every file failed
                self._emit(self._table_header())
                self._header_written = True
            self._emit(self._table_row(prediction))
        self._out().flush()

    def _out(self) -> IO[str]:
        if self._stream is None:
            raise RuntimeError("writer used outside its with-block")
        return self._stream

    def _emit(self, text: str) -> None:
        out = self._out()
        if out is sys.stdout:
            _tqdm_write(text, out)
        else:
            out.write(text + "\n")

    def _probs_columns(self) -> list[str]:
        return [c for c in self.columns if c.startswith("p_")]

    def _table_header(self) -> str:
        probs = "".join(f"{c[2:]:>8}" for c in self._probs_columns())
        return (f"{'path':<{self.widths}}  {'valence':>8}{'arousal':>8}  quad{probs}  lyrics  "
                "mood words")

    def _table_row(self, prediction: Prediction) -> str:
        path = prediction.path
        if len(path) > self.widths:
            path = "…" + path[-(self.widths - 1):]
        probs = "".join(f"{prediction.class_probs.get(c[2:], 0.0):>8.3f}"
                        for c in self._probs_columns())
        line = (f"{path:<{self.widths}}  {prediction.valence:>+8.3f}{prediction.arousal:>+8.3f}"
                f"  {prediction.quadrant:<4}{probs}  {'yes' if prediction.used_lyrics else 'no':<6}"
                f"  {', '.join(prediction.mood_words)}")
        segments = [
            f"{'':<{self.widths}}    {s.start_s:7.1f}-{s.end_s:<7.1f}s"
            f"{s.valence:>+8.3f}{s.arousal:>+8.3f}"
            for s in prediction.segments
        ]
        return "\n".join([line, *segments])


# --- resume -----------------------------------------------------------------------------------


def _resumable(args: argparse.Namespace, fmt: str) -> bool:
    if args.output is None or fmt not in STREAMED_FORMATS:
        return False
    return args.output.is_dir() if fmt == "parquet" else args.output.is_file()


def _previous(
    args: argparse.Namespace, fmt: str, columns: list[str],
) -> tuple[list[Prediction], set[str]]:
    """The predictions already in ``--output`` (what ``--plot`` draws beside the new ones)
    and the resolved paths they cover (skipped by this run)."""
    if not _resumable(args, fmt):
        return [], set()
    if fmt == "parquet":
        return _read_parquet_previous(args, columns)
    previous = _read_previous(args, fmt, columns)
    return previous, _done_paths(previous, output=args.output)


def _read_parquet_previous(
    args: argparse.Namespace, columns: list[str],
) -> tuple[list[Prediction], set[str]]:
    """Paths of a folder of part files (whole rows only with ``--plot``: a catalogue's
    predictions need not all be held in memory to be skipped)."""
    import pyarrow.parquet as pq

    output: Path = args.output
    parts = sorted(p for p in output.iterdir() if _PART.fullmatch(p.name))
    if not parts:
        return [], set()
    try:
        names = pq.read_schema(parts[0]).names
        if names != columns:
            args.usage_error(
                f"{output} has other columns ({', '.join(names)}) than this run "
                f"({', '.join(columns)}): another model or --segments; choose another --output"
            )
        table = pq.read_table(parts, columns=None if args.plot else ["path"])
    except (OSError, ValueError) as exc:
        args.usage_error(f"{output} is not a moodnet predict parquet folder to resume ({exc})")
    previous: list[Prediction] = []
    if args.plot:
        previous = [_prediction_from_row(row) for row in table.to_pylist()]
    done: set[str] = set()
    for path in table.column("path").to_pylist():
        done.add(os.path.realpath(path))
        done.add(os.path.realpath(output.parent / path))
    return previous, done


def _done_paths(previous: Sequence[Prediction], *, output: Path) -> set[str]:
    """Resolved paths of the rows already written: rows hold resolved paths; a relative one
    (an older file) is taken relative to the current folder and to the output's folder."""
    done: set[str] = set()
    for prediction in previous:
        done.add(os.path.realpath(prediction.path))
        done.add(os.path.realpath(output.parent / prediction.path))
    return done


def _read_previous(args: argparse.Namespace, fmt: str, columns: list[str]) -> list[Prediction]:
    """Predictions already in ``--output``; a torn last line (interrupted write) is cut off."""
    from moodnet.predict import Prediction

    output: Path = args.output
    _drop_torn_last_line(output)
    text = output.read_text(encoding="utf-8")
    try:
        if fmt == "jsonl":
            return [Prediction.from_dict(json.loads(line)) for line in text.splitlines() if line]
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is not None and list(reader.fieldnames) != columns:
            args.usage_error(
                f"{output} has other columns ({', '.join(reader.fieldnames)}) than this run "
                f"({', '.join(columns)}): another model or --segments; choose another --output"
            )
        return [_prediction_from_row(row) for row in reader]
    except (ValueError, KeyError, TypeError) as exc:
        args.usage_error(f"{output} is not a moodnet predict {fmt} file to resume ({exc})")
    return []


def _prediction_from_row(row: dict[str, Any]) -> Prediction:
    from moodnet.predict import Prediction

    return Prediction.from_dict({
        "path": row["path"],
        "valence": row["valence"],
        "arousal": row["arousal"],
        "quadrant": row["quadrant"],
        "class_probs": {k[2:]: v for k, v in row.items() if k.startswith("p_")},
        "mood_words": tuple(w for w in row.get("mood_words", "").split("; ") if w),
        "used_lyrics": row.get("used_lyrics") in ("True", True),
        "segments": row.get("segments") or [],
        "model_id": row.get("model_id", ""),
        "analysed_s": row.get("analysed_s") or 0.0,
    })


def _drop_torn_last_line(path: Path) -> None:
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    keep = data.rfind(b"\n") + 1
    with path.open("r+b") as handle:
        handle.truncate(keep)
