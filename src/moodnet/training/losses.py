"""Losses: MSE for valence/arousal, cross-entropy for classes, their sum for multi-task.

The VA loss is the mean squared error of residuals divided by the train standard deviation of
each dimension, so valence and arousal weigh alike whatever their spread.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from moodnet.errors import ParameterError


def va_loss(pred: Tensor, target: Tensor, *, scale: Tensor | None = None) -> Tensor:
    """Mean squared error of (B, 2) predictions, residuals divided by ``scale`` (2,)."""
    residual = pred - target
    if scale is not None:
        residual = residual / scale
    return residual.pow(2).mean()


def class_loss(logits: Tensor, target: Tensor, *, weight: Tensor | None = None) -> Tensor:
    """Cross-entropy of (B, K) logits against (B,) class ids, optionally class-weighted."""
    return torch.nn.functional.cross_entropy(logits, target, weight=weight)


def balanced_class_weights(labels: np.ndarray, *, n_classes: int) -> np.ndarray:
    """Inverse-frequency weights ``N / (K * count_k)`` (1 for classes absent from ``labels``).

    Parameters
    ----------
    labels : np.ndarray [shape=(N,)], train class ids in 0..K-1
    n_classes : K

    Returns
    -------
    np.ndarray [shape=(K,)], float32
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 0:
        raise ParameterError("balanced_class_weights: no labels")
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, labels.size / (n_classes * np.maximum(counts, 1)), 1.0)
    return weights.astype(np.float32)


class Criterion:
    """The training loss of a model's outputs ``{"va": (B, 2), "logits": (B, K)}``.

    Parameters
    ----------
    va_scale : Tensor [shape=(2,)], train standard deviation of (valence, arousal), or None
    class_weight : Tensor [shape=(K,)], or None
    multitask_weight : weight of the cross-entropy when both outputs are present
    """

    def __init__(
        self,
        *,
        va_scale: Tensor | None = None,
        class_weight: Tensor | None = None,
        multitask_weight: float = 1.0,
    ) -> None:
        self.va_scale = va_scale
        self.class_weight = class_weight
        self.multitask_weight = multitask_weight

    def to(self, device: torch.device) -> Criterion:
        return Criterion(
            va_scale=None if self.va_scale is None else self.va_scale.to(device),
            class_weight=None if self.class_weight is None else self.class_weight.to(device),
            multitask_weight=self.multitask_weight,
        )

    def __call__(self, outputs: dict[str, Tensor], targets: dict[str, Tensor]) -> Tensor:
        terms = []
        if "va" in outputs:
            terms.append(va_loss(outputs["va"].float(), targets["va"], scale=self.va_scale))
        if "logits" in outputs:
            ce = class_loss(outputs["logits"].float(), targets["classes"], weight=self.class_weight)
            terms.append(ce * (self.multitask_weight if "va" in outputs else 1.0))
        if not terms:
            raise ParameterError("the model returned neither 'va' nor 'logits'")
        return torch.stack(terms).sum()
