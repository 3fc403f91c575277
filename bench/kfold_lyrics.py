"""Do lyrics pay? Audio-only vs audio + lyrics on the MIREX-like set, out of fold.

5 artist-disjoint folds over all 903 clips (``artist_folds``, seed 0). In each training part:
the default model's audio head (patch descriptors + student, :func:`fit_head`); the default
recipe's two lyrics heads, on all-MiniLM-L6-v2 embeddings and on VADER word-valence
statistics and line scores (:func:`moodnet.lyrics.features.sentiment_features`; the head's
inner CV may drop the line scores) of the usable lyrics; the
fusion weights and bias per axis (:func:`fit_fusion`) fitted on inner out-of-fold logits. A
test clip without usable lyrics gets exactly the audio answer. For the 5 MIREX clusters,
multinomial logistic regressions, one for the audio and one per lyrics branch, each with C
chosen by inner artist-grouped CV, and the fused answer stacked: a second logistic
regression over the branches' inner out-of-fold log-probabilities, fitted on the training
clips with lyrics.
Differences fused - audio with paired bootstrap 95 % intervals (1000 resamples, seed 0), on
all clips and on those with lyrics; the same for the MiniLM branch alone (the previous recipe).
With ``--lexicons``, also a research-only variant: the default recipe plus the Warriner/NRC-VAD
word-norm statistics as a third late branch (human ratings whose licences keep them out of
the package, so the default model cannot read them), against audio alone and the default.

A second table scores lyrics alone, one representation at a time, on the clips with lyrics
(same outer folds, C chosen by inner artist-grouped CV): MiniLM, VADER sentiment statistics,
TF-IDF, GloVe mean, and with ``--lexicons`` the Warriner/NRC-VAD statistics (research-only
norms: not shippable, so not in the default model); and the chance level of the whole
procedure: MiniLM with the training labels shuffled in every fold (scored on the true ones),
five permutations.

Usage::

    python -m bench.kfold_lyrics --mirex work/mirex.jsonl --cache work/fastcache \\
        --student src/moodnet/assets/models/default --lexicons ../shared/data/lexicons \\
        --out docs/results/kfold_lyrics.md
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
from moodnet.audio.patch_descriptors import descriptor_groups
from moodnet.core import MIREX_CLUSTERS
from moodnet.data.manifest import read_manifest
from moodnet.data.splits import artist_folds
from moodnet.labels.lexicon import load_lexicons
from moodnet.lyrics import (
    GloveVectors,
    fit_tfidf,
    lexicon_features,
    normalise_lyrics,
    read_lyrics,
    tokenise,
)
from moodnet.lyrics.features import SENTIMENT_GROUPS, SENTIMENT_WORD_FEATURES
from moodnet.lyrics.usable import lyrics_problem
from moodnet.models.fast_head import va_from_logits
from moodnet.training.fast import (
    LYRICS_C_GRID,
    concordance,
    fit_fusion,
    fit_head,
    out_of_fold_logits,
    track_matrix,
)
from moodnet.training.fast_train import (
    lyrics_branch_groups,
    lyrics_branch_inputs,
    sign_targets,
    track_features,
    va_targets,
)

C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
C_AUDIO_GRID = (0.01, 0.02, 0.05, 0.1, 0.2)


def _cluster_model(c: float = 0.05):
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000,
                                                              class_weight="balanced"))


def _oof_logprobs(x, y, groups, folds=3, c=0.05):
    out = np.zeros((len(x), len(MIREX_CLUSTERS)))
    for tr, te in GroupKFold(folds).split(x, y, groups):
        out[te] = _cluster_model(c).fit(x[tr], y[tr]).predict_log_proba(x[te])
    return out


def _macro_f1(y, log_probs):
    return f1_score(y, log_probs.argmax(1), average="macro")


def _best_c(x, y, groups, grid):
    """The C of ``grid`` with the best inner out-of-fold macro-F1 (artist-grouped folds)."""
    return max(grid, key=lambda c: _macro_f1(y, _oof_logprobs(x, y, groups, c=c)))


def _stacker():
    return LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")


def _paired(a, b, fn, rows_all, rng, n=1000):
    diffs = []
    for _ in range(n):
        rows = rng.choice(rows_all, len(rows_all))
        try:
            diffs.append(fn(a, rows) - fn(b, rows))
        except ValueError:
            continue
    return fn(a, rows_all) - fn(b, rows_all), *np.percentile(diffs, [2.5, 97.5])


def _interval(p, fn, rows_all, rng, n=1000):
    values = []
    for _ in range(n):
        rows = rng.choice(rows_all, len(rows_all))
        try:
            values.append(fn(p, rows))
        except ValueError:
            continue
    return fn(p, rows_all), *np.percentile(values, [2.5, 97.5])


def _branch_inputs(texts, has, cache):
    """The default recipe's lyrics inputs of every clip (zeros where no usable lyrics)."""
    usable = lyrics_branch_inputs([x for x, h in zip(texts, has, strict=True) if h],
                                  cache_dir=cache)
    out = [np.zeros((len(texts), x.shape[1]), dtype=x.dtype) for x in usable]
    for full, part in zip(out, usable, strict=True):
        full[has] = part
    return out


def _fold_fusion(x, branches, signs, targets, clusters, groups, tr, te, has):
    """One outer fold: audio and fused logits and cluster predictions of the test clips."""
    head, _ = fit_head(x[tr], signs[tr], targets[tr], groups=groups[tr],
                       feature_groups=descriptor_groups())
    trl, tel = tr[has[tr]], te[has[te]]
    oof_audio = out_of_fold_logits(x[trl], signs[trl], groups=groups[trl],
                                   feature_groups=descriptor_groups())
    choices = _branch_choices(len(branches))
    oof = [out_of_fold_logits(b[trl], signs[trl], groups=groups[trl], feature_groups=g,
                              c_grid=LYRICS_C_GRID)
           for b, g in zip(branches, choices, strict=True)]
    w, bias = fit_fusion(oof_audio, oof, signs[trl])
    audio_z = head.logits(x[te])
    fused_z = audio_z.copy()
    rows = np.isin(te, tel)
    dropped, head_cs = [], []
    for weight, b, g in zip(w, branches, choices, strict=True):
        branch_head, report = fit_head(b[trl], signs[trl], np.zeros((len(trl), 2)),
                                       groups=groups[trl], feature_groups=g,
                                       c_grid=LYRICS_C_GRID)
        fused_z[rows] += weight * branch_head.logits(b[tel])
        dropped += report.dropped_groups
        head_cs.append(report.c)
    fused_z[rows] += bias
    audio_c, fused_c, c = _fold_clusters(x, branches, clusters, groups, tr, te, has)
    return head, audio_z, fused_z, audio_c, fused_c, w, c, (dropped, head_cs)


def _branch_choices(n_branches: int) -> tuple:
    """The column groups each of ``n_branches`` lyrics branches' heads may drop: the default
    recipe's branches first, none for any further (research) branch."""
    default = lyrics_branch_groups()
    return (*default, *[None] * (n_branches - len(default)))[:n_branches]


def _fold_clusters(x, branches, clusters, groups, tr, te, has):
    """One outer fold's cluster predictions of the test clips: audio alone and audio + lyrics
    branches stacked (clips without lyrics keep the audio answer), every branch's C chosen by
    inner CV; and those Cs (audio first)."""
    c = _best_c(x[tr], clusters[tr], groups[tr], C_AUDIO_GRID)
    audio = _cluster_model(c).fit(x[tr], clusters[tr])
    audio_c = audio.predict(x[te])
    trl, tel = tr[has[tr]], te[has[te]]
    branch_cs = [_best_c(b[trl], clusters[trl], groups[trl], C_GRID) for b in branches]
    inner = [_oof_logprobs(x[trl], clusters[trl], groups[trl], c=c)]
    inner += [_oof_logprobs(b[trl], clusters[trl], groups[trl], c=bc)
              for b, bc in zip(branches, branch_cs, strict=True)]
    stacker = _stacker().fit(np.hstack(inner), clusters[trl])
    test = [audio.predict_log_proba(x[tel])]
    test += [_cluster_model(bc).fit(b[trl], clusters[trl]).predict_log_proba(b[tel])
             for b, bc in zip(branches, branch_cs, strict=True)]
    fused_c = audio_c.copy()
    fused_c[np.isin(te, tel)] = stacker.predict(np.hstack(test))
    return audio_c, fused_c, (c, *branch_cs)


def _fold_joint(x, branches, signs, targets, clusters, groups, tr, te, has, audio):
    """Mid-level (joint) fusion in one outer fold: one head on audio features and lyrics
    inputs side by side, fitted on the training clips with lyrics; test clips without lyrics
    keep the audio answer ``audio`` = (logits, va, predicted clusters)."""
    joint = np.hstack([x, *branches])
    trl, tel = tr[has[tr]], te[has[te]]
    rows = np.isin(te, tel)
    head, _ = fit_head(joint[trl], signs[trl], targets[trl], groups=groups[trl],
                       feature_groups=descriptor_groups())  # audio columns come first
    z, va, predicted = (a.copy() for a in audio)
    z[rows] = head.logits(joint[tel])
    va[rows] = va_from_logits(z[rows], head.scale)
    c = _best_c(joint[trl], clusters[trl], groups[trl], C_AUDIO_GRID)
    predicted[rows] = _cluster_model(c).fit(joint[trl], clusters[trl]).predict(joint[tel])
    return z, va, predicted


def _lyrics_only(rep, signs, clusters, groups, folds, rows_all, shuffle=None,
                 feature_groups=None):
    """Out-of-fold sign logits and cluster log-probabilities of one lyrics representation on
    the clips with lyrics (C by inner grouped CV); ``rep`` is a matrix or a function of the
    training rows giving (train matrix, all-rows matrix). With ``shuffle`` (a generator) the
    training labels are permuted among the training clips of every fold."""
    z = np.zeros((len(signs), 2))
    lp = np.zeros((len(signs), len(MIREX_CLUSTERS)))
    for fold in range(5):
        tr = rows_all[folds[rows_all] != fold]
        te = rows_all[folds[rows_all] == fold]
        x = rep(tr) if callable(rep) else rep
        labels = tr if shuffle is None else shuffle.permutation(tr)
        head, _ = fit_head(x[tr], signs[labels], np.zeros((len(tr), 2)), groups=groups[tr],
                           feature_groups=feature_groups, c_grid=LYRICS_C_GRID)
        z[te] = head.logits(x[te])
        c = _best_c(x[tr], clusters[labels], groups[tr], C_GRID)
        lp[te] = _cluster_model(c).fit(x[tr], clusters[labels]).predict_log_proba(x[te])
    return z, lp


def _representations(texts, tokens, has, emb, sent, norms):
    """The lyrics-only table's representations; ``norms``: :func:`_norm_statistics` or None."""
    glove = GloveVectors().vectors

    def mean_vector(words):
        found = [v for v in (glove.lookup(w)[0] for w in words) if v is not None]
        return np.mean(found, axis=0) if found else np.zeros(glove.dim)

    def tfidf(train_rows):
        vectoriser = fit_tfidf([texts[i] for i in train_rows])
        return vectoriser.transform(texts).toarray()

    reps = {
        "all-MiniLM-L6-v2 (default branch)": emb,
        "VADER word statistics and line scores, line scores chosen by inner CV "
        "(default branch)": (sent, SENTIMENT_GROUPS),
        "VADER word statistics only (moodnet-default-5's branch)":
            sent[:, :SENTIMENT_WORD_FEATURES],
        "MiniLM + VADER, one model": np.hstack([emb, sent]),
        "TF-IDF (fitted on the training folds)": tfidf,
        "GloVe 6B-50d mean": np.stack([mean_vector(t) if h else np.zeros(glove.dim)
                                       for t, h in zip(tokens, has, strict=True)]),
    }
    if norms is not None:
        reps["Warriner + NRC-VAD statistics (research only)"] = norms
    return reps


def _norm_statistics(tokens, has, lexicons) -> np.ndarray:
    """Per clip, :func:`lexicon_features` of its lyrics under each of the Warriner and NRC-VAD
    norms (zeros without usable lyrics)."""
    norms = load_lexicons(lexicons)
    found = [lexicon for lexicon in (norms.warriner, norms.nrc) if lexicon is not None]
    stats = np.zeros((len(tokens), 9 * len(found)))
    for i in np.flatnonzero(has):
        stats[i] = np.concatenate([lexicon_features(tokens[i], lexicon=lexicon)
                                   for lexicon in found])
    return stats


def mirex_lyrics_folds(manifest: Path) -> tuple:
    """The MIREX-like manifest's tracks, lyrics texts ("" without), which are usable, the
    sign targets, cluster indices, artist groups and 5 artist-disjoint folds (seed 0)."""
    tracks = read_manifest(manifest)
    texts = [read_lyrics(t.lyrics) if t.lyrics else "" for t in tracks]
    has = np.array([bool(x) and lyrics_problem(x) is None for x in texts])
    signs = sign_targets([dataclasses.replace(t, label=None) for t in tracks])
    clusters = np.array([MIREX_CLUSTERS.index(t.label) for t in tracks])
    groups = np.array([t.artist or t.id for t in tracks])
    fold_of = artist_folds(tracks, n_folds=5, seed=0)
    folds = np.array([fold_of[t.id] for t in tracks])
    return tracks, texts, has, signs, clusters, groups, folds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirex", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--student", type=Path, required=True)
    parser.add_argument("--lexicons", type=Path, help="Warriner/NRC-VAD folder (research rows)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    tracks, texts, has, signs, clusters, groups, folds = mirex_lyrics_folds(args.mirex)
    emb, sent = _branch_inputs(texts, has, args.cache)
    feats, _ = track_features(tracks, cache_dir=args.cache, student_dir=args.student)
    x = track_matrix(feats)
    targets = va_targets(tracks, signs)

    n = len(x)
    tokens = [tokenise(normalise_lyrics(t, collapse_repeats=False)) for t in texts]
    norms = _norm_statistics(tokens, has, args.lexicons) if args.lexicons else None
    variants = [("fused", [emb, sent]), ("minilm", [emb])]
    if norms is not None:  # research only: human word norms as a third late branch
        variants.append(("norms", [emb, sent, norms]))
    names = ("audio", "joint", *(name for name, _ in variants))
    out: dict[str, np.ndarray] = {
        f"{name}_{kind}": np.zeros((n, 2)) for name in names for kind in ("z", "va")}
    out.update({f"{name}_c": np.zeros(n, int) for name in names})
    weights, cluster_cs, line_scores_kept, sign_cs, norm_weights = [], [], [], [], []
    for fold in range(5):
        tr, te = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        for name, branches in variants:
            head, audio_z, fused_z, audio_c, fused_c, w, c, (dropped, head_cs) = _fold_fusion(
                x, branches, signs, targets, clusters, groups, tr, te, has)
            out[f"{name}_z"][te] = fused_z
            out[f"{name}_va"][te] = va_from_logits(fused_z, head.scale)
            out[f"{name}_c"][te] = fused_c
            if name == "fused":
                out["audio_z"][te] = audio_z
                out["audio_va"][te] = va_from_logits(audio_z, head.scale)
                out["audio_c"][te] = audio_c
                weights.append(w)
                cluster_cs.append(c)
                line_scores_kept.append("lines" not in dropped)
                sign_cs.append(head_cs)
                print(f"fold {fold}: fusion weights {np.round(w, 2).tolist()}, "
                      f"cluster Cs {c}", flush=True)
                audio_answer = (audio_z, out["audio_va"][te], audio_c)
            if name == "norms":
                norm_weights.append(w)
        z, va, lp = _fold_joint(x, [emb, sent], signs, targets, clusters, groups, tr, te, has,
                                audio_answer)
        out["joint_z"][te], out["joint_va"][te], out["joint_c"][te] = z, va, lp

    rng = np.random.default_rng(0)
    measures = {
        "5-cluster macro-F1": (lambda p, r: f1_score(clusters[r], p[r], average="macro"), "c"),
        "valence AUC": (lambda p, r: roc_auc_score(signs[r, 0], p[r, 0]), "z"),
        "arousal AUC": (lambda p, r: roc_auc_score(signs[r, 1], p[r, 1]), "z"),
        "valence CCC": (lambda p, r: concordance(p[r, 0], targets[r, 0]), "va"),
        "arousal CCC": (lambda p, r: concordance(p[r, 1], targets[r, 1]), "va"),
    }
    lines = [
        "# Lyrics on the MIREX-like set: audio + lyrics vs audio only, out of fold\n",
        f"Command: `python -m bench.kfold_lyrics --mirex {args.mirex} --cache CACHE --student "
        f"{args.student}{' --lexicons LEXICONS' if args.lexicons else ''} --out {args.out}` "
        f"(commit {git_commit()}; {{minutes}} min). {int(has.sum())} of {n} clips have usable "
        "lyrics. The student was distilled on these clips' audio (no labels); every head and "
        "fusion weight is fitted inside the training folds.\n",
        "Late fusion of calibrated branch logits: audio + w_m MiniLM (the previous recipe) and "
        "audio + w_m MiniLM + w_s VADER (**the default recipe**; VADER: word statistics and, "
        "where the branch's inner CV keeps them, line scores); for the clusters, the "
        "branches' log-probabilities stacked by a logistic regression fitted on inner "
        "out-of-fold predictions. Mid-level (joint) fusion: one head on the audio features and "
        "both lyrics inputs side by side.\n",
        "| measure | clips | audio only | late: + MiniLM | **late: + MiniLM + VADER** | "
        "joint | default - audio [95 % CI] | (+ MiniLM) - audio | joint - audio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (fn, kind) in measures.items():
        audio, fused, minilm, joint = (out[f"{k}_{kind}"]
                                       for k in ("audio", "fused", "minilm", "joint"))
        for label, rows in (("all", np.arange(n)), ("with lyrics", np.flatnonzero(has))):
            cells = [_paired(other, audio, fn, rows, rng) for other in (fused, minilm, joint)]
            lines.append(f"| {name} | {label} ({len(rows)}) | {fn(audio, rows):.3f} | "
                         f"{fn(minilm, rows):.3f} | {fn(fused, rows):.3f} | "
                         f"{fn(joint, rows):.3f} | "
                         + " | ".join(f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]" for d, lo, hi in cells)
                         + " |")
    w = np.array(weights)  # (folds, branches, axes)
    lines += ["", "Learned lyrics weights per fold, valence / arousal (MiniLM; VADER): "
              + "; ".join(f"{f[0, 0]:.2f}/{f[0, 1]:.2f}, {f[1, 0]:.2f}/{f[1, 1]:.2f}"
                          for f in w)
              + ". VADER line scores kept by the sentiment head's inner CV in "
              f"{sum(line_scores_kept)} of 5 folds. Lyrics sign heads' C per fold (inner CV "
              f"over {', '.join(f'{c:g}' for c in LYRICS_C_GRID)}; MiniLM, VADER; valence/"
              "arousal): " + "; ".join(", ".join("/".join(f"{c:g}" for c in cs) for cs in fold)
                                       for fold in sign_cs)
              + ". Cluster classifiers' C per fold (inner CV; audio, MiniLM, VADER): "
              + "; ".join("/".join(f"{c:g}" for c in cs) for cs in cluster_cs) + ". "
              "Chance: AUC 0.5; macro-F1 0.2 (uniform guess); the shuffled-label row below.", ""]
    if norms is not None:
        lines += _norms_table(out, measures, n, has, np.array(norm_weights), rng)
    lines += _lyrics_only_table(_representations(texts, tokens, has, emb, sent, norms),
                                signs, clusters, groups, folds, np.flatnonzero(has), rng)
    minutes = (time.perf_counter() - started) / 60
    write_report([line.replace("{minutes}", f"{minutes:.1f}") for line in lines], args.out)
    return 0


def _norms_table(out, measures, n, has, weights, rng) -> list[str]:
    """The research-only variant: the default recipe plus Warriner/NRC-VAD statistics as a
    third late branch, against audio alone and against the default recipe."""
    lines = [
        "## Research only: + Warriner/NRC-VAD word norms as a third late branch\n",
        "The default recipe's fusion with a third branch: the lexicon statistics of the table "
        "below (human ratings; their licences are research-only and their files cannot ship "
        "with moodnet, so the default model cannot read them). Same folds, the same inner "
        "choices; its fusion weight fitted like the others.\n",
        "| measure | clips | + norms | + norms - audio [95 % CI] | + norms - default [95 % CI] |",
        "|---|---|---|---|---|",
    ]
    for name, (fn, kind) in measures.items():
        norms, audio, fused = (out[f"{k}_{kind}"] for k in ("norms", "audio", "fused"))
        for label, rows in (("all", np.arange(n)), ("with lyrics", np.flatnonzero(has))):
            cells = [_paired(norms, other, fn, rows, rng) for other in (audio, fused)]
            lines.append(f"| {name} | {label} ({len(rows)}) | {fn(norms, rows):.3f} | "
                         + " | ".join(f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]" for d, lo, hi in cells)
                         + " |")
    lines += ["", "Its fusion weights per fold, valence / arousal (MiniLM; VADER; norms): "
              + "; ".join(", ".join(f"{b[0]:.2f}/{b[1]:.2f}" for b in fold) for fold in weights)
              + ".", ""]
    return lines


def _lyrics_only_table(reps, signs, clusters, groups, folds, rows, rng) -> list[str]:
    majority = np.bincount(clusters[rows]).argmax()
    majority_f1 = f1_score(clusters[rows], np.full(len(rows), majority), average="macro")
    lines = [
        f"## Lyrics alone, one representation at a time ({len(rows)} clips with lyrics)\n",
        "Value [95 % bootstrap CI] out of fold. Chance: AUC 0.5; macro-F1 0.2 (uniform guess), "
        f"{majority_f1:.3f} (majority cluster).\n",
        "| representation | valence AUC | arousal AUC | 5-cluster macro-F1 |",
        "|---|---|---|---|",
    ]
    auc = [lambda p, r, a=a: roc_auc_score(signs[r, a], p[r, a]) for a in (0, 1)]
    macro_f1 = lambda p, r: _macro_f1(clusters[r], p[r])  # noqa: E731
    for name, rep in reps.items():
        rep, choice = rep if isinstance(rep, tuple) else (rep, None)
        z, lp = _lyrics_only(rep, signs, clusters, groups, folds, rows, feature_groups=choice)
        cells = [_interval(z, fn, rows, rng) for fn in auc]
        cells.append(_interval(lp, macro_f1, rows, rng))
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f} [{lo:.3f}, {hi:.3f}]"
                                                 for v, lo, hi in cells) + " |")
        print(lines[-1], flush=True)
    lines.append(_shuffled_row(reps[next(iter(reps))], signs, clusters, groups, folds, rows,
                               [*auc, macro_f1]))
    return lines


def _shuffled_row(rep, signs, clusters, groups, folds, rows, measures, permutations=5) -> str:
    """The chance of the whole procedure: ``rep`` trained on labels permuted among the training
    clips of every fold (seeds 0..permutations-1), scored on the true ones; mean [lowest,
    highest] over the permutations."""
    scores = []
    for seed in range(permutations):
        z, lp = _lyrics_only(rep, signs, clusters, groups, folds, rows,
                             shuffle=np.random.default_rng(seed))
        scores.append([fn(p, rows) for fn, p in zip(measures, (z, z, lp), strict=True)])
    values = np.array(scores)
    return (f"| all-MiniLM-L6-v2, training labels shuffled: mean [lowest, highest] of "
            f"{permutations} permutations (chance of the procedure) | "
            + " | ".join(f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in
                         zip(values.mean(0), values.min(0), values.max(0), strict=True)) + " |")


if __name__ == "__main__":
    sys.exit(main())
