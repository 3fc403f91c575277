"""``musicnn_head``: a small trained head on the frozen, pretrained musicnn (MSD) embedding.

Input: musicnn's log-mel ``mel`` (B, 96, T) (``FeatureConfig`` equal to
:func:`moodnet.audio.musicnn_frontend.musicnn_feature_config` but for the clip length, so the
feature cache and the predictor compute it like any other log-mel; the config refuses other
features: :func:`moodnet.models.config.check_musicnn_features`). The frozen backbone cuts it into
non-overlapping 3 s patches (187 frames; the incomplete last one dropped, a clip shorter than
one patch repeated), takes every patch's 200-d penultimate activation and averages them over
the patches that are not all zeros (zero padding of short clips); the mean embedding is
standardised with train statistics and fed to a linear head or a one-hidden-layer MLP
(``MusicnnHeadConfig.hidden``).

The backbone (:func:`moodnet.models.musicnn.load_msd_musicnn`, shipped with the package) is
kept out of the registered submodules: it is not in ``state_dict()`` (so checkpoints hold only
the head), not in ``parameters()`` (never trained) and always in eval mode; ``.to(device)``
moves it. Because it is frozen and deterministic, training embeds every track once
(:meth:`MusicnnHead.precompute`) and ``forward(embeddings=...)`` takes those embeddings in
place of ``mel``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from moodnet.audio.musicnn_frontend import MUSICNN_N_MELS, MUSICNN_PATCH_FRAMES
from moodnet.errors import ParameterError
from moodnet.models.config import MusicnnHeadConfig
from moodnet.models.heads import Head, Outputs
from moodnet.models.musicnn import Musicnn, load_msd_musicnn

PATCHES_PER_PASS = 64
EMBEDDING_STD_FLOOR = 1e-3


def mel_patches(mel: Tensor, *, patch_frames: int = MUSICNN_PATCH_FRAMES) -> tuple[Tensor, Tensor]:
    """Non-overlapping patches of a log-mel batch, as musicnn cuts them.

    Parameters
    ----------
    mel : Tensor [shape=(B, 96, T)], musicnn log-mel (0 = silence or padding)
    patch_frames : frames per patch (187 = 3 s)

    Returns
    -------
    patches : Tensor [shape=(B, P, patch_frames, 96)], ``P = max(1, T // patch_frames)``
    valid : Tensor [shape=(B, P)], bool: the patch is not all zeros (every patch of a track
        whose patches are all zeros counts as valid)
    """
    frames = mel.transpose(1, 2)  # (B, T, 96)
    length = frames.shape[1]
    if length < patch_frames:
        frames = frames.repeat(1, -(-patch_frames // length), 1)[:, :patch_frames]
        length = patch_frames
    count = length // patch_frames
    patches = frames[:, : count * patch_frames].reshape(
        frames.shape[0], count, patch_frames, frames.shape[2]
    )
    valid = patches.flatten(2).ne(0).any(dim=2)  # (B, P)
    return patches, valid | ~valid.any(dim=1, keepdim=True)


class MusicnnHead(nn.Module):
    """Frozen musicnn (MSD) -> mean patch embedding -> standardise -> (MLP) -> head."""

    uses_audio = True
    uses_lyrics = False
    precomputes_audio = True
    backbone: Musicnn
    embedding_mean: Tensor
    embedding_std: Tensor

    def __init__(self, config: MusicnnHeadConfig, *, head: bool = True) -> None:
        super().__init__()
        self.config = config
        backbone = load_msd_musicnn().requires_grad_(False)
        object.__setattr__(self, "backbone", backbone)  # unregistered: not saved, not trained
        width = backbone.dense.out_features
        self.embedding_size = width
        self.register_buffer("embedding_mean", torch.zeros(width))
        self.register_buffer("embedding_std", torch.ones(width))
        self.hidden: nn.Module | None = None
        self.n_features = width
        if config.hidden:
            self.hidden = nn.Sequential(
                nn.Dropout(config.dropout), nn.Linear(width, config.hidden), nn.ReLU()
            )
            self.n_features = config.hidden
        self.head = Head(self.n_features, config, dropout=config.dropout) if head else None

    def _apply(self, fn: Callable[..., Any], recurse: bool = True) -> MusicnnHead:
        super()._apply(fn, recurse)
        self.backbone._apply(fn, recurse)
        return self

    @torch.no_grad()
    def precompute(self, mel: Tensor) -> Tensor:
        """The raw (unstandardised) mean patch embedding of each clip.

        Parameters
        ----------
        mel : Tensor [shape=(B, 96, T)], musicnn log-mel

        Returns
        -------
        Tensor [shape=(B, 200)], float32
        """
        if mel.ndim != 3 or mel.shape[1] != MUSICNN_N_MELS:
            raise ParameterError(
                f"mel: expected shape (B, {MUSICNN_N_MELS}, T), got {tuple(mel.shape)}"
            )
        self.backbone.eval()
        patches, valid = mel_patches(mel)
        flat = patches.flatten(0, 1)  # (B * P, 187, 96)
        parts = [self.backbone(chunk).penultimate.float() for chunk in flat.split(PATCHES_PER_PASS)]
        embeddings = torch.cat(parts).view(*valid.shape, -1)  # (B, P, 200)
        weights = valid.to(embeddings.dtype)[..., None]
        return (embeddings * weights).sum(dim=1) / weights.sum(dim=1)

    def set_embedding_statistics(self, embeddings: np.ndarray) -> None:
        """Standardise with the mean and std of train embeddings [shape=(N, 200)]."""
        array = np.asarray(embeddings, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != self.embedding_size or array.shape[0] < 2:
            raise ParameterError(
                f"embeddings: expected (N >= 2, {self.embedding_size}), got {array.shape}"
            )
        std = np.maximum(array.std(axis=0), EMBEDDING_STD_FLOOR)
        self.embedding_mean.copy_(torch.from_numpy(array.mean(axis=0).astype(np.float32)))
        self.embedding_std.copy_(torch.from_numpy(std.astype(np.float32)))

    def features(self, mel: Tensor | None = None, *, embeddings: Tensor | None = None) -> Tensor:
        """Head input (B, n_features) from ``mel`` or from precomputed ``embeddings``."""
        if embeddings is None:
            if mel is None:
                raise ParameterError("musicnn_head needs mel=... or embeddings=...")
            embeddings = self.precompute(mel)
        if embeddings.ndim != 2 or embeddings.shape[1] != self.embedding_size:
            raise ParameterError(
                f"embeddings: expected shape (B, {self.embedding_size}), "
                f"got {tuple(embeddings.shape)}"
            )
        z = (embeddings - self.embedding_mean) / self.embedding_std  # (B, 200)
        return self.hidden(z) if self.hidden is not None else z

    def forward(
        self,
        mel: Tensor | None = None,
        tokens: Tensor | None = None,
        has_lyrics: Tensor | None = None,
        embeddings: Tensor | None = None,
    ) -> Outputs:
        if self.head is None:
            raise ParameterError("a branch built with head=False has no outputs")
        return self.head(self.features(mel, embeddings=embeddings))
