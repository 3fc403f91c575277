"""Models: one registry :data:`MODELS` from names to builders, and :func:`build_model`.

Every model is built from its architecture's config alone (:mod:`moodnet.models.config`: one
typed dataclass per entry of :data:`MODELS`, a tagged union in checkpoints and YAML), takes
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
from moodnet.models.config import (
    TASKS,
    LateFusionConfig,
    LyricsBagConfig,
    LyricsCNNConfig,
    MidFusionConfig,
    ModelConfig,
    MusicnnHeadConfig,
    PaperAudioConfig,
    ShortChunkConfig,
    parse_model_config,
)

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "MODELS",
    "TASKS",
    "LateFusionConfig",
    "LyricsBagConfig",
    "LyricsCNNConfig",
    "MidFusionConfig",
    "ModelConfig",
    "ModelSpec",
    "MusicnnHeadConfig",
    "PaperAudioConfig",
    "ShortChunkConfig",
    "build_model",
    "model_spec",
    "parse_model_config",
]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its config class, where its module class lives, what it is."""

    config: type[ModelConfig]
    module: str
    attr: str
    description: str

    @property
    def uses_audio(self) -> bool:
        return self.config.uses_audio

    @property
    def uses_lyrics(self) -> bool:
        return self.config.uses_lyrics

    def load(self) -> Any:
        return getattr(importlib.import_module(self.module), self.attr)

    def __call__(self, config: ModelConfig, *, head: bool = True) -> nn.Module:
        if not isinstance(config, self.config):
            raise ConfigError(f"{self.attr} is built from a {self.config.__name__}, "
                              f"not {type(config).__name__}")  # fmt: skip
        model: nn.Module = self.load()(config, head=head)
        return model


_SPECS = (
    ModelSpec(PaperAudioConfig, "moodnet.models.audio", "PaperAudioCNN",
              "Delbouys et al. 1-D ConvNet over mel bands (32x8, pool 4, 16x8, pool 4, dense 64)"),
    ModelSpec(ShortChunkConfig, "moodnet.models.audio", "ShortChunkCNN",
              "2-D CNN over ~3 s log-mel chunks, chunk features averaged at inference"),
    ModelSpec(MusicnnHeadConfig, "moodnet.models.musicnn_head", "MusicnnHead",
              "frozen pretrained musicnn (MSD) -> mean 200-d patch embedding -> linear head / MLP"),
    ModelSpec(LyricsCNNConfig, "moodnet.models.lyrics", "LyricsCNN",
              "Delbouys et al. word vectors -> Conv1d 16x2 -> max-pool 2 -> LSTM 40"),
    ModelSpec(LyricsBagConfig, "moodnet.models.lyrics", "LyricsBag",
              "bag of word vectors (mean and max) -> dense (lexicon / embedding MLP)"),
    ModelSpec(MidFusionConfig, "moodnet.models.fusion", "MidFusion",
              "audio and lyrics penultimate features concatenated -> dense 100, trained jointly"),
    ModelSpec(LateFusionConfig, "moodnet.models.fusion", "LateFusion",
              "weighted average of an audio model and a lyrics model"),
)  # fmt: skip
MODELS: dict[str, ModelSpec] = {spec.config.name: spec for spec in _SPECS}
"""Architecture name (its config's tag) -> :class:`ModelSpec`."""


def model_spec(name: str) -> ModelSpec:
    """The registered model called ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; known: {sorted(MODELS)}") from None


def build_model(config: ModelConfig) -> nn.Module:
    """A freshly initialised model for ``config`` (in training mode, on the CPU).

    ``config`` has its feature-derived fields filled (:meth:`ModelConfig.with_features`).
    """
    return model_spec(config.name)(config)
