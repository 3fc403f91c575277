"""Metrics against scikit-learn / numpy and known values; chance levels; bootstrap CIs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import f1_score, r2_score

from moodnet.errors import ParameterError
from moodnet.evaluation.metrics import (
    accuracy,
    bootstrap,
    ccc,
    classification_report,
    confusion_matrix,
    macro_f1,
    pearson,
    quadrant_report,
    r2,
    regression_report,
    rmse,
    roc_auc,
)


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    t = rng.normal(size=200)
    return t, 0.6 * t + rng.normal(scale=0.8, size=200)


def test_regression_metrics_match_references(pair: tuple[np.ndarray, np.ndarray]) -> None:
    t, p = pair
    assert r2(t, p) == pytest.approx(r2_score(t, p))
    assert rmse(t, p) == pytest.approx(np.sqrt(np.mean((t - p) ** 2)))
    assert pearson(t, p) == pytest.approx(np.corrcoef(t, p)[0, 1])
    expected_ccc = (
        2 * np.cov(t, p, bias=True)[0, 1] / (t.var() + p.var() + (t.mean() - p.mean()) ** 2)
    )
    assert ccc(t, p) == pytest.approx(expected_ccc)


def test_known_values() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2(t, t) == 1.0 and ccc(t, t) == pytest.approx(1.0) and rmse(t, t) == 0.0
    assert r2(t, np.full(4, t.mean())) == 0.0
    # a constant shift keeps Pearson at 1 but lowers CCC: 2*1.25 / (1.25 + 1.25 + 1)
    assert pearson(t, t + 1) == pytest.approx(1.0)
    assert ccc(t, t + 1) == pytest.approx(2.5 / 3.5)
    assert np.isnan(pearson(t, np.ones(4)))
    assert np.isnan(r2(np.ones(4), t))


def test_metrics_work_over_a_batch_of_resamples(pair: tuple[np.ndarray, np.ndarray]) -> None:
    t, p = pair
    idx = np.random.default_rng(0).integers(0, t.size, size=(7, t.size))
    for metric in (r2, rmse, pearson, ccc):
        batched = metric(t[idx], p[idx])
        looped = [metric(t[i], p[i]) for i in idx]
        np.testing.assert_allclose(batched, looped)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 5, size=80)
    p = np.where(rng.random(80) < 0.5, t, rng.integers(0, 6, size=80))  # class 5 only predicted
    assert accuracy(t, p) == pytest.approx(np.mean(t == p))
    assert macro_f1(t, p) == pytest.approx(f1_score(t, p, average="macro"))
    np.testing.assert_array_equal(
        confusion_matrix(t, p, n_classes=6), sk_confusion(t, p, labels=range(6))
    )
    idx = rng.integers(0, 80, size=(5, 80))
    np.testing.assert_allclose(
        macro_f1(t[idx], p[idx]), [f1_score(t[i], p[i], average="macro") for i in idx]
    )


def test_bootstrap_interval_is_seeded_and_contains_the_estimate(
    pair: tuple[np.ndarray, np.ndarray],
) -> None:
    t, p = pair
    first = bootstrap(r2, t, p, n_boot=500, seed=1)
    assert first == bootstrap(r2, t, p, n_boot=500, seed=1)
    assert first != bootstrap(r2, t, p, n_boot=500, seed=2)
    assert first.low < first.value < first.high
    assert first.value == pytest.approx(r2_score(t, p))
    narrow = bootstrap(r2, t, p, n_boot=500, seed=1, level=0.5)
    assert first.low < narrow.low < narrow.high < first.high
    point = bootstrap(r2, t, p, n_boot=0)
    assert point.low == point.value == point.high


def test_regression_report_chance_is_the_train_mean_predictor() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=(100, 2))
    pred = y + rng.normal(scale=0.5, size=(100, 2))
    report = regression_report(y, pred, train_mean=np.array([0.5, y[:, 1].mean()]), n_boot=200)
    valence, arousal = report["valence"], report["arousal"]
    assert valence.r2.value == pytest.approx(r2_score(y[:, 0], pred[:, 0]))
    assert valence.chance_r2.value == pytest.approx(r2_score(y[:, 0], np.full(100, 0.5)))
    assert valence.chance_r2.value < 0
    assert arousal.chance_r2.value == pytest.approx(0.0)
    assert valence.chance_rmse.value == pytest.approx(np.sqrt(np.mean((y[:, 0] - 0.5) ** 2)))
    for estimate in (valence.r2, valence.rmse, valence.pearson, valence.ccc):
        assert estimate.low <= estimate.value <= estimate.high
    assert "valence" in report.format() and report.to_json()["n"] == 100


def test_classification_report_chance_levels() -> None:
    train = np.array([0] * 6 + [1] * 3 + [2] * 1)
    t = np.array([0, 0, 1, 1, 1, 2, 2, 2])
    probs = np.eye(3)[[0, 0, 1, 1, 2, 2, 2, 0]]
    report = classification_report(
        t, probs, train_labels=train, class_names=("a", "b", "c"), n_boot=200
    )
    assert report.accuracy.value == pytest.approx(6 / 8)
    assert report.chance_majority.value == pytest.approx(2 / 8)
    assert report.chance_uniform == pytest.approx(1 / 3)
    # always "a": F1(a) = 2 * (2/8) / (2/8 + 1), F1(b) = F1(c) = 0
    assert report.chance_majority_f1.value == pytest.approx((2 * 0.25 / 1.25) / 3)
    np.testing.assert_array_equal(report.confusion, [[2, 0, 0], [0, 2, 1], [1, 0, 2]])
    assert report.accuracy.low <= report.accuracy.value <= report.accuracy.high
    assert "macro-F1" in report.format()


def test_bad_input_raises() -> None:
    with pytest.raises(ParameterError, match="shape"):
        r2(np.zeros(3), np.zeros(4))
    with pytest.raises(ParameterError, match="no tracks"):
        rmse(np.zeros(0), np.zeros(0))
    with pytest.raises(ParameterError, match="outside"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), n_classes=3)
    with pytest.raises(ParameterError, match="scores"):
        classification_report(
            np.zeros(2), np.zeros((2, 4)), train_labels=np.zeros(2), class_names=("a", "b")
        )


def test_roc_auc_matches_sklearn_with_ties_and_over_resamples() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    target = rng.integers(0, 2, size=80)
    score = np.round(rng.normal(size=80) + target, 1)  # rounding makes ties
    assert roc_auc(target, score) == pytest.approx(roc_auc_score(target, score))
    idx = rng.integers(0, 80, size=(5, 80))
    batch = roc_auc(target[idx], score[idx])
    for row, index in zip(batch, idx, strict=True):
        assert row == pytest.approx(roc_auc_score(target[index], score[index]))
    assert np.isnan(roc_auc(np.ones(4), np.arange(4.0)))


def test_quadrant_report_scores_predicted_va_against_given_quadrants() -> None:
    quadrants = np.array([0, 1, 2, 3] * 10)
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]] * 10, dtype=float)
    perfect = quadrant_report(quadrants, 0.5 * signs, n_boot=100)
    assert perfect.auc_arousal.value == 1.0 and perfect.auc_valence.value == 1.0
    assert perfect.va_accuracy.value == 1.0 and perfect.chance_auc == 0.5
    swapped = quadrant_report(quadrants, -0.5 * signs, n_boot=100)
    assert swapped.auc_arousal.value == 0.0 and swapped.va_accuracy.value == 0.0
    assert "AUC arousal" in perfect.format() and perfect.to_json()["n"] == 40
    with pytest.raises(ParameterError):
        quadrant_report(quadrants + 1, signs)
