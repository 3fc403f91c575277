"""How far lyrics move the shipped model's valence on real audio.

Draws ``--n`` clips from a folder (seeded), predicts each with the clearly positive and the
clearly negative lyrics written for the tests (``tests/predict_helpers.py``), and reports the
valence margin (positive minus negative) and the arousal change: minimum, median and maximum,
and the audio-only valence beside them.

Usage::

    PYTHONPATH=. python -m bench.lyrics_margin --clips $MOODNET_DATA/4q_dev/audio --n 40 \\
        --out docs/results/lyrics_margin.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tests.predict_helpers import HAPPY_LYRICS, SAD_LYRICS

from bench.report import git_commit, write_report
from moodnet.predict import Predictor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    files = sorted(args.clips.rglob("*.mp3"))
    if not files:
        raise SystemExit(f"{args.clips}: no MP3 files")
    chosen = np.random.default_rng(args.seed).choice(len(files), min(args.n, len(files)),
                                                     replace=False)
    predictor = Predictor.load()
    rows = []
    for index in sorted(chosen):
        path = files[index]
        happy = predictor.predict(path, lyrics=HAPPY_LYRICS)
        sad = predictor.predict(path, lyrics=SAD_LYRICS)
        audio = predictor.predict(path)
        rows.append((happy.valence - sad.valence, happy.arousal - sad.arousal, audio.valence))
    table = np.array(rows)
    lines = [
        "# Lyrics against audio: the shipped model's valence with positive vs negative lyrics\n",
        f"Command: `python -m bench.lyrics_margin --clips {args.clips} --n {args.n} --seed "
        f"{args.seed} --out {args.out}` (commit {git_commit()}; model `{predictor.model_id}`; "
        f"{(time.perf_counter() - started) / 60:.1f} min). {len(table)} clips drawn at random; "
        "each predicted with the clearly positive and the clearly negative lyrics of "
        "`tests/predict_helpers.py` (written for the project) and without lyrics.\n",
        "| quantity | min | median | max |",
        "|---|---|---|---|",
    ]
    for name, column in (("valence margin, positive - negative lyrics", 0),
                         ("arousal change, positive - negative lyrics", 1),
                         ("valence without lyrics", 2)):
        values = table[:, column]
        lines.append(f"| {name} | {values.min():+.3f} | {np.median(values):+.3f} | "
                     f"{values.max():+.3f} |")
    share = float((table[:, 0] >= 0.1).mean())
    lines += ["", f"Clips with a valence margin of at least 0.1: {share:.0%}."]
    write_report(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
