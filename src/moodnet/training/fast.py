"""Fit the default model's linear head (:class:`moodnet.models.fast_head.LinearHead`).

Per axis, an L2 logistic regression on standardised track features (the mean of the track's
patch features) predicts the sign of valence and of arousal; its strength ``C`` is chosen by
an artist-grouped inner cross-validation on the training tracks only (ROC AUC). The output
scale of ``tanh(scale * z)`` is fitted on the inner out-of-fold logits (never on in-sample
ones, which are over-confident) to maximise Lin's concordance with the tracks' valence/arousal
targets, so that predictions use the plane as the targets do.

Optionally (``feature_groups``, :func:`moodnet.audio.patch_descriptors.descriptor_groups`) the
inner cross-validation also chooses which groups of patch descriptors the head reads: one
backward pass over the groups drops each one whose removal raises the inner AUC (mean of the
two axes). A dropped group's columns get weight 0, so the head keeps its shape (and inference
leaves the skippable ones uncomputed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from moodnet.errors import DataError
from moodnet.models.fast_head import LinearHead

C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)
LYRICS_C_GRID = (0.0003, 0.001, *C_GRID)
"""C for the lyrics heads: with 384 MiniLM dimensions and a few hundred tracks their inner CV
chose C_GRID's lowest value, so the search goes further down."""
SCALE_GRID = tuple(np.round(np.geomspace(0.05, 3.0, 60), 4))


@dataclass(frozen=True)
class HeadReport:
    """What :func:`fit_head` chose: per axis (valence, arousal) C, scale, inner AUC and CCC."""

    c: tuple[float, float]
    scale: tuple[float, float]
    inner_auc: tuple[float, float]
    inner_ccc: tuple[float, float]
    dropped_groups: tuple[str, ...] = ()


def track_matrix(patch_features: Sequence[np.ndarray]) -> np.ndarray:
    """Mean patch features of each track: (n_tracks, n_features)."""
    return np.stack([np.asarray(p, dtype=np.float64).mean(axis=0) for p in patch_features])


def concordance(x: np.ndarray, y: np.ndarray) -> float:
    """Lin's concordance correlation coefficient of two 1-D arrays."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    covariance = np.mean((x - x.mean()) * (y - y.mean()))
    denominator = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    return float(2 * covariance / denominator) if denominator > 0 else 0.0


def fit_head(
    features: np.ndarray,
    signs: np.ndarray,
    targets: np.ndarray,
    *,
    groups: np.ndarray,
    inner_folds: int = 3,
    feature_groups: Mapping[str, np.ndarray] | None = None,
    c_grid: Sequence[float] = C_GRID,
) -> tuple[LinearHead, HeadReport]:
    """Fit the linear head on track features.

    Parameters
    ----------
    features : np.ndarray [shape=(n_tracks, n_features)], :func:`track_matrix`
    signs : np.ndarray [shape=(n_tracks, 2)], 0/1: valence > 0, arousal > 0 (from quadrant
        labels where they exist)
    targets : np.ndarray [shape=(n_tracks, 2)], valence/arousal on [-1, 1] for the scale
    groups : np.ndarray [shape=(n_tracks,)], artists (inner folds never split one)
    feature_groups : column indices of groups the inner CV may drop
        (:func:`moodnet.audio.patch_descriptors.descriptor_groups`)
    c_grid : the values of C the inner CV chooses from

    Raises
    ------
    DataError
        An axis has a single class, or fewer tracks than inner folds x 2.
    """
    features = np.asarray(features, dtype=np.float64)
    mean, std = features.mean(axis=0), features.std(axis=0)
    std = np.where(std > 1e-8, std, 1.0)
    z = (features - mean) / std
    dropped: list[str] = []
    if feature_groups:
        dropped = _dropped_groups(z, signs, groups, feature_groups, inner_folds, c_grid)
        for name in dropped:
            mean[feature_groups[name]], std[feature_groups[name]] = 0.0, 1.0
            z[:, feature_groups[name]] = 0.0  # weight 0 under the L2 penalty
    weights, bias, cs, scales, aucs, cccs = [], [], [], [], [], []
    for axis in range(2):
        y = np.asarray(signs[:, axis], dtype=int)
        if len(np.unique(y)) < 2 or len(y) < 2 * inner_folds:
            raise DataError(f"axis {axis}: need both signs and >= {2 * inner_folds} tracks")
        c, oof, auc = _choose_c(z, y, groups, inner_folds, c_grid)
        scale, ccc = _choose_scale(oof, targets[:, axis])
        model = _logistic(c).fit(z, y)
        weights.append(model.coef_[0])
        bias.append(model.intercept_[0])
        cs.append(c)
        scales.append(scale)
        aucs.append(auc)
        cccs.append(ccc)
    head = LinearHead(
        mean=mean.astype(np.float32), std=std.astype(np.float32),
        weights=np.stack(weights, axis=1).astype(np.float32),
        bias=np.array(bias, dtype=np.float32), scale=np.array(scales, dtype=np.float32),
    )
    return head, HeadReport(tuple(cs), tuple(scales), tuple(aucs), tuple(cccs),  # type: ignore[arg-type]
                            tuple(dropped))


def _dropped_groups(z: np.ndarray, signs: np.ndarray, groups: np.ndarray,
                    feature_groups: Mapping[str, np.ndarray], folds: int,
                    c_grid: Sequence[float]) -> list[str]:
    """One backward pass: drop each group whose removal raises the inner AUC (both axes)."""
    def inner_auc(columns: np.ndarray) -> float:
        return float(np.mean([_choose_c(z[:, columns], np.asarray(signs[:, axis], dtype=int),
                                        groups, folds, c_grid)[2] for axis in range(2)]))

    kept = np.arange(z.shape[1])
    best, dropped = inner_auc(kept), []
    for name, columns in feature_groups.items():
        trial = np.setdiff1d(kept, columns)
        score = inner_auc(trial)
        if score > best:
            kept, best = trial, score
            dropped.append(name)
    return dropped


def _logistic(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000)


def _choose_c(
    z: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int, c_grid: Sequence[float]
) -> tuple[float, np.ndarray, float]:
    """Best C of ``c_grid`` by inner grouped CV AUC, with its out-of-fold logits."""
    best: tuple[float, np.ndarray, float] | None = None
    splits = list(GroupKFold(n_splits=folds).split(z, y, groups))
    for c in c_grid:
        oof = np.zeros(len(y))
        for train, test in splits:
            if len(np.unique(y[train])) < 2:
                continue
            oof[test] = _logistic(c).fit(z[train], y[train]).decision_function(z[test])
        auc = float(roc_auc_score(y, oof))
        if best is None or auc > best[2]:
            best = (c, oof, auc)
    assert best is not None
    return best


def _choose_scale(logits: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    scored = [(concordance(np.tanh(s * logits), target), s) for s in SCALE_GRID]
    ccc, scale = max(scored)
    return float(scale), float(ccc)


def out_of_fold_logits(
    features: np.ndarray, signs: np.ndarray, *, groups: np.ndarray, folds: int = 5,
    feature_groups: Mapping[str, np.ndarray] | None = None, c_grid: Sequence[float] = C_GRID,
) -> np.ndarray:
    """Logits (n, 2) of :func:`fit_head` models that never saw the track's group."""
    logits = np.zeros((len(features), 2))
    for train, test in GroupKFold(n_splits=folds).split(features, signs[:, 0], groups):
        head, _ = fit_head(features[train], signs[train], np.zeros((len(train), 2)),
                           groups=groups[train], feature_groups=feature_groups, c_grid=c_grid)
        logits[test] = head.logits(features[test])
    return logits


def fit_fusion(
    base: np.ndarray, extras: Sequence[np.ndarray], signs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per axis, the weights ``w_k >= 0`` and bias ``b`` of ``base + sum_k w_k extra_k + b``
    that maximise the likelihood of the signs (logistic, ``base`` as a fixed offset).

    Parameters
    ----------
    base : np.ndarray [shape=(n, 2)], the audio logits
    extras : K arrays [shape=(n, 2)], out-of-fold logits of the lyrics branches for the same
        tracks
    signs : np.ndarray [shape=(n, 2)], 0/1 targets

    Returns
    -------
    weights : np.ndarray [shape=(K, 2)]
    biases : np.ndarray [shape=(2,)]
    """
    from scipy.optimize import minimize

    k = len(extras)
    stacked = np.stack(extras)  # (K, n, 2)
    weights, biases = np.zeros((k, 2)), np.zeros(2)
    for axis in range(2):
        y = 2.0 * signs[:, axis] - 1.0

        def loss(params: np.ndarray, axis: int = axis, y: np.ndarray = y) -> float:
            z = base[:, axis] + params[:k] @ stacked[:, :, axis] + params[k]
            return float(np.logaddexp(0.0, -y * z).mean())

        found = minimize(loss, np.r_[np.full(k, 0.5), 0.0], method="L-BFGS-B",
                         bounds=[(0.0, 5.0)] * k + [(-3.0, 3.0)])
        weights[:, axis], biases[axis] = found.x[:k], found.x[k]
    return weights, biases
