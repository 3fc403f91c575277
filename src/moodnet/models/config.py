"""The hyper-parameters of every model, as one dataclass stored in the checkpoint.

Loading a checkpoint rebuilds the model from this config alone (nanoGPT style). The data-
dependent fields (``task``, ``n_classes``, ``n_mels``, ``vocab_size``, ``embed_dim``) are
filled by the training glue from the data; the rest are architectural choices.
"""

from __future__ import annotations

from dataclasses import dataclass

from moodnet.errors import ConfigError

TASKS = ("va", "classes", "multitask")

_MAX_WIDTH = 4096  # channels or hidden units of one layer
_MAX_CHUNK_BLOCKS = 8
_INT_RANGES: dict[str, tuple[int, int]] = {
    "n_classes": (0, 1000),
    "n_mels": (1, 512),
    "n_frames": (1, 100_000),
    "audio_kernel": (1, 256),
    "audio_pool": (1, 64),
    "audio_hidden": (1, _MAX_WIDTH),
    "chunk_frames": (1, 100_000),
    "vocab_size": (1, 1_000_000),
    "embed_dim": (1, 1024),
    "pad_id": (0, 1_000_000),
    "lyrics_channels": (1, _MAX_WIDTH),
    "lyrics_kernel": (1, 64),
    "lyrics_pool": (1, 64),
    "lstm_hidden": (1, _MAX_WIDTH),
    "bag_hidden": (1, _MAX_WIDTH),
    "fusion_hidden": (1, _MAX_WIDTH),
    "musicnn_hidden": (0, _MAX_WIDTH),
}
"""Every integer field's range: a checkpoint outside them is refused before any layer is
built (``"musicnn_hidden": 10000000`` asked for 10 GB)."""


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"ModelConfig.{name}: {value!r} is not an integer in {low}..{high}")


@dataclass
class ModelConfig:
    """Architecture of one model.

    Attributes
    ----------
    name : key of :data:`moodnet.models.MODELS`
    task : ``va`` (valence, arousal regression), ``classes`` (K-way logits) or ``multitask``
    n_classes : K for ``classes`` / ``multitask``
    n_mels : mel bands of the input, (B, n_mels, T)
    n_frames : frames the paper ConvNet sees (its dense layer is sized for it); longer inputs
        are cropped (at random in training when ``random_crop``, else the centre), shorter
        ones zero-padded at the end (after normalisation)
    random_crop : crop a random window in training instead of the start
    dropout : dropout before every head and dense layer
    audio_channels, audio_kernel, audio_pool, audio_hidden : paper ConvNet (32, 16), 8, 4, 64
    chunk_frames : frames per chunk of the short-chunk CNN (128 frames ≈ 3 s at 43 frames/s)
    chunk_channels : channels of its 3x3 conv blocks (each followed by 2x2 max-pooling)
    vocab_size, embed_dim, pad_id : word-embedding table; its rows are set from a given matrix
    freeze_embedding : keep the given word vectors fixed
    lyrics_channels, lyrics_kernel, lyrics_pool, lstm_hidden : lyrics CNN 16, 2, 2, 40
    bag_hidden : hidden units of the bag-of-embeddings MLP
    audio_model, lyrics_model : branch models of the fusion models
    fusion_hidden : dense layer after the concatenated branch features (paper: 100)
    modality_dropout : probability of hiding a track's lyrics in training (fusion models)
    late_weight : weight of the audio branch in late fusion (lyrics get 1 - weight)
    musicnn_hidden : hidden units of the MLP on the frozen musicnn embedding (``musicnn_head``;
        0 = a linear head on the standardised 200-d embedding)
    """

    name: str = "paper_audio"
    task: str = "va"
    n_classes: int = 0
    n_mels: int = 40
    n_frames: int = 1292
    random_crop: bool = True
    dropout: float = 0.0
    audio_channels: tuple[int, ...] = (32, 16)
    audio_kernel: int = 8
    audio_pool: int = 4
    audio_hidden: int = 64
    chunk_frames: int = 128
    chunk_channels: tuple[int, ...] = (16, 32, 64, 64)
    vocab_size: int = 2
    embed_dim: int = 50
    pad_id: int = 0
    freeze_embedding: bool = True
    lyrics_channels: int = 16
    lyrics_kernel: int = 2
    lyrics_pool: int = 2
    lstm_hidden: int = 40
    bag_hidden: int = 64
    audio_model: str = "paper_audio"
    lyrics_model: str = "lyrics_cnn"
    fusion_hidden: int = 100
    modality_dropout: float = 0.0
    late_weight: float = 0.5
    musicnn_hidden: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"ModelConfig.task: {self.task!r} is not one of {TASKS}")
        if self.task != "va" and self.n_classes < 2:
            raise ConfigError(f"ModelConfig: task {self.task!r} needs n_classes >= 2")
        if len(self.audio_channels) != 2:
            raise ConfigError("ModelConfig.audio_channels: the paper ConvNet has two layers")
        for name in ("dropout", "modality_dropout", "late_weight"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise ConfigError(f"ModelConfig.{name}: {value!r} is not in [0, 1]")
        for name, (low, high) in _INT_RANGES.items():
            _check_int(name, getattr(self, name), low, high)
        if not 1 <= len(self.chunk_channels) <= _MAX_CHUNK_BLOCKS:
            raise ConfigError(
                f"ModelConfig.chunk_channels: {len(self.chunk_channels)} blocks, "
                f"not 1..{_MAX_CHUNK_BLOCKS}"
            )
        for name in ("audio_channels", "chunk_channels"):
            for value in getattr(self, name):
                _check_int(name, value, 1, _MAX_WIDTH)
        if self.pad_id >= self.vocab_size:
            raise ConfigError(f"ModelConfig.pad_id: {self.pad_id} >= vocab_size {self.vocab_size}")

    @property
    def has_va(self) -> bool:
        return self.task in ("va", "multitask")

    @property
    def has_classes(self) -> bool:
        return self.task in ("classes", "multitask")
