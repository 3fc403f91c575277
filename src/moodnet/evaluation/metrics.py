"""Metrics with chance levels and seeded bootstrap confidence intervals.

Regression (per dimension): R², RMSE, Pearson r, concordance correlation (CCC). The chance
level of R² and RMSE is predicting the **train** mean for every test track (its R² is <= 0).
Classification: accuracy, macro-F1 (over the classes present in targets or predictions, as
scikit-learn) and the confusion matrix; chance levels: accuracy of always answering the train
majority class, of uniform guessing (1 / K), and the macro-F1 of the majority answer.
Quadrants (:func:`quadrant_report`): how predicted VA separates given quadrants: ROC AUC of
predicted arousal for Q1+Q2 vs Q3+Q4 and of predicted valence for Q1+Q4 vs Q2+Q3 (chance
0.5), and the accuracy of the quadrant of the predicted VA.

Every point metric works on the last axis, so a bootstrap evaluates all resamples at once:
``r2(y_true[idx], y_pred[idx])`` with ``idx`` of shape (n_boot, N). Intervals are percentile
intervals over resamples of the evaluated tracks (seeded; 1000 resamples by default).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from moodnet.errors import ParameterError

Metric = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with the bounds of its confidence interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def to_json(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


# -- point metrics over the last axis ---------------------------------------------------------


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Coefficient of determination 1 - SS_res / SS_tot over the last axis (nan if SS_tot = 0)."""
    t, p = _pair(y_true, y_pred)
    ss_res = np.sum((t - p) ** 2, axis=-1)
    ss_tot = np.sum((t - t.mean(axis=-1, keepdims=True)) ** 2, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Root mean squared error over the last axis."""
    t, p = _pair(y_true, y_pred)
    return np.sqrt(np.mean((t - p) ** 2, axis=-1))


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Pearson correlation over the last axis (nan where either side is constant)."""
    t, p = _pair(y_true, y_pred)
    tc = t - t.mean(axis=-1, keepdims=True)
    pc = p - p.mean(axis=-1, keepdims=True)
    denominator = np.sqrt(np.sum(tc**2, axis=-1) * np.sum(pc**2, axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, np.sum(tc * pc, axis=-1) / denominator, np.nan)


def ccc(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Lin's concordance correlation 2 cov / (var_t + var_p + (mean_t - mean_p)²)."""
    t, p = _pair(y_true, y_pred)
    mt, mp = t.mean(axis=-1), p.mean(axis=-1)
    cov = np.mean((t - mt[..., None]) * (p - mp[..., None]), axis=-1)
    denominator = t.var(axis=-1) + p.var(axis=-1) + (mt - mp) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, 2 * cov / np.where(denominator > 0, denominator, 1), np.nan
        )


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Fraction of exact class matches over the last axis."""
    t, p = _pair(y_true, y_pred)
    return np.mean(t == p, axis=-1)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Unweighted mean F1 over the classes present in ``y_true`` or ``y_pred`` (last axis)."""
    t, p = _pair(y_true, y_pred)
    classes = np.union1d(np.unique(t), np.unique(p))
    total = np.zeros(t.shape[:-1])
    present = np.zeros(t.shape[:-1])
    for k in classes:
        is_t, is_p = t == k, p == k
        tp = np.sum(is_t & is_p, axis=-1)
        denominator = np.sum(is_t, axis=-1) + np.sum(is_p, axis=-1)
        total += np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
        present += denominator > 0
    return total / np.maximum(present, 1)


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """ROC AUC of binary targets (1 = positive) ranked by scores, over the last axis.

    The Mann-Whitney statistic: the probability that a random positive scores above a random
    negative, ties counting one half; nan where one class is absent.
    """
    from scipy.stats import rankdata

    t, p = _pair(y_true, y_score)
    positive = t.astype(bool)
    ranks = rankdata(p, axis=-1)  # tied scores share their mean rank
    n_pos = positive.sum(axis=-1)
    n_neg = positive.shape[-1] - n_pos
    u = np.sum(np.where(positive, ranks, 0.0), axis=-1) - n_pos * (n_pos + 1) / 2
    pairs = n_pos * n_neg
    return np.where(pairs > 0, u / np.maximum(pairs, 1), np.nan)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, *, n_classes: int) -> np.ndarray:
    """Counts [shape=(K, K)], rows = true class, columns = predicted class."""
    t, p = _pair(y_true, y_pred)
    if t.ndim != 1:
        raise ParameterError("confusion_matrix: expected 1-D class ids")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ParameterError(f"confusion_matrix: class ids outside 0..{n_classes - 1}")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (t.astype(np.int64), p.astype(np.int64)), 1)
    return matrix


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape:
        raise ParameterError(f"targets and predictions differ in shape: {t.shape} vs {p.shape}")
    if t.shape[-1] == 0:
        raise ParameterError("no tracks to evaluate")
    return t, p


# -- bootstrap --------------------------------------------------------------------------------


def bootstrap(
    metric: Metric,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Estimate:
    """``metric`` on all tracks, with a percentile bootstrap interval over resampled tracks.

    Parameters
    ----------
    metric : a point metric of this module (works over the last axis)
    y_true, y_pred : np.ndarray [shape=(N,)]
    n_boot : resamples (0 gives the point estimate as both bounds)
    seed : seed of the resampling
    level : coverage of the interval

    Returns
    -------
    Estimate
    """
    t, p = _pair(y_true, y_pred)
    if t.ndim != 1:
        raise ParameterError(f"bootstrap: expected 1-D arrays, got shape {t.shape}")
    if not 0 < level < 1:
        raise ParameterError(f"bootstrap: level {level} is not in (0, 1)")
    value = float(metric(t, p))
    if n_boot <= 0:
        return Estimate(value, value, value)
    rng = np.random.default_rng(seed)
    samples = np.empty(n_boot)
    for start in range(0, n_boot, 250):
        idx = rng.integers(0, t.size, size=(min(250, n_boot - start), t.size))
        samples[start : start + idx.shape[0]] = metric(t[idx], p[idx])
    tail = 100 * (1 - level) / 2
    if np.all(np.isnan(samples)):
        return Estimate(value, float("nan"), float("nan"))
    low, high = np.nanpercentile(samples, [tail, 100 - tail])
    return Estimate(value, float(low), float(high))


# -- reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionReport:
    """Regression metrics of one dimension (valence or arousal) with their chance levels."""

    name: str
    r2: Estimate
    rmse: Estimate
    pearson: Estimate
    ccc: Estimate
    chance_r2: Estimate
    chance_rmse: Estimate

    def to_json(self) -> dict[str, Any]:
        return {
            key: value.to_json() if isinstance(value, Estimate) else value
            for key, value in self.__dict__.items()
        }


@dataclass(frozen=True)
class RegressionReport:
    """Per-dimension regression metrics of N tracks."""

    n: int
    dimensions: tuple[DimensionReport, ...]

    def __getitem__(self, name: str) -> DimensionReport:
        for dim in self.dimensions:
            if dim.name == name:
                return dim
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "dimensions": [d.to_json() for d in self.dimensions]}

    def format(self) -> str:
        lines = [f"regression, {self.n} tracks (95% bootstrap CI; chance = train-mean predictor)"]
        for d in self.dimensions:
            lines.append(
                f"  {d.name:8s} R² {d.r2}  (chance {d.chance_r2.value:.3f})  RMSE {d.rmse}"
                f"  (chance {d.chance_rmse.value:.3f})  r {d.pearson}  CCC {d.ccc}"
            )
        return "\n".join(lines)


def regression_report(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    train_mean: np.ndarray,
    names: Sequence[str] = ("valence", "arousal"),
    n_boot: int = 1000,
    seed: int = 0,
) -> RegressionReport:
    """Regression metrics per column with bootstrap CIs and train-mean chance levels.

    Parameters
    ----------
    y_true, y_pred : np.ndarray [shape=(N, D)], targets and predictions
    train_mean : np.ndarray [shape=(D,)], mean of the train targets (the chance predictor)
    names : D column names
    n_boot, seed : bootstrap resamples and seed (the same resamples for every metric)

    Returns
    -------
    RegressionReport
    """
    t, p = _pair(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64))
    mean = np.asarray(train_mean, dtype=np.float64)
    if t.ndim != 2 or len(names) != t.shape[1] or mean.shape != (t.shape[1],):
        raise ParameterError(
            f"regression_report: shapes {t.shape}, train_mean {mean.shape}, {len(names)} names"
        )
    dims = []
    for j, name in enumerate(names):
        chance = np.full_like(t[:, j], mean[j])
        boot: dict[str, Estimate] = {}
        for key, metric, pred in (
            ("r2", r2, p[:, j]),
            ("rmse", rmse, p[:, j]),
            ("pearson", pearson, p[:, j]),
            ("ccc", ccc, p[:, j]),
            ("chance_r2", r2, chance),
            ("chance_rmse", rmse, chance),
        ):
            boot[key] = bootstrap(metric, t[:, j], pred, n_boot=n_boot, seed=seed)
        dims.append(DimensionReport(name=name, **boot))
    return RegressionReport(n=int(t.shape[0]), dimensions=tuple(dims))


@dataclass(frozen=True)
class ClassificationReport:
    """Accuracy and macro-F1 of N tracks with chance levels and the confusion matrix."""

    n: int
    class_names: tuple[str, ...]
    accuracy: Estimate
    macro_f1: Estimate
    chance_majority: Estimate
    chance_uniform: float
    chance_majority_f1: Estimate
    confusion: np.ndarray

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if isinstance(value, Estimate):
                data[key] = value.to_json()
            elif isinstance(value, np.ndarray):
                data[key] = value.tolist()
            else:
                data[key] = list(value) if isinstance(value, tuple) else value
        return data

    def format(self) -> str:
        width = max(len(name) for name in self.class_names)
        lines = [
            f"classification, {self.n} tracks, {len(self.class_names)} classes (95% bootstrap CI)",
            f"  accuracy {self.accuracy}  (chance: majority {self.chance_majority.value:.3f},"
            f" uniform {self.chance_uniform:.3f})",
            f"  macro-F1 {self.macro_f1}  (chance: majority {self.chance_majority_f1.value:.3f})",
            "  confusion (rows = true, columns = predicted):",
        ]
        for name, row in zip(self.class_names, self.confusion, strict=True):
            lines.append(f"    {name:>{width}s} " + " ".join(f"{v:4d}" for v in row))
        return "\n".join(lines)


def classification_report(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    train_labels: np.ndarray,
    class_names: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> ClassificationReport:
    """Accuracy, macro-F1 and confusion with bootstrap CIs and chance levels.

    Parameters
    ----------
    y_true : np.ndarray [shape=(N,)], class ids in 0..K-1
    y_pred : np.ndarray [shape=(N,)] class ids, or [shape=(N, K)] scores (argmax is taken)
    train_labels : np.ndarray [shape=(M,)], train class ids (the majority-class chance)
    class_names : the K class names
    n_boot, seed : bootstrap resamples and seed

    Returns
    -------
    ClassificationReport
    """
    k = len(class_names)
    pred = np.asarray(y_pred)
    if pred.ndim == 2:
        if pred.shape[1] != k:
            raise ParameterError(f"classification_report: {pred.shape[1]} scores for {k} classes")
        pred = pred.argmax(axis=1)
    t, p = _pair(np.asarray(y_true, dtype=np.int64), pred.astype(np.int64))
    train = np.asarray(train_labels, dtype=np.int64)
    if train.size == 0:
        raise ParameterError("classification_report: no train labels for the chance level")
    majority = np.full_like(t, int(np.bincount(train, minlength=k).argmax()))
    return ClassificationReport(
        n=int(t.size),
        class_names=tuple(class_names),
        accuracy=bootstrap(accuracy, t, p, n_boot=n_boot, seed=seed),
        macro_f1=bootstrap(macro_f1, t, p, n_boot=n_boot, seed=seed),
        chance_majority=bootstrap(accuracy, t, majority, n_boot=n_boot, seed=seed),
        chance_uniform=1.0 / k,
        chance_majority_f1=bootstrap(macro_f1, t, majority, n_boot=n_boot, seed=seed),
        confusion=confusion_matrix(t, p, n_classes=k),
    )


@dataclass(frozen=True)
class QuadrantReport:
    """How predicted valence/arousal separate given quadrants (Q1..Q4 = ids 0..3).

    Attributes
    ----------
    n : tracks
    auc_arousal : ROC AUC of predicted arousal for high arousal (Q1, Q2 vs Q3, Q4)
    auc_valence : ROC AUC of predicted valence for positive valence (Q1, Q4 vs Q2, Q3)
    va_accuracy : accuracy of the quadrant of the predicted VA (signs of V and A)
    chance_auc : 0.5
    chance_majority : accuracy of always answering the most frequent given quadrant
    """

    n: int
    auc_arousal: Estimate
    auc_valence: Estimate
    va_accuracy: Estimate
    chance_majority: Estimate
    chance_auc: float = 0.5

    def to_json(self) -> dict[str, Any]:
        return {
            key: value.to_json() if isinstance(value, Estimate) else value
            for key, value in self.__dict__.items()
        }

    def format(self) -> str:
        return (
            f"quadrants from predicted VA, {self.n} tracks (95% bootstrap CI)\n"
            f"  AUC arousal (Q1+Q2 vs Q3+Q4) {self.auc_arousal}  AUC valence (Q1+Q4 vs Q2+Q3)"
            f" {self.auc_valence}  (chance {self.chance_auc:.1f})\n"
            f"  quadrant of predicted VA: accuracy {self.va_accuracy}"
            f"  (chance: majority {self.chance_majority.value:.3f})"
        )


def quadrant_report(
    quadrants: np.ndarray, va_pred: np.ndarray, *, n_boot: int = 1000, seed: int = 0
) -> QuadrantReport:
    """AUCs and quadrant accuracy of VA predictions against given quadrants.

    Parameters
    ----------
    quadrants : np.ndarray [shape=(N,)], quadrant ids 0..3 (Q1..Q4)
    va_pred : np.ndarray [shape=(N, 2)], predicted (valence, arousal)
    n_boot, seed : bootstrap resamples and seed

    Returns
    -------
    QuadrantReport
    """
    q = np.asarray(quadrants, dtype=np.int64)
    va = np.asarray(va_pred, dtype=np.float64)
    if q.ndim != 1 or va.shape != (q.size, 2) or q.size == 0:
        raise ParameterError(f"quadrant_report: shapes {q.shape} and {va.shape}")
    if q.min() < 0 or q.max() > 3:
        raise ParameterError("quadrant_report: quadrant ids must be 0..3 (Q1..Q4)")
    high_arousal = (q <= 1).astype(np.int64)
    positive_valence = np.isin(q, (0, 3)).astype(np.int64)
    predicted = np.where(
        va[:, 1] > 0, np.where(va[:, 0] > 0, 0, 1), np.where(va[:, 0] > 0, 3, 2)
    ).astype(np.int64)
    majority = np.full_like(q, int(np.bincount(q, minlength=4).argmax()))
    return QuadrantReport(
        n=int(q.size),
        auc_arousal=bootstrap(roc_auc, high_arousal, va[:, 1], n_boot=n_boot, seed=seed),
        auc_valence=bootstrap(roc_auc, positive_valence, va[:, 0], n_boot=n_boot, seed=seed),
        va_accuracy=bootstrap(accuracy, q, predicted, n_boot=n_boot, seed=seed),
        chance_majority=bootstrap(accuracy, q, majority, n_boot=n_boot, seed=seed),
    )
