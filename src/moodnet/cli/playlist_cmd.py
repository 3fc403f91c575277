"""``moodnet playlist``: an M3U playlist of the tracks of one mood, from ``moodnet predict``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from moodnet.core import QUADRANT_WORDS, QUADRANTS

_QUADRANTS = ", ".join(f"{q} {' / '.join(QUADRANT_WORDS[q])}" for q in QUADRANTS)
DESCRIPTION = f"""\
Write an extended M3U playlist from the results of moodnet predict (a --format csv or jsonl
--output file): the tracks of one quadrant (--quadrant), strongest first, or the N tracks
nearest to a point of the valence/arousal plane (--near V,A --count N), nearest first.
Valence and arousal are on the [-1, 1] scale; quadrants: {_QUADRANTS}.
"""

EPILOG = """\
Track paths in the playlist are relative to the playlist's folder. Without --output the
playlist goes to stdout with absolute paths.

examples:
  moodnet predict music/ --output moods.csv
  moodnet playlist moods.csv --quadrant Q4 --output calm.m3u
  moodnet playlist moods.csv --near 0.6,0.6 --count 20 --output party.m3u
"""

DEFAULT_NEAR_COUNT = 20


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "playlist", help="M3U playlist of one mood from moodnet predict's csv/jsonl results",
        description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", type=Path, metavar="FILE",
                        help="a moodnet predict --output file (.csv or .jsonl)")
    choose = parser.add_mutually_exclusive_group(required=True)
    choose.add_argument("--quadrant", metavar="Q",
                        help="Q1..Q4, or one of its words (" + ", ".join(
                           w for q in QUADRANTS for w in QUADRANT_WORDS[q]) + ")")
    choose.add_argument("--near", metavar="V,A",
                        help="valence,arousal in [-1, 1], e.g. 0.6,-0.4")
    parser.add_argument("--count", type=int, metavar="N",
                        help="at most N tracks (default: all for --quadrant, "
                        f"{DEFAULT_NEAR_COUNT} for --near)")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="the .m3u / .m3u8 file to write (default: stdout)")
    parser.set_defaults(func=run, usage_error=parser.error)
    return parser


def run(args: argparse.Namespace) -> int:
    from moodnet.errors import ParameterError
    from moodnet.predict.playlist import (
        by_quadrant,
        m3u_text,
        near,
        parse_quadrant,
        read_results,
        write_m3u,
    )

    if args.count is not None and args.count < 1:
        args.usage_error(f"--count must be >= 1, got {args.count}")
    if args.output is not None and args.output.suffix.lower() not in (".m3u", ".m3u8"):
        args.usage_error(f"--output must name a .m3u or .m3u8 file, got {args.output}")
    try:
        point = _point(args.near) if args.near is not None else None
        rows = read_results(args.results)
        if point is None:
            chosen = by_quadrant(rows, quadrant=parse_quadrant(args.quadrant), count=args.count)
        else:
            chosen = near(rows, point=point, count=args.count or DEFAULT_NEAR_COUNT)
    except ParameterError as exc:
        args.usage_error(str(exc))
    missing = [r for r in chosen if not r.found]
    if missing:
        _say(f"{len(missing)} of the chosen tracks are not found on disk (first: "
             f"{missing[0].path}); they stay in the playlist")
    if not chosen:
        _say(f"no track of {args.results} is in {args.quadrant}; no playlist written")
        return 1
    if args.output is None:
        sys.stdout.write(m3u_text(chosen, folder=None))
    else:
        write_m3u(chosen, path=args.output)
        _say(f"wrote {len(chosen)} of {len(rows)} track(s) to {args.output}")
    return 0


def _point(text: str) -> tuple[float, float]:
    from moodnet.errors import ParameterError

    try:
        valence, arousal = (float(part) for part in text.split(","))
    except ValueError:
        raise ParameterError(f"--near {text!r}: expected VALENCE,AROUSAL, e.g. 0.6,-0.4") from None
    if not all(-1.0 <= v <= 1.0 for v in (valence, arousal)):
        raise ParameterError(f"--near {text!r}: valence and arousal must be in [-1, 1]")
    return valence, arousal


def _say(text: str) -> None:
    print(f"moodnet playlist: {text}", file=sys.stderr)
