"""Audio models over log-mel spectrograms (B, n_mels, T).

- :class:`PaperAudioCNN`: Delbouys et al. (2018): mel bands as channels of a 1-D ConvNet,
  Conv1d 32x8 -> max-pool 4 -> batch-norm -> Conv1d 16x8 -> max-pool 4 -> batch-norm ->
  dense 64 -> head.
- :class:`ShortChunkCNN`: a small 2-D CNN over ~3 s log-mel chunks (after Won et al., 2020):
  a random chunk per clip in training, the mean of all chunk features at inference.

Both expose ``features(mel) -> (B, n_features)`` (the penultimate layer, used by the fusion
models) and ``forward(mel=..., tokens=None, has_lyrics=None) -> {"va": (B, 2), "logits": (B, K)}``.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from moodnet.errors import ParameterError
from moodnet.models.config import PaperAudioConfig, ShortChunkConfig
from moodnet.models.heads import Head, InputNorm, Outputs, fit_length


def _conv_pool_length(length: int, kernel: int, pool: int) -> int:
    return (length - kernel + 1) // pool


def _require_mel(mel: Tensor | None, n_mels: int) -> Tensor:
    if mel is None:
        raise ParameterError("this model needs a log-mel input (mel=...)")
    if mel.ndim != 3 or mel.shape[1] != n_mels:
        raise ParameterError(f"mel: expected shape (B, {n_mels}, T), got {tuple(mel.shape)}")
    return mel


class PaperAudioCNN(nn.Module):
    """The audio ConvNet of Delbouys et al. (2018); its dense layer is sized for the window it
    sees (``config.input_frames``)."""

    uses_audio = True
    uses_lyrics = False

    def __init__(self, config: PaperAudioConfig, *, head: bool = True) -> None:
        super().__init__()
        self.config = config
        c1, c2 = config.channels
        kernel, pool, frames = config.kernel, config.pool, config.input_frames
        length = _conv_pool_length(_conv_pool_length(frames, kernel, pool), kernel, pool)
        if length < 1:
            raise ParameterError(f"a window of {frames} frames is too short for the paper ConvNet")
        self.norm = InputNorm(config.bands)
        self.conv1 = nn.Conv1d(config.bands, c1, kernel)
        self.bn1 = nn.BatchNorm1d(c1)
        self.conv2 = nn.Conv1d(c1, c2, kernel)
        self.bn2 = nn.BatchNorm1d(c2)
        self.pool = nn.MaxPool1d(pool)
        self.dropout = nn.Dropout(config.dropout)
        self.dense = nn.Linear(c2 * length, config.hidden)
        self.n_features = config.hidden
        self.head = Head(self.n_features, config, dropout=config.dropout) if head else None

    def features(self, mel: Tensor) -> Tensor:
        x = self.norm(_require_mel(mel, self.config.bands))  # (B, M, T)
        frames, random = self.config.input_frames, self.training and self.config.random_crop
        x = fit_length(x, frames, random=random)
        x = self.bn1(self.pool(torch.relu(self.conv1(x))))  # (B, 32, T1)
        x = self.bn2(self.pool(torch.relu(self.conv2(x))))  # (B, 16, T2)
        return torch.relu(self.dense(self.dropout(x.flatten(1))))  # (B, 64)

    def forward(
        self,
        mel: Tensor | None = None,
        tokens: Tensor | None = None,
        has_lyrics: Tensor | None = None,
    ) -> Outputs:
        if self.head is None:
            raise ParameterError("a branch built with head=False has no outputs")
        return self.head(self.features(_require_mel(mel, self.config.bands)))


class _ConvBlock(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
        )


class ShortChunkCNN(nn.Module):
    """2-D CNN over chunks of ``chunk_frames`` frames; clip features = mean over chunks."""

    uses_audio = True
    uses_lyrics = False

    def __init__(self, config: ShortChunkConfig, *, head: bool = True) -> None:
        super().__init__()
        self.config = config
        channels = (1, *config.channels)
        self.norm = InputNorm(config.bands)
        self.blocks = nn.Sequential(*(_ConvBlock(a, b) for a, b in itertools.pairwise(channels)))
        self.blocks.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.dropout = nn.Dropout(config.dropout)
        self.dense = nn.Linear(2 * channels[-1], config.hidden)
        self.n_features = config.hidden
        self.head = Head(self.n_features, config, dropout=config.dropout) if head else None

    def chunk_features(self, chunks: Tensor) -> Tensor:
        x = chunks.unsqueeze(1).contiguous(memory_format=torch.channels_last)  # (B, 1, M, T)
        x = self.blocks(x)  # (B, C, M', T')
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)  # (B, 2C)
        return torch.relu(self.dense(self.dropout(pooled)))  # (B, F)

    def features(self, mel: Tensor) -> Tensor:
        x = self.norm(_require_mel(mel, self.config.bands))  # (B, M, T)
        size = self.config.chunk_frames
        if x.shape[-1] <= size:
            return self.chunk_features(fit_length(x, size, random=False))
        if self.training:
            return self.chunk_features(_random_chunks(x, size))  # (B, F)
        starts = list(range(0, x.shape[-1] - size + 1, size))
        if starts[-1] + size < x.shape[-1]:
            starts.append(x.shape[-1] - size)
        chunks = torch.stack([x[..., s : s + size] for s in starts], dim=1)  # (B, n, M, size)
        feats = self.chunk_features(chunks.flatten(0, 1))  # (B * n, F)
        return feats.view(x.shape[0], len(starts), -1).mean(dim=1)  # (B, F)

    def forward(
        self,
        mel: Tensor | None = None,
        tokens: Tensor | None = None,
        has_lyrics: Tensor | None = None,
    ) -> Outputs:
        if self.head is None:
            raise ParameterError("a branch built with head=False has no outputs")
        return self.head(self.features(_require_mel(mel, self.config.bands)))


def _random_chunks(x: Tensor, size: int) -> Tensor:
    """One random window of ``size`` frames per item: (B, M, T) -> (B, M, size)."""
    batch, n_mels, length = x.shape
    starts = torch.randint(0, length - size + 1, (batch, 1, 1), device=x.device)
    index = starts + torch.arange(size, device=x.device)  # (B, 1, size)
    return x.gather(2, index.expand(batch, n_mels, size))
