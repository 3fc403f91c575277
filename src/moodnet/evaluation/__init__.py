"""Evaluation: metrics with chance levels and bootstrap CIs, and checkpoint evaluation.

``moodnet.evaluation.metrics`` is numpy-only; ``evaluate`` imports torch through the
checkpoint when it runs. Evaluation is below training (training reports validation metrics
with it); the results table, which trains models, is :mod:`moodnet.experiments.table`.
"""

from __future__ import annotations

from moodnet.evaluation.metrics import (
    ClassificationReport,
    DimensionReport,
    Estimate,
    QuadrantReport,
    RegressionReport,
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

__all__ = [
    "ClassificationReport",
    "DimensionReport",
    "Estimate",
    "QuadrantReport",
    "RegressionReport",
    "accuracy",
    "bootstrap",
    "ccc",
    "classification_report",
    "confusion_matrix",
    "macro_f1",
    "pearson",
    "quadrant_report",
    "r2",
    "regression_report",
    "rmse",
    "roc_auc",
]
