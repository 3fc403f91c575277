"""Do predictions survive codecs? The default model on the same music in different encodings.

1. Every 4Q dev clip re-encoded with ffmpeg (libmp3lame) at 128 kbit/s 44.1 kHz stereo and at
   40 kbit/s 22.05 kHz mono; 2. the 10 untouched MIREX originals (128 kbit/s 44.1 kHz stereo)
   against their 40 kbit/s mono transcodes in the MIREX-like set. Reported per axis: Spearman
   correlation of the two encodings' predictions, the largest absolute difference, and the
   share of tracks whose quadrant agrees.

Usage::

    python -m bench.codec_check --clips $MOODNET_DATA/4q_dev/audio \\
        --originals $MOODNET_DATA/originals --transcodes $MOODNET_DATA/mirex_multimodal/audio \\
        --out docs/results/codec_check.md
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from bench.report import write_report
from moodnet.predict import Predictor

ENCODINGS = {"128k": ["-ac", "2", "-ar", "44100", "-b:a", "128k"],
             "40k": ["-ac", "1", "-ar", "22050", "-b:a", "40k"]}


def encode(source: Path, target: Path, options: list[str]) -> Path:
    subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-y", "-i",
                    str(source), *options, str(target)], check=True)
    return target


def agreement(a: list, b: list) -> dict[str, float]:
    va_a = np.array([[p.valence, p.arousal] for p in a])
    va_b = np.array([[p.valence, p.arousal] for p in b])
    out = {}
    for axis, name in enumerate(("valence", "arousal")):
        out[f"spearman_{name}"] = float(spearmanr(va_a[:, axis], va_b[:, axis]).statistic)
        out[f"max_diff_{name}"] = float(np.abs(va_a[:, axis] - va_b[:, axis]).max())
    out["quadrant_agreement"] = float(np.mean([p.quadrant == q.quadrant
                                               for p, q in zip(a, b, strict=True)]))
    return out


def _row(name: str, n: int, result: dict[str, float]) -> str:
    return (f"| {name} | {n} | {result['spearman_valence']:.3f} | "
            f"{result['spearman_arousal']:.3f} | {result['max_diff_valence']:.3f} | "
            f"{result['max_diff_arousal']:.3f} | {result['quadrant_agreement']:.3f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--originals", type=Path, required=True)
    parser.add_argument("--transcodes", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    predictor = Predictor.load()
    clips = sorted(args.clips.glob("*.mp3"))
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        versions = {}
        for name, options in ENCODINGS.items():
            folder = Path(tmp) / name
            folder.mkdir()
            files = list(pool.map(lambda c, f=folder, o=options: encode(c, f / c.name, o), clips))
            versions[name] = list(pool.map(predictor.predict, files))
    originals = sorted(args.originals.glob("mirex_*.mp3"))
    pairs = [(o, args.transcodes / f"{o.stem.removeprefix('mirex_')}.mp3") for o in originals]
    ours = [predictor.predict(o) for o, _ in pairs]
    theirs = [predictor.predict(t) for _, t in pairs]
    lines = [
        "# Predictions across encodings (default model)\n",
        f"Command: `python -m bench.codec_check --clips {args.clips} --originals "
        f"{args.originals} --transcodes {args.transcodes} --out {args.out}`; model "
        f"`{predictor.model_id}`.\n",
        "| pair of encodings | tracks | Spearman V | Spearman A | max abs diff V | "
        "max abs diff A | quadrant agreement |", "|---|---|---|---|---|---|---|",
        _row("4Q clips re-encoded: 128 kbit/s stereo vs 40 kbit/s mono", len(clips),
             agreement(versions["128k"], versions["40k"])),
        _row("MIREX originals (128 kbit/s stereo) vs their 40 kbit/s mono transcodes",
             len(pairs), agreement(ours, theirs)),
    ]
    write_report(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
