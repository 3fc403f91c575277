"""``moodnet demo``: synthesise four example clips, predict them, print and plot (offline)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from moodnet.cli import add_device_option

DESCRIPTION = """\
Synthesise four short clips written for the four quadrants of the valence/arousal plane
(happy/energetic, tense/angry, sad/calm, calm/content) with lyrics written for this demo,
predict their mood with the shipped model (with and without lyrics), print a table and draw
the valence/arousal plane as a PNG. Needs no network and no data. Valence and arousal are on
the [-1, 1] scale.
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="predict synthesised example clips (offline)", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="keep the clips and the plot in DIR (default: a temporary folder, "
                        "removed at the end)")
    parser.add_argument("--model", metavar="NAME_OR_DIR",
                        help="shipped model name or training run directory (default: shipped)")
    add_device_option(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    if args.out is not None:
        return _demo(args, out_dir=args.out)
    with tempfile.TemporaryDirectory(prefix="moodnet-demo-") as folder:
        code = _demo(args, out_dir=Path(folder))
    print("(the clips and the plot were in a temporary folder, now removed; "
          "moodnet demo --out DIR keeps them)")
    return code


def _demo(args: argparse.Namespace, *, out_dir: Path) -> int:
    from moodnet.cli.predict_cmd import one_torch_thread
    from moodnet.predict import Predictor
    from moodnet.predict.demo import demo_table, run_demo

    one_torch_thread()
    predictor = Predictor.load(args.model, device=args.device)
    result = run_demo(predictor, out_dir=out_dir)
    print(demo_table(result))
    if not predictor.uses_lyrics:
        print("(this model reads no lyrics: audio-only predictions)")
    if args.out is not None:
        print(f"\nclips and lyrics: {out_dir}")
        print(f"valence/arousal plane: {result.plot_path}")
    return 0
