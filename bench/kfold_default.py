"""The default recipe against today's shipped recipe and descriptor baselines, out of fold.

On all 450 4Q dev clips, in the 5 artist-disjoint folds of ``bench/kfold_4q.py`` (seed 0),
every recipe is fitted on four folds and predicts the fifth; every choice (C, output scale) is
made inside the training folds. Recipes:

* ``default``: the shipped fast model's recipe, patch descriptors + the distilled student's
  embedding -> linear head (:mod:`moodnet.training.fast`). The student was distilled on the
  MIREX-like audio only (no labels, no 4Q audio), so no 4Q clip is seen by any part of it.
* ``patch descriptors``: the same head on the patch descriptors alone.
* ``descriptors + musicnn teacher`` (with ``--teacher``): the same head with the teacher's own
  200-d embeddings (mean over the cached patches) in place of the student's: the ceiling of a
  perfect student, at musicnn's cost (about 20x the default model's); not shipped.
* ``librosa LR``: the model issue's classical baseline, a standardised logistic regression
  (C chosen by inner artist-grouped CV) per axis on 163 librosa descriptors
  (``bench/librosa_baseline.py``).
* ``musicnn head (previous shipped recipe)``: ``configs/shipped.yaml`` trained per fold
  (``bench/kfold_4q.py``), when ``--musicnn-cache`` is given.

Differences default - other come with paired bootstrap 95 % intervals (1000 resamples of
clips, seed 0). Also reported: Lin's CCC and the ratio of predicted to target standard
deviation per axis, and the class separations, on 4Q and (default recipe only) on MIREX-like
out-of-fold predictions.

Usage::

    python -m bench.kfold_default --4q work/4q.jsonl --mirex work/mirex.jsonl \\
        --cache work/fastcache --student work/student_mirex_w \\
        --teacher work/patch_cache/teacher-v1 [--musicnn-cache work/cache] \\
        --out docs/results/kfold_default.md

With ``--teacher`` the five fold students are distilled as the shipped one is (``--epochs``
and ``--channels`` default to :class:`DistillConfig` / :class:`StudentConfig`: 10 epochs,
256 channels; about 1.6 min each on 2 cores) and kept under
``CACHE/fold_students-<epochs>ep-<channels>``. ``--direction-weight W`` distils them instead
with extra weight W on the error along the fold's mood-head directions (a head fitted on the
fold's training clips over descriptors + teacher embeddings; ``distill(head_directions=...)``),
kept under ``...-dir<W>``. ``--augmented DIR ...`` (``bench/teacher_cache.py --augment K`` or
``--mix K``) adds those copies of the same tracks to every fold student's distillation (kept
under ``...-aug1``, ``...-aug1-mix1``, ... after the copy folders); the students without
them are then scored as ``moodnet-default-3``'s recipe, and ``--compare-augmented DIR ...``
scores students distilled with another set of copies beside (the previous shipped recipe).
The mixes' partners come from the MIREX-like set, which every fold student hears anyway.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from bench.librosa_baseline import cached_descriptors
from bench.report import git_commit, write_report
from moodnet.audio.patch_descriptors import descriptor_groups
from moodnet.data.manifest import read_manifest
from moodnet.data.splits import artist_folds
from moodnet.models.fast_head import va_from_logits
from moodnet.models.student import StudentConfig
from moodnet.training.distill import DistillConfig, distill
from moodnet.training.fast import concordance, fit_head, track_matrix
from moodnet.training.fast_train import sign_targets, track_features, va_targets

METRICS = ("auc_valence", "auc_arousal", "quadrant_accuracy")


def out_of_fold(x: np.ndarray | list, signs: np.ndarray, targets: np.ndarray, groups: np.ndarray,
                folds: np.ndarray, feature_groups: dict | None = None,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold logits, calibrated VA and uncalibrated VA (scale 1) of the linear head
    (``feature_groups``: the descriptor groups its inner CV may drop, in each training fold)."""
    logits = np.zeros((len(signs), 2))
    va = np.zeros((len(signs), 2))
    raw = np.zeros((len(signs), 2))
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        xf = x[fold] if isinstance(x, list) else x  # per-fold features (fold students)
        head, _ = fit_head(xf[train], signs[train], targets[train], groups=groups[train],
                           feature_groups=feature_groups)
        logits[test] = head.logits(xf[test])
        va[test] = va_from_logits(logits[test], head.scale)
        raw[test] = va_from_logits(logits[test], np.ones(2))
    return logits, va, raw


def scores(scores_v: np.ndarray, scores_a: np.ndarray, signs: np.ndarray,
           rows: np.ndarray | None = None) -> dict[str, float]:
    """AUC per axis and quadrant accuracy (quadrant = signs of the scores) on ``rows``."""
    rows = np.arange(len(signs)) if rows is None else rows
    s = signs[rows]
    quadrant_ok = ((scores_v[rows] > 0) == s[:, 0]) & ((scores_a[rows] > 0) == s[:, 1])
    return {
        "auc_valence": float(roc_auc_score(s[:, 0], scores_v[rows])),
        "auc_arousal": float(roc_auc_score(s[:, 1], scores_a[rows])),
        "quadrant_accuracy": float(quadrant_ok.mean()),
    }


def paired_intervals(ours: tuple, theirs: tuple, signs: np.ndarray, *, n: int = 1000,
                     seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """Difference ours - theirs per metric with a paired bootstrap 95 % interval."""
    rng = np.random.default_rng(seed)
    point = {k: scores(*ours, signs)[k] - scores(*theirs, signs)[k] for k in METRICS}
    samples: dict[str, list[float]] = {k: [] for k in METRICS}
    for _ in range(n):
        rows = rng.integers(0, len(signs), len(signs))
        if len(np.unique(signs[rows, 0])) < 2 or len(np.unique(signs[rows, 1])) < 2:
            continue
        a, b = scores(*ours, signs, rows), scores(*theirs, signs, rows)
        for k in METRICS:
            samples[k].append(a[k] - b[k])
    return {k: (point[k], *np.percentile(samples[k], [2.5, 97.5])) for k in METRICS}


def spread(va: np.ndarray, targets: np.ndarray, signs: np.ndarray) -> dict[str, float]:
    """CCC, std ratio and class separation per axis (predictions vs targets)."""
    out = {}
    for axis, name in enumerate(("valence", "arousal")):
        pos = signs[:, axis] == 1
        out[f"ccc_{name}"] = concordance(va[:, axis], targets[:, axis])
        out[f"std_ratio_{name}"] = float(va[:, axis].std() / targets[:, axis].std())
        out[f"separation_{name}"] = float(va[pos, axis].mean() - va[~pos, axis].mean())
        out[f"label_separation_{name}"] = float(
            targets[pos, axis].mean() - targets[~pos, axis].mean())
    return out


def fold_students(tracks, folds: np.ndarray, *, teacher: Path, extra_ids: list[str],
                  out: Path, epochs: int, channels: tuple[int, int, int],
                  directions: list[np.ndarray] | None = None,
                  direction_weight: float = 0.0, augmented: tuple[Path, ...] = ()) -> list[Path]:
    """One student per fold, distilled on the extra tracks' audio (MIREX-like) plus the audio
    of the fold's training tracks, and the ``augmented`` copies of the same tracks: no student
    hears its test fold. ``directions[k]`` (2, 200): fold k's head directions over raw teacher
    embeddings (:func:`head_directions`)."""
    dirs = []
    for fold in np.unique(folds):
        target = out / f"fold{fold}"
        if not (target / "student.safetensors").exists():
            ids = extra_ids + [t.id for t, f in zip(tracks, folds, strict=True) if f != fold]
            files = [folder / f"{i}.npz" for folder in (teacher, *augmented) for i in ids]
            distill(files, out_dir=target,
                    config=DistillConfig(epochs=epochs, direction_weight=direction_weight),
                    student=StudentConfig(channels=channels),
                    head_directions=None if directions is None else directions[fold])
        dirs.append(target)
    return dirs


def copies_suffix(folders: list[Path] | tuple[Path, ...]) -> str:
    """``-aug1-mix1`` for the copy folders ``teacher-v1-aug1`` and ``teacher-v1-mix1``."""
    return "".join("-" + f.name.split("-", 2)[-1] for f in folders)


def head_directions(x_desc: np.ndarray, teacher: np.ndarray, signs: np.ndarray,
                    targets: np.ndarray, groups: np.ndarray, folds: np.ndarray) -> list[np.ndarray]:
    """Per fold, the valence and arousal weight vectors over raw teacher embeddings of a head
    fitted on the fold's training clips over descriptors + mean teacher embeddings."""
    out = []
    for fold in np.unique(folds):
        train = folds != fold
        head, _ = fit_head(np.hstack([x_desc, teacher])[train], signs[train], targets[train],
                           groups=groups[train])
        n_desc = x_desc.shape[1]
        out.append((head.weights[n_desc:].T / head.std[n_desc:]).astype(np.float64))
    return out


def _teacher_mean(teacher: Path, track_id: str) -> np.ndarray:
    """Mean musicnn embedding of a track's cached patches (``bench/teacher_cache.py``)."""
    with np.load(teacher / f"{track_id}.npz") as data:
        return data["embeddings"].astype(np.float64).mean(axis=0)


def per_fold_features(tracks, folds: np.ndarray, students: list[Path], cache: Path) -> np.ndarray:
    """Track features where each fold's tracks are described by that fold's student; the
    training tracks of fold k are described by student k when fold k is fitted, so the
    matrix is returned per fold: (n_folds, n_tracks, n_features)."""
    return np.stack([
        track_matrix(track_features(tracks, cache_dir=cache, student_dir=student)[0])
        for student in students
    ])


def musicnn_out_of_fold(manifest: Path, cache: Path) -> dict[str, tuple]:
    """The previous shipped recipe (musicnn head) per fold, through bench.kfold_4q."""
    from bench.kfold_4q import out_of_fold as musicnn_folds

    return musicnn_folds(manifest, cache, n_folds=5, seed=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--4q", dest="fourq", type=Path, required=True)
    parser.add_argument("--mirex", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--student", type=Path, required=True)
    parser.add_argument("--musicnn-cache", type=Path)
    parser.add_argument("--teacher", type=Path,
                        help="teacher cache (bench/teacher_cache.py): distil one student per "
                        "fold on --mirex audio + the fold's training audio")
    parser.add_argument("--epochs", type=int, default=DistillConfig.epochs)
    parser.add_argument("--channels", type=int, nargs=3, default=StudentConfig.channels)
    parser.add_argument("--direction-weight", type=float, default=0.0,
                        help="distil the fold students with this extra weight on the error "
                        "along the fold's mood-head directions (0: the shipped recipe)")
    parser.add_argument("--augmented", type=Path, nargs="+", default=[],
                        help="augmented teacher caches of the same tracks (teacher-v1-aug<k>) "
                        "for the fold students (the shipped recipe)")
    parser.add_argument("--compare-augmented", type=Path, nargs="+", default=[],
                        help="also score fold students distilled with these copies instead "
                        "(the previous shipped recipe)")
    parser.add_argument("--descriptor-groups", action="store_true",
                        help="the default recipe's head drops descriptor groups by inner CV "
                        "(the shipped recipe since moodnet-default-5)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    chosen = descriptor_groups() if args.descriptor_groups else None
    started = time.perf_counter()

    tracks = read_manifest(args.fourq)
    folds_by_id = artist_folds(tracks, n_folds=5, seed=0)
    folds = np.array([folds_by_id[t.id] for t in tracks])
    groups = np.array([t.artist or t.id for t in tracks])
    signs, targets = sign_targets(tracks), None
    targets = va_targets(tracks, signs)
    features, _ = track_features(tracks, cache_dir=args.cache, student_dir=args.student)
    n_desc = features[0].shape[1] - 200
    x_default = track_matrix(features)
    x_desc = track_matrix([f[:, :n_desc] for f in features])
    lib = cached_descriptors([(t.id, str(t.audio)) for t in tracks], cache=args.cache)
    x_lib = np.stack([lib[t.id] for t in tracks]).astype(np.float64)

    results: dict[str, tuple] = {}
    logits, va_default, va_raw = out_of_fold(x_default, signs, targets, groups, folds)
    results["descriptors + MIREX student"] = (logits[:, 0], logits[:, 1])
    teacher = (np.stack([_teacher_mean(args.teacher, t.id) for t in tracks])
               if args.teacher else None)
    if teacher is not None and args.mirex:
        recipe = f"{args.epochs}ep-{'x'.join(map(str, args.channels))}"
        directions = None
        if args.direction_weight:
            recipe += f"-dir{args.direction_weight:g}"
            directions = head_directions(x_desc, teacher, signs, targets, groups, folds)
        extra_ids = [t.id for t in read_manifest(args.mirex)]

        def fold_features(augmented: tuple[Path, ...]) -> list[np.ndarray]:
            """Per-fold track features of fold students distilled with ``augmented``."""
            students = fold_students(
                tracks, folds, teacher=args.teacher, extra_ids=extra_ids,
                out=args.cache / f"fold_students-{recipe}{copies_suffix(augmented)}",
                epochs=args.epochs, channels=tuple(args.channels), directions=directions,
                direction_weight=args.direction_weight, augmented=augmented)
            return list(per_fold_features(tracks, folds, students, args.cache))

        x_shipped = fold_features(tuple(args.augmented))
        logits, va_default, va_raw = out_of_fold(x_shipped, signs, targets, groups, folds, chosen)
        named = {"default (descriptors + fold student, shipped recipe)":
                 (logits[:, 0], logits[:, 1])}
        if chosen:
            g_logits, _, _ = out_of_fold(x_shipped, signs, targets, groups, folds)
            named["the same without the descriptor-group choice (moodnet-default-4's recipe)"] = (
                g_logits[:, 0], g_logits[:, 1])
        if args.compare_augmented:
            c_logits, _, _ = out_of_fold(fold_features(tuple(args.compare_augmented)), signs,
                                         targets, groups, folds)
            named[f"the same with copies {copies_suffix(args.compare_augmented)[1:]} only "
                  "(the previous shipped recipe)"] = (c_logits[:, 0], c_logits[:, 1])
        if args.augmented:
            p_logits, _, _ = out_of_fold(fold_features(()), signs, targets, groups, folds)
            named["the same without augmented copies (moodnet-default-3's recipe)"] = (
                p_logits[:, 0], p_logits[:, 1])
        results = {**named, **results}
    if teacher is not None:
        t_logits, _, _ = out_of_fold(np.hstack([x_desc, teacher]), signs, targets, groups, folds,
                                     chosen)
        results["descriptors + musicnn teacher (a perfect student's ceiling; not shipped)"] = (
            t_logits[:, 0], t_logits[:, 1])
    desc_logits, _, _ = out_of_fold(x_desc, signs, targets, groups, folds)
    results["patch descriptors alone"] = (desc_logits[:, 0], desc_logits[:, 1])
    lib_logits, _, _ = out_of_fold(x_lib, signs, targets, groups, folds)
    results["librosa descriptors, LR (issue baseline)"] = (lib_logits[:, 0], lib_logits[:, 1])
    old_va = None
    if args.musicnn_cache:
        old = musicnn_out_of_fold(args.fourq, args.musicnn_cache)
        old_va = np.array([[old[t.id][0], old[t.id][1]] for t in tracks])
        results["musicnn head (previous shipped recipe)"] = (old_va[:, 0], old_va[:, 1])

    default_key = next(iter(results))
    channels = " ".join(map(str, args.channels))
    teacher_options = (f" --teacher TEACHER --channels {channels} --epochs {args.epochs}"
                       if args.teacher else "")
    if args.direction_weight:
        teacher_options += f" --direction-weight {args.direction_weight:g}"
    if args.descriptor_groups:
        teacher_options += " --descriptor-groups"
    for option, folders in (("augmented", args.augmented),
                            ("compare-augmented", args.compare_augmented)):
        if folders:
            teacher_options += f" --{option} " + " ".join(
                f"TEACHER{copies_suffix([f])}" for f in folders)
    lines = [
        f"# The default recipe out of fold on all {len(tracks)} 4Q dev clips\n",
        f"Command: `python -m bench.kfold_default --4q {args.fourq} --mirex {args.mirex} "
        f"--cache CACHE --student {args.student}"
        f"{teacher_options}"
        f"{' --musicnn-cache MCACHE' if args.musicnn_cache else ''} --out {args.out}` "
        f"(commit {git_commit()}; 5 artist-disjoint folds, seed 0; "
        f"{(time.perf_counter() - started) / 60:.1f} min on 2 cores).\n",
        "| recipe | AUC valence | AUC arousal | quadrant accuracy |", "|---|---|---|---|",
    ]
    for name, (sv, sa) in results.items():
        s = scores(sv, sa, signs)
        lines.append(f"| {name} | " + " | ".join(f"{s[k]:.3f}" for k in METRICS) + " |")
    lines += ["", "Chance: AUC 0.5; quadrant accuracy 0.25 (uniform), "
              f"{max(np.mean((signs == s).all(axis=1)) for s in np.unique(signs, axis=0)):.3f}"
              " (majority).", "", "## default minus each other recipe (paired bootstrap 95 %)",
              "", "| other | Δ AUC valence | Δ AUC arousal | Δ quadrant accuracy |",
              "|---|---|---|---|"]
    for name, other in results.items():
        if name == default_key:
            continue
        diff = paired_intervals(results[default_key], other, signs)
        lines.append(f"| {name} | " + " | ".join(
            f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]" for d, lo, hi in diff.values()) + " |")
    lines += ["", "## Use of the plane (out of fold)", "",
              "| predictions | CCC V | CCC A | std ratio V | std ratio A | separation V "
              "(labels) | separation A (labels) |", "|---|---|---|---|---|---|---|"]
    rows = [("4Q default, calibrated scale", va_default),
            ("4Q default, uncalibrated (scale 1)", va_raw)]
    if old_va is not None:
        rows.append(("4Q musicnn head (previous)", old_va))
    spreads = {}
    for name, va in rows:
        sp = spreads[name] = spread(va, targets, signs)
        lines.append(_spread_row(name, sp))
    if args.mirex:
        mirex = read_manifest(args.mirex)
        m_signs = sign_targets([_signs_from_va(t) for t in mirex])
        m_targets = va_targets(mirex, m_signs)
        m_folds_by_id = artist_folds(mirex, n_folds=5, seed=0)
        m_folds = np.array([m_folds_by_id[t.id] for t in mirex])
        m_groups = np.array([t.artist or t.id for t in mirex])
        m_features, _ = track_features(mirex, cache_dir=args.cache, student_dir=args.student)
        m_logits, m_va, m_raw = out_of_fold(track_matrix(m_features), m_signs, m_targets,
                                            m_groups, m_folds)
        for name, va in (("MIREX default, calibrated", m_va),
                         ("MIREX default, uncalibrated (scale 1)", m_raw)):
            spreads[name] = spread(va, m_targets, m_signs)
            lines.append(_spread_row(name, spreads[name]))
        m_scores = scores(m_logits[:, 0], m_logits[:, 1], m_signs)
        lines += ["", f"MIREX-like, {len(mirex)} clips, targets' signs: AUC valence "
                  f"{m_scores['auc_valence']:.3f}, arousal {m_scores['auc_arousal']:.3f}, "
                  f"quadrant accuracy {m_scores['quadrant_accuracy']:.3f}."]
    write_report(lines, args.out)
    args.out.with_suffix(".json").write_text(json.dumps({
        "scores": {k: scores(*v, signs) for k, v in results.items()}, "spread": spreads,
    }, indent=1) + "\n")
    return 0


def _signs_from_va(track):  # MIREX: the sign targets come from the tag-derived VA
    import dataclasses

    return dataclasses.replace(track, label=None)


def _spread_row(name: str, sp: dict[str, float]) -> str:
    return (f"| {name} | {sp['ccc_valence']:.3f} | {sp['ccc_arousal']:.3f} | "
            f"{sp['std_ratio_valence']:.2f} | {sp['std_ratio_arousal']:.2f} | "
            f"{sp['separation_valence']:.2f} ({sp['label_separation_valence']:.2f}) | "
            f"{sp['separation_arousal']:.2f} ({sp['label_separation_arousal']:.2f}) |")


if __name__ == "__main__":
    sys.exit(main())
