"""Training-only array helpers: band statistics, target tensors and augmentation.

The arrays themselves and batched prediction are in :mod:`moodnet.models.arrays`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from moodnet.errors import DataError

if TYPE_CHECKING:
    import torch

    from moodnet.models.arrays import ArrayData
    from moodnet.training.config import AugmentConfig


def band_statistics(mel: np.ndarray, *, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Per-mel-band mean and standard deviation over tracks and frames.

    Parameters
    ----------
    mel : np.ndarray [shape=(N, n_mels, T)], the train log-mel

    Returns
    -------
    mean, std : np.ndarray [shape=(n_mels,)], float32; std floored at 1e-5
    """
    total = np.zeros(mel.shape[1])
    squares = np.zeros(mel.shape[1])
    for start in range(0, mel.shape[0], chunk):
        block = np.asarray(mel[start : start + chunk], dtype=np.float64)
        total += block.sum(axis=(0, 2))
        squares += np.square(block).sum(axis=(0, 2))
    count = mel.shape[0] * mel.shape[2]
    if count == 0:
        raise DataError("band_statistics: no frames")
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return mean.astype(np.float32), np.maximum(std, 1e-5).astype(np.float32)


def targets_of(
    data: ArrayData, index: np.ndarray, *, device: torch.device
) -> dict[str, torch.Tensor]:
    """Target tensors ``{"va": (B, 2), "classes": (B,)}`` of the tracks at ``index``."""
    import torch

    targets: dict[str, torch.Tensor] = {}
    if data.va is not None:
        targets["va"] = torch.from_numpy(data.va[index].astype(np.float32)).to(device)
    if data.classes is not None:
        targets["classes"] = torch.from_numpy(data.classes[index].astype(np.int64)).to(device)
    return targets


def augment_mel(
    mel: torch.Tensor,
    *,
    config: AugmentConfig,
    fill: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random gain, mel-band masks and time masks on a raw log-mel batch (a new tensor).

    Parameters
    ----------
    mel : Tensor [shape=(B, n_mels, T)], raw log-mel
    config : what to apply
    fill : Tensor [shape=(n_mels,)], value of masked cells (the train band means)
    generator : torch generator (on the CPU) for reproducible draws

    Returns
    -------
    Tensor [shape=(B, n_mels, T)]
    """
    import torch

    batch, n_mels, length = mel.shape
    out = mel.clone()

    def draw(high: int, size: tuple[int, ...]) -> torch.Tensor:
        return torch.randint(0, max(high, 1), size, generator=generator).to(mel.device)

    if config.gain > 0:
        offset = (torch.rand(batch, 1, 1, generator=generator) * 2 - 1) * config.gain
        out = out + offset.to(mel.device, mel.dtype)
    filled = fill.to(mel.device, mel.dtype)[None, :, None].expand_as(out)
    bands = torch.arange(n_mels, device=mel.device)[None, :, None]
    frames = torch.arange(length, device=mel.device)[None, None, :]
    for _ in range(config.freq_masks):
        width = draw(config.freq_mask_bands + 1, (batch, 1, 1))
        start = draw(n_mels, (batch, 1, 1))
        out = torch.where((bands >= start) & (bands < start + width), filled, out)
    for _ in range(config.time_masks):
        width = draw(config.time_mask_frames + 1, (batch, 1, 1))
        start = draw(length, (batch, 1, 1))
        out = torch.where((frames >= start) & (frames < start + width), filled, out)
    return out
