"""The training configuration: one nested dataclass, read from YAML with dotted overrides.

``load_train_config("paper_audio", overrides=["optim.lr=0.01"])`` (a packaged config by
name, or a YAML path). Every field
has a default, so a YAML file only names what differs. ``model`` is one architecture's config,
tagged by its name (``model: {name: paper_audio, crop_frames: 1024}``; fusion models nest
their branches: ``model: {name: mid_fusion, audio: {name: ...}, lyrics: {name: ...}}``;
:mod:`moodnet.models.config`); ``--set model.dropout=0.3`` changes one field and
``--set 'model={name: lyrics_bag}'`` the whole model. The model fields that derive from the
features (``n_mels``, the paper ConvNet's ``n_frames``) are filled from ``features`` when the
config is built (a value that disagrees is an error); the data-dependent ones (``task``,
``n_classes``, ``vocab_size``, ``embed_dim``) from the data at training time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from moodnet.audio import FeatureConfig
from moodnet.config import load_config
from moodnet.core import DEFAULT_DEVICE
from moodnet.errors import ConfigError
from moodnet.models.config import ModelConfig, PaperAudioConfig

OPTIMISERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("none", "plateau")
MONITORS = ("loss", "r2", "accuracy", "macro_f1")
DEVICES = (DEFAULT_DEVICE, "cpu", "cuda")
WORD_VECTORS = ("glove", "random")


@dataclass
class DataConfig:
    """Where the data is and how targets and lyrics are made.

    Attributes
    ----------
    manifest : JSONL manifest with ``split`` set on every track used
    cache_dir : feature cache written by ``moodnet extract``
    lexicon_dir : folder of the Warriner / NRC-VAD lexicons (lexicon features), optional
    labels : ``va`` (regression), a label scheme (``kmeans4``, ``abs16``, ``quadrant``, ...)
        or ``given`` (the manifest's own ``label``, e.g. MIREX clusters or 4Q quadrants)
    multitask : with a class scheme, also regress valence/arousal
    va_scale : the scale of the VA targets, recorded in the checkpoint (``unit`` = [-1, 1])
    max_tokens : lyrics tokens kept per track (the first ones)
    min_count, max_vocab : vocabulary from the train lyrics only
    word_vectors : ``glove`` (GloVe 6B 50-d) or ``random`` initial word vectors
    """

    manifest: Path | None = None
    cache_dir: Path | None = None
    lexicon_dir: Path | None = None
    labels: str = "va"
    multitask: bool = False
    va_scale: str = "unit"
    max_tokens: int = 50
    min_count: int = 2
    max_vocab: int = 20000
    word_vectors: str = "glove"

    def __post_init__(self) -> None:
        if self.word_vectors not in WORD_VECTORS:
            raise ConfigError(f"data.word_vectors: {self.word_vectors!r} not in {WORD_VECTORS}")
        if self.multitask and self.labels == "va":
            raise ConfigError("data.multitask needs a class label scheme in data.labels")
        if self.max_tokens < 1:
            raise ConfigError("data.max_tokens must be >= 1")


@dataclass
class OptimConfig:
    """Optimiser and learning-rate schedule.

    Attributes
    ----------
    name : ``adam``, ``adamw`` or ``sgd`` (with ``momentum``)
    lr, weight_decay, momentum : the usual
    scheduler : ``none`` or ``plateau`` (multiply lr by ``plateau_factor`` after
        ``plateau_patience`` epochs without improvement of the monitored value)
    grad_clip : max gradient norm (0 = off)
    """

    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    scheduler: str = "plateau"
    plateau_factor: float = 0.2
    plateau_patience: int = 3
    grad_clip: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in OPTIMISERS:
            raise ConfigError(f"optim.name: {self.name!r} not in {OPTIMISERS}")
        if self.scheduler not in SCHEDULERS:
            raise ConfigError(f"optim.scheduler: {self.scheduler!r} not in {SCHEDULERS}")
        if self.lr <= 0:
            raise ConfigError("optim.lr must be > 0")


@dataclass
class AugmentConfig:
    """Training-time augmentation of the raw log-mel (B, n_mels, T).

    Attributes
    ----------
    gain : random offset added to a whole clip, uniform in [-gain, gain] log-mel units
    freq_masks, freq_mask_bands : number and maximum width of mel-band masks
    time_masks, time_mask_frames : number and maximum width of time masks
    Masked cells are set to the train mean of their band (0 after normalisation).
    """

    gain: float = 0.0
    freq_masks: int = 0
    freq_mask_bands: int = 0
    time_masks: int = 0
    time_mask_frames: int = 0

    @property
    def active(self) -> bool:
        return self.gain > 0 or self.freq_masks > 0 or self.time_masks > 0


@dataclass
class TrainConfig:
    """Everything one training run needs.

    Attributes
    ----------
    data, features, optim, augment : the sections above
    model : the architecture's config (:mod:`moodnet.models.config`), its feature-derived
        fields filled from ``features``
    batch_size, eval_batch_size : minibatch sizes
    max_epochs, patience : early stopping after ``patience`` epochs without improvement of
        ``monitor`` on the validation split (0 = never stop early); the best epoch's weights
        are restored in every case
    monitor : ``loss`` (validation loss), ``r2`` (mean over valence/arousal), ``accuracy`` or
        ``macro_f1``
    class_weights : weight the cross-entropy by inverse train class frequency
    multitask_weight : weight of the cross-entropy against the VA loss in multi-task training
    seed : seeds torch and numpy generators of the run
    device : ``auto`` (CUDA when present), ``cpu`` or ``cuda``
    num_threads : torch CPU threads (0 = leave torch's default)
    bf16 : bfloat16 autocast (about 1.8x faster on AVX-512 BF16 machines; float32, with a
        warning, on a device without native bfloat16)
    out_dir : run directory (checkpoint, metrics.csv); none = do not save
    progress : show tqdm progress bars
    tensorboard : also log to TensorBoard (only if the package is installed)
    """

    data: DataConfig = field(default_factory=DataConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=PaperAudioConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    batch_size: int = 32
    eval_batch_size: int = 64
    max_epochs: int = 50
    patience: int = 10
    monitor: str = "loss"
    class_weights: bool = False
    multitask_weight: float = 1.0
    seed: int = 0
    device: str = DEFAULT_DEVICE
    num_threads: int = 0
    bf16: bool = False
    out_dir: Path | None = None
    progress: bool = True
    tensorboard: bool = False

    def __post_init__(self) -> None:
        if self.monitor not in MONITORS:
            raise ConfigError(f"monitor: {self.monitor!r} not in {MONITORS}")
        if self.device not in DEVICES:
            raise ConfigError(f"device: {self.device!r} not in {DEVICES}")
        for name in ("batch_size", "eval_batch_size", "max_epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1")
        if self.patience < 0 or self.num_threads < 0:
            raise ConfigError("patience and num_threads must be >= 0")
        if not isinstance(self.model, ModelConfig):
            raise ConfigError(f"model: expected a model config, got {type(self.model).__name__}")
        try:
            self.model = self.model.with_features(self.features)
        except ConfigError as exc:
            raise ConfigError(f"model: {exc}") from None


def load_train_config(
    path: str | Path | None = None, *, overrides: Iterable[str] = ()
) -> TrainConfig:
    """Read a YAML training config (or the defaults) and apply ``key=value`` overrides."""
    return load_config(TrainConfig, path, overrides=overrides)
