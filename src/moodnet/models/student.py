"""A small 1-D CNN that imitates musicnn's (MSD) patch embedding: the default model's ear.

musicnn (Pons & Serra 2019) costs about 2.3 GFLOP per 3 s patch; this student costs about
51 MFLOP (three strided temporal convolutions over the 96 mel bands, mean and max pooling over
time, a linear map to the teacher's 200-d penultimate layer). It is trained by
:mod:`moodnet.training.distill` on teacher embeddings of unlabelled audio and runs at inference
in numpy (:class:`moodnet.models.fast_head.StudentWeights`), without torch.

Input: musicnn's log-mel patch, ``log10(1 + 10000 mel)`` of a level-normalised 16 kHz signal,
``(batch, 187 frames, 96 bands)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from moodnet.errors import ConfigError


@dataclass(frozen=True)
class StudentConfig:
    """Shape of the student; stored with its weights.

    Attributes
    ----------
    n_mels : input bands (96, musicnn's)
    channels : output channels of the three convolutions
    kernels : their kernel sizes (frames); each has stride 2 and "same" padding
    embedding_size : size of the imitated teacher embedding (200)
    """

    n_mels: int = 96
    channels: tuple[int, int, int] = (256, 256, 256)
    kernels: tuple[int, int, int] = (5, 3, 3)
    embedding_size: int = 200

    def __post_init__(self) -> None:
        sizes = (self.n_mels, self.embedding_size, *self.channels, *self.kernels)
        if len(self.channels) != 3 or len(self.kernels) != 3:
            raise ConfigError("student: channels and kernels need three entries each")
        if any(not isinstance(v, int) or not 1 <= v <= 4096 for v in sizes):
            raise ConfigError(f"student: sizes must be integers in 1..4096, got {asdict(self)}")
        if any(k % 2 == 0 for k in self.kernels):
            raise ConfigError(f"student: kernels must be odd, got {self.kernels}")

    @classmethod
    def from_dict(cls, data: dict) -> StudentConfig:
        """Inverse of :func:`dataclasses.asdict` (lists become tuples)."""
        try:
            return cls(
                n_mels=int(data["n_mels"]),
                channels=tuple(int(c) for c in data["channels"]),  # type: ignore[arg-type]
                kernels=tuple(int(k) for k in data["kernels"]),  # type: ignore[arg-type]
                embedding_size=int(data["embedding_size"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"student config: {exc}") from exc


class Student(nn.Module):
    """Patch log-mel -> imitated musicnn embedding."""

    def __init__(self, config: StudentConfig) -> None:
        super().__init__()
        self.config = config
        self.input_norm = nn.BatchNorm1d(config.n_mels)
        layers: list[nn.Module] = []
        width = config.n_mels
        for channels, kernel in zip(config.channels, config.kernels, strict=True):
            layers += [
                nn.Conv1d(width, channels, kernel, stride=2, padding=kernel // 2, bias=False),
                nn.BatchNorm1d(channels),
                nn.ReLU(),
            ]
            width = channels
        self.convs = nn.Sequential(*layers)
        self.project = nn.Linear(2 * width, config.embedding_size)

    def pooled(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, T, n_mels) -> (B, 2 * channels[-1]): mean and max over time of the last conv."""
        x = self.input_norm(patches.transpose(1, 2))  # (B, n_mels, T)
        x = self.convs(x)  # (B, C, T / 8)
        return torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, T, n_mels) -> (B, embedding_size), in the teacher's standardised units."""
        return self.project(self.pooled(patches))
