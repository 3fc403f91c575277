"""Evaluate a checkpoint on arrays: metrics with chance levels and bootstrap CIs.

Chance levels come from the checkpoint itself (the train VA mean and train class counts it
stores), so a model can be evaluated on any manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.core import QUADRANTS
from moodnet.errors import DataError
from moodnet.evaluation.metrics import (
    ClassificationReport,
    QuadrantReport,
    RegressionReport,
    classification_report,
    quadrant_report,
    regression_report,
)

if TYPE_CHECKING:
    from moodnet.models.arrays import ArrayData
    from moodnet.models.checkpoint import Checkpoint


@dataclass(frozen=True)
class Evaluation:
    """Metrics of one checkpoint on one set of tracks, with its predictions.

    Attributes
    ----------
    name : what was evaluated (e.g. the split)
    ids : track ids in prediction order
    regression, classification : the reports (None where the model has no such output)
    va : np.ndarray [shape=(N, 2)] predictions, or None
    class_probs : np.ndarray [shape=(N, K)], or None
    va_target : np.ndarray [shape=(N, 2)] targets, or None
    quadrants : AUCs and accuracy of the predicted VA against the class targets, when the
        classes are the quadrants Q1..Q4 and the model predicts VA; else None
    """

    name: str
    ids: tuple[str, ...]
    regression: RegressionReport | None
    classification: ClassificationReport | None
    va: np.ndarray | None = None
    class_probs: np.ndarray | None = None
    va_target: np.ndarray | None = None
    quadrants: QuadrantReport | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": len(self.ids),
            "regression": self.regression.to_json() if self.regression else None,
            "classification": self.classification.to_json() if self.classification else None,
            "quadrants": self.quadrants.to_json() if self.quadrants else None,
        }

    def format(self) -> str:
        parts = [f"{self.name}: {len(self.ids)} tracks"]
        reports = (self.regression, self.classification, self.quadrants)
        parts += [r.format() for r in reports if r is not None]
        return "\n".join(parts)


def train_labels_from_counts(counts: list[int] | None) -> np.ndarray | None:
    """Class ids repeated by their train counts (enough for majority-class chance)."""
    if not counts:
        return None
    return np.repeat(np.arange(len(counts)), np.asarray(counts, dtype=np.int64))


def evaluate_arrays(
    checkpoint: Checkpoint,
    data: ArrayData,
    *,
    name: str = "test",
    n_boot: int = 1000,
    seed: int = 0,
    batch_size: int = 32,
) -> Evaluation:
    """Predict ``data`` with ``checkpoint`` and score it against the targets in ``data``.

    Parameters
    ----------
    checkpoint : a trained checkpoint
    data : arrays with ``va`` and/or ``classes`` targets
    name : label of the evaluated set
    n_boot, seed : bootstrap resamples and seed
    batch_size : tracks per forward pass

    Returns
    -------
    Evaluation
    """
    pred = checkpoint.predict_arrays(
        data.mel, data.tokens, data.has_lyrics, embeddings=data.embeddings, batch_size=batch_size
    )
    return evaluate_predictions(
        data,
        va=pred.va,
        class_probs=pred.class_probs,
        name=name,
        train_va_mean=checkpoint.va_mean,
        train_labels=train_labels_from_counts(checkpoint.metrics.get("train_class_counts")),
        class_names=checkpoint.class_names,
        n_boot=n_boot,
        seed=seed,
    )


def evaluate_predictions(
    data: ArrayData,
    *,
    va: np.ndarray | None,
    class_probs: np.ndarray | None,
    name: str,
    train_va_mean: np.ndarray | None,
    train_labels: np.ndarray | None,
    class_names: tuple[str, ...],
    n_boot: int = 1000,
    seed: int = 0,
) -> Evaluation:
    """Score predictions against the targets in ``data``.

    Parameters
    ----------
    data : arrays with ``va`` (N, 2) and/or ``classes`` (N,) targets
    va : np.ndarray [shape=(N, 2)] predictions, or None
    class_probs : np.ndarray [shape=(N, K)], or None
    name : label of the evaluated set
    train_va_mean : np.ndarray [shape=(2,)], the chance predictor (default: the data's mean)
    train_labels : train class ids for the majority chance (default: the data's labels)
    class_names : the K class names
    n_boot, seed : bootstrap resamples and seed

    Returns
    -------
    Evaluation
    """
    regression = classification = None
    if va is not None and data.va is not None:
        mean = train_va_mean if train_va_mean is not None else data.va.mean(axis=0)
        regression = regression_report(data.va, va, train_mean=mean, n_boot=n_boot, seed=seed)
    if class_probs is not None and data.classes is not None:
        classification = classification_report(
            data.classes,
            class_probs,
            train_labels=train_labels if train_labels is not None else data.classes,
            class_names=class_names,
            n_boot=n_boot,
            seed=seed,
        )
    quadrants = None
    if va is not None and data.classes is not None and tuple(class_names) == QUADRANTS:
        quadrants = quadrant_report(data.classes, va, n_boot=n_boot, seed=seed)
    if regression is None and classification is None:
        raise DataError(f"{name}: the data has no targets for these predictions")
    return Evaluation(
        name=name,
        ids=data.ids,
        regression=regression,
        classification=classification,
        va=va,
        class_probs=class_probs,
        va_target=data.va,
        quadrants=quadrants,
    )
