"""Compare moodnet's shipped model with the peer vibenet on held-out 4Q clips.

vibenet (GPL-3.0) is only *run*, as a separate program in its own virtual environment; none of
its code is imported here. Both tools predict every clip of the 4Q dev set (timed in one run);
metrics are computed on the clips of the test split of the manifest (never seen in training):

- AUC of arousal for Q1+Q2 vs Q3+Q4 (vibenet: its ``energy``),
- AUC of valence for Q1+Q4 vs Q2+Q3,
- quadrant accuracy (moodnet: its quadrant; vibenet: thresholds at 0.5, and thresholds fitted
  on the train split's clips, the better of the two reported),

each with a seeded 95 % bootstrap interval.

Usage::

    python -m venv /tmp/vibenet && /tmp/vibenet/bin/pip install vibenet
    python bench/compare_vibenet.py --manifest work/4q.jsonl \\
        --vibenet /tmp/vibenet/bin/vibenet --out docs/results/vibenet_4q.md
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

QUADRANTS = np.array(["Q1", "Q2", "Q3", "Q4"])


def quadrant_of(valence: np.ndarray, arousal: np.ndarray) -> np.ndarray:
    return np.where(
        valence > 0, np.where(arousal > 0, "Q1", "Q4"), np.where(arousal > 0, "Q2", "Q3")
    )


def run_timed(command: list[str], stdout_path: Path | None = None) -> float:
    start = time.perf_counter()
    if stdout_path is None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    else:
        with stdout_path.open("w") as handle:
            subprocess.run(command, check=True, stdout=handle)
    return time.perf_counter() - start


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {Path(row["path"]).stem: row for row in csv.DictReader(handle)}


def bootstrap(
    metric, *arrays: np.ndarray, n_boot: int = 1000, seed: int = 0
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    values = []
    for _ in range(n_boot):
        index = rng.integers(0, n, n)
        try:
            values.append(metric(*(a[index] for a in arrays)))
        except ValueError:  # a resample with one class only
            continue
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def scores(
    valence: np.ndarray, arousal: np.ndarray, quadrant_pred: np.ndarray, truth: np.ndarray
) -> dict:
    high_a = np.isin(truth, ["Q1", "Q2"]).astype(int)
    pos_v = np.isin(truth, ["Q1", "Q4"]).astype(int)
    result = {}
    for name, score, target in (("auc_arousal", arousal, high_a), ("auc_valence", valence, pos_v)):
        result[name] = (roc_auc_score(target, score), bootstrap(roc_auc_score, target, score))

    def acc(p: np.ndarray, t: np.ndarray) -> float:
        return float((p == t).mean())

    result["quadrant_accuracy"] = (acc(quadrant_pred, truth), bootstrap(acc, quadrant_pred, truth))
    return result


def fitted_thresholds(
    valence: np.ndarray, arousal: np.ndarray, truth: np.ndarray
) -> tuple[float, float]:
    grid = np.linspace(0.05, 0.95, 91)
    pos_v, high_a = np.isin(truth, ["Q1", "Q4"]), np.isin(truth, ["Q1", "Q2"])
    tv = grid[np.argmax([((valence > g) == pos_v).mean() for g in grid])]
    ta = grid[np.argmax([((arousal > g) == high_a).mean() for g in grid])]
    return float(tv), float(ta)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True, help="4Q manifest with splits")
    parser.add_argument("--vibenet", required=True, help="the vibenet executable (its own venv)")
    parser.add_argument("--model", default=None, help="moodnet model (default: shipped)")
    parser.add_argument("--out", type=Path, required=True, help="Markdown report to write")
    parser.add_argument("--bf16", action="store_true", help="run moodnet with --bf16")
    args = parser.parse_args()

    tracks = [json.loads(line) for line in args.manifest.read_text().splitlines() if line]
    audio_dir = Path(tracks[0]["audio"]).parent
    with tempfile.TemporaryDirectory() as tmp:
        ours_csv, theirs_csv = Path(tmp) / "moodnet.csv", Path(tmp) / "vibenet.csv"
        ours_cmd = [
            "moodnet",
            "predict",
            str(audio_dir),
            "--format",
            "csv",
            "--output",
            str(ours_csv),
        ]
        if args.model:
            ours_cmd += ["--model", args.model]
        if args.bf16:
            ours_cmd.append("--bf16")
        ours_s = run_timed(ours_cmd)
        theirs_s = run_timed(
            [args.vibenet, "predict", str(audio_dir), "-f", "csv", "-q"], theirs_csv
        )
        ours, theirs = read_rows(ours_csv), read_rows(theirs_csv)

    lines = [
        "# moodnet vs vibenet on the 4Q dev set\n",
        f"Command: `python bench/compare_vibenet.py "
        f"--manifest {args.manifest} --vibenet VIBENET --out {args.out}"
        f"{' --bf16' if args.bf16 else ''}`\n",
        f"All {len(ours)} / {len(theirs)} clips predicted (moodnet / vibenet); wall time on this "
        f"machine, one run each, same clips: moodnet {ours_s:.1f} s "
        f"({len(ours) / ours_s:.1f} clips/s), vibenet {theirs_s:.1f} s "
        f"({len(theirs) / theirs_s:.1f} clips/s).\n",
    ]
    train = [t for t in tracks if t["split"] in ("train", "validation") and t["id"] in theirs]
    tv, ta = fitted_thresholds(
        *(np.array([float(theirs[t["id"]][k]) for t in train]) for k in ("valence", "energy")),
        np.array([t["label"] for t in train]),
    )
    for split in ("test",):
        chosen = [
            t for t in tracks if t["split"] == split and t["id"] in ours and t["id"] in theirs
        ]
        truth = np.array([t["label"] for t in chosen])
        ov = np.array([float(ours[t["id"]]["valence"]) for t in chosen])
        oa = np.array([float(ours[t["id"]]["arousal"]) for t in chosen])
        oq = np.array([ours[t["id"]]["quadrant"] for t in chosen])
        vv = np.array([float(theirs[t["id"]]["valence"]) for t in chosen])
        va = np.array([float(theirs[t["id"]]["energy"]) for t in chosen])
        rows = {
            "moodnet (shipped, bf16)" if args.bf16 else "moodnet (shipped)": scores(
                ov, oa, oq, truth
            ),
            "vibenet, thresholds 0.5": scores(vv, va, quadrant_of(vv - 0.5, va - 0.5), truth),
            f"vibenet, thresholds fitted on train (V {tv:.2f}, A {ta:.2f})": scores(
                vv, va, quadrant_of(vv - tv, va - ta), truth
            ),
        }
        majority = max((truth == q).mean() for q in QUADRANTS)
        lines.append(f"## {split} split: {len(chosen)} clips (artist-disjoint from training)\n")
        lines.append(
            "| model | AUC arousal (Q1+Q2 vs Q3+Q4) | AUC valence (Q1+Q4 vs Q2+Q3) "
            "| quadrant accuracy |"
        )
        lines.append("|---|---|---|---|")
        for name, result in rows.items():
            cells = [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, (lo, hi) in result.values()]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append(
            f"\nChance: AUC 0.5; quadrant accuracy uniform 0.25, majority class "
            f"{majority:.3f}. Intervals: 95 % bootstrap, 1000 resamples, seed 0.\n"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
