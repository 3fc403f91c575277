"""Emotion over time against PMEmo's 2 Hz dynamic annotations (the 4 shared sample clips).

The default model's 3 s segments of each chorus clip are compared with the mean of the
annotations inside each segment (PMEmo annotates from 15 s on): Pearson correlation per clip
and axis. Four clips, so this is a sanity check, not a benchmark.

Usage::

    python -m bench.pmemo_over_time --pmemo $MOODNET_DATA/pmemo_samples \\
        --out docs/results/pmemo_over_time.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from bench.report import write_report
from moodnet.predict import Predictor

SEGMENT_S = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pmemo", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    predictor = Predictor.load()
    lines = [
        "# Over time: default model vs PMEmo dynamic annotations\n",
        f"Command: `python -m bench.pmemo_over_time --pmemo {args.pmemo} --out {args.out}`; "
        f"model `{predictor.model_id}`; {SEGMENT_S:g} s segments; annotations (0-1, 2 Hz) "
        "averaged per segment; Pearson r per clip (audio only).\n",
        "| clip | segments | r valence | r arousal | annotation range V / A "
        "| prediction range V / A |",
        "|---|---|---|---|---|---|",
    ]
    for meta_path in sorted(args.pmemo.glob("[0-9]*.json")):
        meta = json.loads(meta_path.read_text())
        dynamic = meta["dynamic"]
        t, v, a = (np.asarray(dynamic[k], dtype=float) for k in ("t", "v", "a"))
        result = predictor.predict(meta_path.with_suffix(".mp3"), segments=SEGMENT_S)
        rows = []
        for s in result.segments:
            inside = (t >= s.start_s) & (t < s.end_s)
            if inside.any():
                rows.append((s.valence, s.arousal, v[inside].mean(), a[inside].mean()))
        p = np.array(rows)
        r_v = np.corrcoef(p[:, 0], p[:, 2])[0, 1]
        r_a = np.corrcoef(p[:, 1], p[:, 3])[0, 1]
        lines.append(
            f"| {meta['id']} {meta['artist']} – {meta['title']} | {len(p)} | {r_v:+.2f} | "
            f"{r_a:+.2f} | {np.ptp(p[:, 2]):.2f} / {np.ptp(p[:, 3]):.2f} | "
            f"{np.ptp(p[:, 0]):.2f} / {np.ptp(p[:, 1]):.2f} |")
    write_report(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
