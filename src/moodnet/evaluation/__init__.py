"""Evaluation: metrics with chance levels and bootstrap CIs, checkpoint evaluation, the table.

``moodnet.evaluation.metrics`` is numpy-only; ``evaluate`` and ``table`` import torch through
the checkpoint when they run.
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
