"""Pieces shared by every model: input normalisation, output heads and their scaling.

Models take raw log-mel (normalised inside by :class:`InputNorm`) and return a dict of raw
outputs: ``"va"`` (B, 2) on the target scale (valence, arousal) and/or ``"logits"`` (B, K).
The normalisation and target statistics are non-persistent buffers: the checkpoint JSON holds
them, :func:`configure_scaling` puts them in.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from moodnet.errors import ParameterError
from moodnet.models.config import ModelConfig

Outputs = dict[str, Tensor]


class InputNorm(nn.Module):
    """Per-mel-band standardisation: (mel - mean) / std, statistics fitted on train."""

    mean: Tensor
    std: Tensor

    def __init__(self, n_mels: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_mels), persistent=False)
        self.register_buffer("std", torch.ones(n_mels), persistent=False)

    def forward(self, mel: Tensor) -> Tensor:
        return (mel - self.mean[:, None]) / self.std[:, None]  # (B, n_mels, T)


class Head(nn.Module):
    """Linear outputs: VA on the target scale (``mean + std * linear``) and/or class logits.

    ``config`` gives the outputs (``task``, ``n_classes``); ``dropout`` comes before them.
    """

    va_mean: Tensor
    va_std: Tensor

    def __init__(self, n_features: int, config: ModelConfig, *, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.va = nn.Linear(n_features, 2) if config.has_va else None
        self.logits = nn.Linear(n_features, config.n_classes) if config.has_classes else None
        self.register_buffer("va_mean", torch.zeros(2), persistent=False)
        self.register_buffer("va_std", torch.ones(2), persistent=False)

    def forward(self, features: Tensor) -> Outputs:
        h = self.dropout(features)  # (B, F)
        out: Outputs = {}
        if self.va is not None:
            out["va"] = self.va_mean + self.va_std * self.va(h)  # (B, 2)
        if self.logits is not None:
            out["logits"] = self.logits(h)  # (B, K)
        return out


def configure_scaling(
    model: nn.Module,
    *,
    mel_mean: np.ndarray | None = None,
    mel_std: np.ndarray | None = None,
    va_mean: np.ndarray | None = None,
    va_std: np.ndarray | None = None,
) -> None:
    """Set the input normalisation and VA target scaling of every part of ``model``.

    Parameters
    ----------
    model : a model of :data:`moodnet.models.MODELS`
    mel_mean, mel_std : np.ndarray [shape=(n_mels,)], per-band statistics of the train log-mel
    va_mean, va_std : np.ndarray [shape=(2,)], train statistics of (valence, arousal)
    """
    for module in model.modules():
        if isinstance(module, InputNorm):
            _fill(module.mean, mel_mean, "mel_mean")
            _fill(module.std, mel_std, "mel_std", positive=True)
        elif isinstance(module, Head):
            _fill(module.va_mean, va_mean, "va_mean")
            _fill(module.va_std, va_std, "va_std", positive=True)


def _fill(buffer: Tensor, value: np.ndarray | None, name: str, *, positive: bool = False) -> None:
    if value is None:
        return
    array = np.asarray(value, dtype=np.float32)
    if array.shape != tuple(buffer.shape):
        raise ParameterError(
            f"{name}: shape {array.shape}, the model expects {tuple(buffer.shape)}"
        )
    if not np.all(np.isfinite(array)) or (positive and np.any(array <= 0)):
        raise ParameterError(f"{name}: values must be finite{' and > 0' if positive else ''}")
    buffer.copy_(torch.from_numpy(array))


def fit_length(mel: Tensor, n_frames: int, *, random: bool) -> Tensor:
    """Crop (the centre, or at random per batch) or zero-pad ``mel`` to ``n_frames``.

    Zero is the band mean after :class:`InputNorm`, so padding adds no energy.
    """
    length = mel.shape[-1]
    if length > n_frames:
        spare = length - n_frames
        start = int(torch.randint(0, spare + 1, ())) if random else spare // 2
        return mel[..., start : start + n_frames]
    if length < n_frames:
        return nn.functional.pad(mel, (0, n_frames - length))
    return mel
