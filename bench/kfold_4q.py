"""Out-of-fold predictions on all 450 4Q dev clips (5 artist-disjoint folds) vs vibenet.

For each fold a musicnn-head model (the shipped recipe, ``configs/shipped.yaml``, audio only,
valence/arousal + quadrant) is trained on 3 folds, early-stopped on the next one, and the
held-out fold is predicted through the user-facing :class:`moodnet.Predictor`. Every clip is
thus predicted by a model that never saw its artist. vibenet's predictions of the same clips
are read from its own CSV (``vibenet predict DIR -f csv -q > vibenet.csv``, run in vibenet's
own virtual environment; GPL-3.0, only run).

Usage::

    moodnet data manifest 4q $MOODNET_DATA/4q_dev --lexicons $MOODNET_DATA/lexicons \\
        --out work/4q.jsonl
    moodnet extract work/4q.jsonl --cache work/cache --config configs/features_musicnn.yaml \\
        --no-descriptors
    python -m bench.kfold_4q --manifest work/4q.jsonl --cache work/cache \\
        --vibenet-csv vibenet.csv --out docs/results/kfold_4q.md
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.compare_vibenet import QUADRANTS, scores
from bench.compare_vibenet import quadrant_of as signs_quadrant
from moodnet.data.manifest import read_manifest, write_manifest
from moodnet.data.splits import apply_split, artist_folds, fold_split
from moodnet.predict import Predictor
from moodnet.predict.results import PredictionFailure
from moodnet.training import load_train_config, train

ROOT = Path(__file__).resolve().parents[1]


def out_of_fold(manifest: Path, cache: Path, *, n_folds: int, seed: int) -> dict[str, tuple]:
    tracks = read_manifest(manifest)
    folds = artist_folds(tracks, n_folds=n_folds, seed=seed)
    predictions: dict[str, tuple] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fold in range(n_folds):
            split_tracks = apply_split(tracks, fold_split(folds, test_fold=fold))
            fold_manifest = write_manifest(split_tracks, Path(tmp) / f"fold{fold}.jsonl")
            config = load_train_config(
                "shipped",  # the packaged src/moodnet/configs/shipped.yaml
                overrides=[
                    f"data.manifest={fold_manifest}",
                    f"data.cache_dir={cache}",
                    "model={name: musicnn_head, hidden: 64, dropout: 0.3}",
                    "progress=false",
                ],
            )
            run = train(config, out_dir=Path(tmp) / f"run{fold}")
            predictor = Predictor.load(run.run_dir, device="cpu")
            test = [t for t in split_tracks if t.split == "test" and t.audio is not None]
            for track, result in zip(
                test, predictor.predict_many([t.audio for t in test if t.audio]), strict=True
            ):
                if isinstance(result, PredictionFailure):
                    raise SystemExit(f"{result.path}: {result.error}")
                predictions[track.id] = (result.valence, result.arousal, result.quadrant)
            print(f"fold {fold}: {len(test)} clips predicted", flush=True)
    return predictions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--vibenet-csv", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    ours = out_of_fold(args.manifest, args.cache, n_folds=args.folds, seed=args.seed)
    minutes = (time.perf_counter() - started) / 60
    with args.vibenet_csv.open(newline="") as handle:
        theirs = {Path(r["path"]).stem: r for r in csv.DictReader(handle)}
    tracks = [t for t in read_manifest(args.manifest) if t.id in ours and t.id in theirs]
    truth = np.array([t.label for t in tracks])
    ov, oa = (np.array([ours[t.id][i] for t in tracks]) for i in (0, 1))
    oq = np.array([ours[t.id][2] for t in tracks])
    vv, va = (np.array([float(theirs[t.id][k]) for t in tracks]) for k in ("valence", "energy"))
    rows = {
        "moodnet (musicnn head, out-of-fold)": scores(ov, oa, oq, truth),
        "vibenet, thresholds 0.5": scores(vv, va, signs_quadrant(vv - 0.5, va - 0.5), truth),
    }
    majority = max((truth == q).mean() for q in QUADRANTS)
    lines = [
        f"# Out-of-fold on all {len(tracks)} 4Q dev clips: moodnet vs vibenet\n",
        f"Command: `python -m bench.kfold_4q --manifest {args.manifest} --cache CACHE "
        f"--vibenet-csv VIBENET_CSV --out {args.out}` ({args.folds} artist-disjoint, "
        f"quadrant-stratified folds, seed {args.seed}; {minutes:.1f} min on 2 cores).\n",
        "Each moodnet prediction comes from a model trained without the clip's fold (4Q "
        "only, no MIREX, audio only). vibenet's training data are not published: it may have "
        "seen some of these clips.\n",
        "| model | AUC arousal (Q1+Q2 vs Q3+Q4) | AUC valence (Q1+Q4 vs Q2+Q3) "
        "| quadrant accuracy |",
        "|---|---|---|---|",
    ]
    for name, result in rows.items():
        cells = [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, (lo, hi) in result.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        f"\nChance: AUC 0.5; quadrant accuracy uniform 0.25, majority {majority:.3f}. "
        "Intervals: 95 % bootstrap over clips, 1000 resamples, seed 0.\n"
    )
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
