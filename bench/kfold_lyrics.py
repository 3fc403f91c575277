"""Do lyrics pay? Audio-only vs audio + lyrics on the MIREX-like set, out of fold.

5 artist-disjoint folds over all 903 clips (``artist_folds``, seed 0). In each training part:
the default model's audio head (patch descriptors + student, :func:`fit_head`); the lyrics
head on all-MiniLM-L6-v2 embeddings of the usable lyrics; the fusion weight and bias per axis
(:func:`fit_fusion`) fitted on inner out-of-fold logits of both. A test clip without usable
lyrics gets exactly the audio answer. For the 5 MIREX clusters the same scheme with
multinomial logistic regressions: audio log-probabilities + w x lyrics log-probabilities, w
chosen on inner out-of-fold predictions. Differences fused - audio with paired bootstrap 95 %
intervals (1000 resamples, seed 0), on all clips and on those with lyrics.

Usage::

    python -m bench.kfold_lyrics --mirex work/mirex.jsonl --cache work/fastcache \\
        --student work/student --out docs/results/kfold_lyrics.md
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bench.report import git_commit, write_report
from moodnet.core import MIREX_CLUSTERS
from moodnet.data.manifest import read_manifest
from moodnet.data.splits import artist_folds
from moodnet.lyrics import read_lyrics
from moodnet.lyrics.usable import lyrics_problem
from moodnet.models.fast_head import va_from_logits
from moodnet.training.fast import (
    concordance,
    fit_fusion,
    fit_head,
    out_of_fold_logits,
    track_matrix,
)
from moodnet.training.fast_train import lyrics_embeddings, sign_targets, track_features, va_targets

W_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def _cluster_model(c: float = 0.05):
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000,
                                                              class_weight="balanced"))


def _oof_logprobs(x, y, groups, folds=3):
    out = np.zeros((len(x), len(MIREX_CLUSTERS)))
    for tr, te in GroupKFold(folds).split(x, y, groups):
        out[te] = _cluster_model().fit(x[tr], y[tr]).predict_log_proba(x[te])
    return out


def _paired(a, b, fn, rows_all, rng, n=1000):
    diffs = []
    for _ in range(n):
        rows = rng.choice(rows_all, len(rows_all))
        try:
            diffs.append(fn(a, rows) - fn(b, rows))
        except ValueError:
            continue
    return fn(a, rows_all) - fn(b, rows_all), *np.percentile(diffs, [2.5, 97.5])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirex", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--student", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    tracks = read_manifest(args.mirex)
    texts = [read_lyrics(t.lyrics) if t.lyrics else "" for t in tracks]
    has = np.array([bool(x) and lyrics_problem(x) is None for x in texts])
    emb = np.zeros((len(tracks), 384), dtype=np.float32)
    emb[has] = lyrics_embeddings([x for x, h in zip(texts, has, strict=True) if h],
                                 cache_dir=args.cache)
    feats, _ = track_features(tracks, cache_dir=args.cache, student_dir=args.student)
    x = track_matrix(feats)
    signs = sign_targets([dataclasses.replace(t, label=None) for t in tracks])
    targets = va_targets(tracks, signs)
    clusters = np.array([MIREX_CLUSTERS.index(t.label) for t in tracks])
    groups = np.array([t.artist or t.id for t in tracks])
    fold_of = artist_folds(tracks, n_folds=5, seed=0)
    folds = np.array([fold_of[t.id] for t in tracks])

    audio_z, fused_z = np.zeros((len(x), 2)), np.zeros((len(x), 2))
    audio_va, fused_va = np.zeros((len(x), 2)), np.zeros((len(x), 2))
    audio_c, fused_c = np.zeros(len(x), int), np.zeros(len(x), int)
    weights = []
    for fold in range(5):
        tr, te = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        head, _ = fit_head(x[tr], signs[tr], targets[tr], groups=groups[tr])
        trl, tel = tr[has[tr]], te[has[te]]
        oof_audio = out_of_fold_logits(x[trl], signs[trl], groups=groups[trl])
        oof_lyr = out_of_fold_logits(emb[trl], signs[trl], groups=groups[trl])
        w, b = fit_fusion(oof_audio, oof_lyr, signs[trl])
        weights.append((w, b))
        lyr_head, _ = fit_head(emb[trl], signs[trl], np.zeros((len(trl), 2)), groups=groups[trl])
        audio_z[te] = head.logits(x[te])
        fused_z[te] = audio_z[te]
        fused_z[tel] += w * lyr_head.logits(emb[tel]) + b
        audio_va[te] = va_from_logits(audio_z[te], head.scale)
        fused_va[te] = va_from_logits(fused_z[te], head.scale)
        # clusters
        a_model = _cluster_model().fit(x[tr], clusters[tr])
        a_oof = _oof_logprobs(x[trl], clusters[trl], groups[trl])
        l_oof = _oof_logprobs(emb[trl], clusters[trl], groups[trl])
        best_w = max(W_GRID, key=lambda v: f1_score(
            clusters[trl], (a_oof + v * l_oof).argmax(1), average="macro"))
        l_model = _cluster_model().fit(emb[trl], clusters[trl])
        a_lp = a_model.predict_log_proba(x[te])
        audio_c[te] = a_lp.argmax(1)
        f_lp = a_lp.copy()
        f_lp[has[te]] += best_w * l_model.predict_log_proba(emb[tel])
        fused_c[te] = f_lp.argmax(1)
        print(f"fold {fold}: fusion w {np.round(w, 2)} b {np.round(b, 2)}, cluster w {best_w}",
              flush=True)

    rng = np.random.default_rng(0)
    measures = {
        "5-cluster macro-F1": (lambda p, r: f1_score(clusters[r], p[r], average="macro"),
                               audio_c, fused_c),
        "valence AUC": (lambda p, r: roc_auc_score(signs[r, 0], p[r, 0]), audio_z, fused_z),
        "arousal AUC": (lambda p, r: roc_auc_score(signs[r, 1], p[r, 1]), audio_z, fused_z),
        "valence CCC": (lambda p, r: concordance(p[r, 0], targets[r, 0]), audio_va, fused_va),
        "arousal CCC": (lambda p, r: concordance(p[r, 1], targets[r, 1]), audio_va, fused_va),
    }
    lines = [
        "# Lyrics on the MIREX-like set: audio + lyrics vs audio only, out of fold\n",
        f"Command: `python -m bench.kfold_lyrics --mirex {args.mirex} --cache CACHE --student "
        f"{args.student} --out {args.out}` (commit {git_commit()}; "
        f"{(time.perf_counter() - started) / 60:.1f} min). {int(has.sum())} of {len(tracks)} "
        "clips have usable lyrics. The student was distilled on these clips' audio (no labels).\n",
        "| measure | clips | audio only | audio + lyrics | difference [95 % CI] |",
        "|---|---|---|---|---|",
    ]
    for name, (fn, a, f) in measures.items():
        for label, rows in (("all", np.arange(len(x))), ("with lyrics", np.flatnonzero(has))):
            d, lo, hi = _paired(f, a, fn, rows, rng)
            lines.append(f"| {name} | {label} ({len(rows)}) | {fn(a, rows):.3f} | "
                         f"{fn(f, rows):.3f} | {d:+.3f} [{lo:+.3f}, {hi:+.3f}] |")
    w = np.array([w for w, _ in weights])
    lines += ["", "Learned lyrics weight per fold (valence, arousal): "
              + "; ".join(f"{a:.2f}, {b:.2f}" for a, b in w)
              + ". Chance: AUC 0.5; macro-F1 0.2 (uniform)."]
    write_report(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
