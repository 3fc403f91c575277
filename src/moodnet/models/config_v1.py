"""Checkpoint format 1: one flat model config of 28 fields for every architecture.

Format 1 stored every field of every architecture, most of them unused and some stale (the
shipped ``musicnn_head`` says ``n_frames: 1292`` while its 16 kHz, hop 256, 30 s features
give 1876 frames). :func:`config_from_flat` turns such a config into the typed config of
:mod:`moodnet.models.config`, keeping exactly the fields the architecture reads, so the
rebuilt model and its outputs are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from moodnet.errors import ConfigError
from moodnet.models.config import ModelConfig, parse_model_config

if TYPE_CHECKING:
    from moodnet.audio import FeatureConfig

FLAT_DEFAULTS: dict[str, Any] = {
    "name": "paper_audio", "task": "va", "n_classes": 0, "n_mels": 40, "n_frames": 1292,
    "random_crop": True, "dropout": 0.0, "audio_channels": [32, 16], "audio_kernel": 8,
    "audio_pool": 4, "audio_hidden": 64, "chunk_frames": 128,
    "chunk_channels": [16, 32, 64, 64], "vocab_size": 2, "embed_dim": 50, "pad_id": 0,
    "freeze_embedding": True, "lyrics_channels": 16, "lyrics_kernel": 2, "lyrics_pool": 2,
    "lstm_hidden": 40, "bag_hidden": 64, "audio_model": "paper_audio",
    "lyrics_model": "lyrics_cnn", "fusion_hidden": 100, "modality_dropout": 0.0,
    "late_weight": 0.5, "musicnn_hidden": 0,
}  # fmt: skip
"""The fields of the flat config of format 1 and their defaults there."""

_LYRICS = {"dropout": "dropout", "vocab_size": "vocab_size", "embed_dim": "embed_dim",
           "pad_id": "pad_id", "freeze_embedding": "freeze_embedding"}  # fmt: skip
RENAMES: dict[str, dict[str, str]] = {
    "paper_audio": {"dropout": "dropout", "n_mels": "n_mels", "random_crop": "random_crop",
                    "audio_channels": "channels", "audio_kernel": "kernel",
                    "audio_pool": "pool", "audio_hidden": "hidden"},
    "short_chunk": {"dropout": "dropout", "n_mels": "n_mels", "chunk_frames": "chunk_frames",
                    "chunk_channels": "channels", "audio_hidden": "hidden"},
    "musicnn_head": {"dropout": "dropout", "musicnn_hidden": "hidden"},
    "lyrics_cnn": {**_LYRICS, "lyrics_channels": "channels", "lyrics_kernel": "kernel",
                   "lyrics_pool": "pool", "lstm_hidden": "hidden"},
    "lyrics_bag": {**_LYRICS, "bag_hidden": "hidden"},
    "mid_fusion": {"dropout": "dropout", "fusion_hidden": "hidden",
                   "modality_dropout": "modality_dropout"},
    "late_fusion": {"late_weight": "late_weight"},
}  # fmt: skip
"""Per architecture: the flat fields it read -> their names in its typed config (besides
``task`` and ``n_classes``, which every model reads, and the paper ConvNet's ``n_frames``,
which becomes ``crop_frames`` where it was not the clip's length). Format 1's one
``dropout`` was every layer's: each branch of a fusion model gets it."""


def renamed(flat_name: str) -> str | None:
    """Where a flat field of format 1 lives now (``musicnn_head.hidden``), or None."""
    places = [f"{arch}.{new}" for arch, names in RENAMES.items()
              for old, new in names.items() if old == flat_name and old != new]  # fmt: skip
    return " / ".join(places) or None


def config_from_flat(flat: object, *, features: FeatureConfig | None) -> ModelConfig:
    """The typed config of a format-1 flat model config.

    Parameters
    ----------
    flat : the ``model`` object of a format-1 ``checkpoint.json``
    features : the checkpoint's feature config (gives the paper ConvNet's ``n_frames``), or
        None when it records none

    Raises
    ------
    ConfigError
        Not a mapping, an unknown field or architecture, or a value out of range.
    """
    if not isinstance(flat, Mapping):
        raise ConfigError(f"model (format 1): expected a mapping, got {type(flat).__name__}")
    unknown = sorted(set(flat) - set(FLAT_DEFAULTS))
    if unknown:
        raise ConfigError(f"model (format 1): unknown field(s) {unknown}")
    values = {**FLAT_DEFAULTS, **flat}
    tagged = _tagged(values["name"], values, features)
    tagged.update(task=values["task"], n_classes=values["n_classes"])
    return parse_model_config(tagged, where="model (format 1)")


_FUSIONS = ("mid_fusion", "late_fusion")


def _tagged(name: object, values: Mapping[str, Any], features: FeatureConfig | None, *,
            branch: bool = False) -> dict[str, Any]:  # fmt: skip
    """The tagged form of one architecture (a branch: without the head fields)."""
    if not isinstance(name, str) or name not in RENAMES or (branch and name in _FUSIONS):
        raise ConfigError(f"model (format 1): unknown {'branch ' * branch}model {name!r}")
    out: dict[str, Any] = {"name": name}
    out.update({new: values[old] for old, new in RENAMES[name].items()})
    if name == "paper_audio":
        out.update(_paper_frames(values["n_frames"], features))
    if name in _FUSIONS:
        out["audio"] = _tagged(values["audio_model"], values, features, branch=True)
        out["lyrics"] = _tagged(values["lyrics_model"], values, features, branch=True)
    return out


def _paper_frames(n_frames: object, features: FeatureConfig | None) -> dict[str, object]:
    """Format 1's ``n_frames`` was the window the paper ConvNet sees: ``crop_frames`` now,
    unless it is the clip's own length (``n_frames``, from the features)."""
    if features is None:
        return {"n_frames": n_frames}
    clip = features.n_frames
    return {"n_frames": clip, "crop_frames": None if n_frames == clip else n_frames}
