"""Models: one registry :data:`MODELS` from names to builders, and :func:`build_model`.

Every model is built from a :class:`ModelConfig` alone, takes
``forward(mel=(B, n_mels, T) raw log-mel, tokens=(B, L) word ids, has_lyrics=(B,) bool)``
(each optional where the model does not use it) and returns raw outputs:
``{"va": (B, 2) on the target scale, "logits": (B, K)}`` depending on ``config.task``.
Models with ``precomputes_audio = True`` (``musicnn_head``, and ``mid_fusion`` over it) have a
frozen audio part: ``precompute(mel) -> (B, D)`` embeds clips once, and ``forward`` also
accepts those ``embeddings=(B, D)`` in place of ``mel``.

Importing this package does not import torch; building a model does.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moodnet.errors import ConfigError
from moodnet.models.config import TASKS, ModelConfig

if TYPE_CHECKING:
    from torch import nn

__all__ = ["MODELS", "TASKS", "ModelConfig", "ModelSpec", "build_model", "model_spec"]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: where its class lives and which inputs it reads."""

    module: str
    attr: str
    uses_audio: bool
    uses_lyrics: bool
    description: str

    def load(self) -> Any:
        return getattr(importlib.import_module(self.module), self.attr)

    def __call__(self, config: ModelConfig, *, head: bool = True) -> nn.Module:
        model: nn.Module = self.load()(config, head=head)
        return model


MODELS: dict[str, ModelSpec] = {
    "paper_audio": ModelSpec(
        "moodnet.models.audio",
        "PaperAudioCNN",
        True,
        False,
        "Delbouys et al. 1-D ConvNet over mel bands (32x8, pool 4, 16x8, pool 4, dense 64)",
    ),
    "short_chunk": ModelSpec(
        "moodnet.models.audio",
        "ShortChunkCNN",
        True,
        False,
        "2-D CNN over ~3 s log-mel chunks, chunk features averaged at inference",
    ),
    "musicnn_head": ModelSpec(
        "moodnet.models.musicnn_head",
        "MusicnnHead",
        True,
        False,
        "frozen pretrained musicnn (MSD) -> mean 200-d patch embedding -> linear head / MLP",
    ),
    "lyrics_cnn": ModelSpec(
        "moodnet.models.lyrics",
        "LyricsCNN",
        False,
        True,
        "Delbouys et al. word vectors -> Conv1d 16x2 -> max-pool 2 -> LSTM 40",
    ),
    "lyrics_bag": ModelSpec(
        "moodnet.models.lyrics",
        "LyricsBag",
        False,
        True,
        "bag of word vectors (mean and max) -> dense (lexicon / embedding MLP)",
    ),
    "mid_fusion": ModelSpec(
        "moodnet.models.fusion",
        "MidFusion",
        True,
        True,
        "audio and lyrics penultimate features concatenated -> dense 100, trained jointly",
    ),
    "late_fusion": ModelSpec(
        "moodnet.models.fusion",
        "LateFusion",
        True,
        True,
        "weighted average of an audio model and a lyrics model",
    ),
}


def model_spec(name: str) -> ModelSpec:
    """The registered model called ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; known: {sorted(MODELS)}") from None


def build_model(config: ModelConfig) -> nn.Module:
    """A freshly initialised model for ``config`` (in training mode, on the CPU)."""
    return model_spec(config.name)(config)
