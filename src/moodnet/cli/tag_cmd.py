"""``moodnet tag``: predict the mood of audio files and write it into their own tags."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moodnet.cli import add_device_option

if TYPE_CHECKING:
    from moodnet.tagging import TagOutcome

DESCRIPTION = """\
Predict the mood of audio files and write it into each file's own metadata: ID3 TXXX frames
and TMOO for MP3 (also WAV, AIFF), Vorbis comments for FLAC, Ogg and Opus, freeform atoms for
M4A. Keys: MOOD (happy, tense, sad or calm), VALENCE and AROUSAL (on [-1, 1], 3 decimals),
MOOD_QUADRANT (Q1..Q4) and MOODNET_MODEL (which model and version); see docs/tags.md.

Without --write nothing is written: it prints what it would write (a dry run).
"""

EPILOG = """\
A file is never damaged: a copy in its folder is tagged, read back, its audio stream compared
bit for bit with the original, and only then swapped in. A file that cannot be tagged (unknown
format, damaged, read-only) is reported and skipped (exit code 1). A rerun skips the files
already tagged by the same model version, so an interrupted run picks up where it stopped.

examples:
  moodnet tag music/                          # dry run: what would be written
  moodnet tag music/ --write                  # write the tags
  moodnet tag song.flac --lyrics song.lrc --write
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from moodnet.cli.predict_cmd import default_workers

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "tag", help="write the predicted mood into the audio files' tags (dry run by default)",
        description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="audio files, or folders searched recursively for audio files")
    parser.add_argument("--write", action="store_true",
                        help="write the tags (default: a dry run that writes nothing)")
    parser.add_argument("--force", action="store_true",
                        help="also retag files already tagged by this model version")
    parser.add_argument("--lyrics", type=Path, metavar="PATH",
                        help="a lyrics file (one track), a folder of .txt/.lrc files, or a "
                        "path,lyrics_path CSV")
    parser.add_argument("--model", metavar="NAME_OR_DIR",
                        help="shipped model name or training run directory (default: shipped)")
    parser.add_argument("--workers", type=int, default=default_workers(), metavar="N",
                        help="prediction processes (default: %(default)s)")
    add_device_option(parser)
    parser.set_defaults(func=run, usage_error=parser.error)
    return parser


def run(args: argparse.Namespace) -> int:
    from moodnet.cli.predict_cmd import find_audio, one_torch_thread
    from moodnet.predict import Predictor
    from moodnet.tagging import model_id, tag_files

    if args.workers < 1:
        args.usage_error(f"--workers must be >= 1, got {args.workers}")
    tracks, missing = find_audio(args.paths)
    if not tracks and not missing:
        args.usage_error(f"no audio files found in {' '.join(args.paths)}")
    for path in missing:
        _say(f"skipped {path}: no such file or folder")
    lyrics = _lyrics(args, tracks)
    one_torch_thread()
    predictor = Predictor.load(args.model, device=args.device)
    print(f"model: {model_id(predictor)}")
    counts: dict[str, int] = {}
    for outcome in tag_files(predictor, tracks, write=args.write, lyrics=lyrics,
                             force=args.force, workers=args.workers):
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        _show(outcome)
    failed = counts.get("failed", 0) + len(missing)
    _summary(counts, failed=failed, write=args.write)
    return 1 if failed else 0


def _lyrics(args: argparse.Namespace, tracks: list[str]) -> dict[str, str | Path] | None:
    if args.lyrics is None:
        return None
    from moodnet.errors import LyricsError
    from moodnet.lyrics.matching import lyrics_for_command

    try:
        return lyrics_for_command(tracks, args.lyrics, command="tag")
    except LyricsError as exc:
        args.usage_error(f"--lyrics: {exc}")
    return None


def _show(outcome: TagOutcome) -> None:
    if outcome.status == "failed":
        _say(f"skipped {outcome.path}: {outcome.problem}")
        return
    if outcome.status == "already tagged":
        print(f"{outcome.path}: already tagged by this model, skipped")
        return
    values = "  ".join(f"{k}={v}" for k, v in outcome.values.items())
    print(f"{outcome.path}: {outcome.status}  {values}")


def _summary(counts: dict[str, int], *, failed: int, write: bool) -> None:
    parts = [f"{counts.get('tagged', 0)} tagged" if write
             else f"{counts.get('would tag', 0)} would be tagged"]
    parts.append(f"{counts.get('already tagged', 0)} already tagged")
    parts.append(f"{failed} failed")
    _say(", ".join(parts) + ("" if write else "; dry run, nothing written (add --write)"))


def _say(text: str) -> None:
    print(f"moodnet tag: {text}", file=sys.stderr)
