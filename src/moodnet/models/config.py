"""One typed config per architecture, stored in the checkpoint as a tagged union.

Every architecture of :data:`moodnet.models.MODELS` has its own frozen dataclass holding only
the fields it uses; loading a checkpoint rebuilds the model from its config alone (nanoGPT
style). The serialised form, in ``checkpoint.json`` and in YAML, is tagged by ``name``::

    model:
      name: mid_fusion
      hidden: 64
      audio: {name: musicnn_head, hidden: 64, dropout: 0.3}
      lyrics: {name: lyrics_bag, hidden: 32}

:func:`parse_model_config` is the one reader (a :class:`~moodnet.errors.ConfigError` names an
unknown or misplaced field and where it belongs); :meth:`ModelConfig.to_tagged` the writer.
Fields come in three kinds:

- architectural choices, set in YAML (``hidden``, ``channels``, ``crop_frames``, ...);
- fields derived from the feature config (``n_mels``, ``n_frames``): left out of YAML and
  filled by :meth:`ModelConfig.with_features`, which refuses a value that disagrees with the
  features (``musicnn_head`` also refuses features other than its backbone's);
- data-dependent fields (``task``, ``n_classes``, ``vocab_size``, ``embed_dim``): filled from
  the train data by :meth:`ModelConfig.with_data`. A fusion model's branches take its
  ``task`` and ``n_classes``; they are written once, on the fusion config.

Checkpoints of format 1 stored one flat config of 28 fields for every architecture;
:mod:`moodnet.models.config_v1` converts them.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar, Self

from moodnet.errors import ConfigError

if TYPE_CHECKING:
    from moodnet.audio import FeatureConfig

TASKS = ("va", "classes", "multitask")
HEAD_FIELDS = ("task", "n_classes")
"""Fields of a fusion model that its branches take from it (never set on a branch)."""
MAX_WIDTH = 4096
"""Most channels or hidden units of one layer (a checkpoint asking for more is refused
before any layer is built: ``hidden: 10000000`` asked for 10 GB)."""
MAX_CHUNK_BLOCKS = 8
MAX_MELS = 512
MAX_FRAMES = 100_000
MAX_VOCAB = 1_000_000
MAX_CLASSES = 1000


def _int(default: int | None, low: int, high: int) -> Any:
    """A dataclass field holding an integer in ``low..high`` (or None when unset)."""
    return field(default=default, metadata={"range": (low, high)})


def _ints(default: tuple[int, ...], *, count: tuple[int, int]) -> Any:
    """A field holding ``count[0]..count[1]`` layer widths in ``1..MAX_WIDTH``."""
    return field(default=default, metadata={"count": count, "range": (1, MAX_WIDTH)})


def _fraction(default: float) -> Any:
    """A field holding a number in [0, 1]."""
    return field(default=default, metadata={"fraction": True})


def _flag(default: bool) -> Any:
    """A field holding a bool."""
    return field(default=default, metadata={"flag": True})


@dataclass(frozen=True)
class ModelConfig:
    """The fields every model has: its output head. One subclass per architecture.

    Attributes
    ----------
    name : the key of :data:`moodnet.models.MODELS`; the tag of the union, set by the class
    task : ``va`` (valence, arousal regression), ``classes`` (K-way logits) or ``multitask``;
        filled from the train labels
    n_classes : K for ``classes`` / ``multitask`` (0 for ``va``); filled from the labels
    """

    name: str = field(default="", init=False)
    task: str = "va"
    n_classes: int = _int(0, 0, MAX_CLASSES)

    uses_audio: ClassVar[bool] = False
    uses_lyrics: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("ModelConfig is abstract: use an architecture's config class")
        if self.task not in TASKS:
            raise ConfigError(f"{self.name}.task: {self.task!r} is not one of {TASKS}")
        for item in fields(self):
            _check_field(self.name, item, getattr(self, item.name))
        if self.task != "va" and self.n_classes < 2:
            raise ConfigError(f"{self.name}: task {self.task!r} needs n_classes >= 2")

    @classmethod
    def from_tagged(cls, data: object, *, where: str = "model") -> ModelConfig:
        """Hook of :func:`moodnet.config.from_dict`: :func:`parse_model_config` for fields
        typed with this class."""
        return parse_model_config(data, where=where, kind=cls)

    def to_tagged(self) -> dict[str, Any]:
        """The tagged form ``{"name": ..., **fields}``; branches last, without the head fields
        they take from the fusion model."""
        items = [(item.name, getattr(self, item.name)) for item in fields(self) if item.init]
        items.sort(key=lambda pair: isinstance(pair[1], ModelConfig))
        return {"name": self.name, **{key: _plain(value) for key, value in items}}

    @property
    def has_va(self) -> bool:
        return self.task in ("va", "multitask")

    @property
    def has_classes(self) -> bool:
        return self.task in ("classes", "multitask")

    @property
    def input_mels(self) -> int | None:
        """Mel bands of the model's log-mel input (None: it reads no audio, or unset)."""
        return None

    @property
    def input_vocab(self) -> int | None:
        """Word ids the model reads are ``0..input_vocab - 1`` (None: it reads no lyrics)."""
        return None

    def branches(self) -> dict[str, ModelConfig]:
        """The branch configs of a fusion model by part (``audio``, ``lyrics``); else empty."""
        return {}

    def with_features(self, features: FeatureConfig) -> Self:
        """This config with the fields that derive from ``features`` filled in.

        Raises
        ------
        ConfigError
            A field set here disagrees with the features, or the model cannot read them.
        """
        return self

    def with_data(
        self,
        *,
        task: str,
        n_classes: int,
        n_mels: int | None = None,
        vocab_size: int | None = None,
        embed_dim: int | None = None,
        min_vocab: int | None = None,
    ) -> Self:
        """This config with the data-dependent fields filled from the train data.

        Parameters
        ----------
        task, n_classes : the targets the train data has
        n_mels : mel bands of the train log-mel (checked against the audio part's)
        vocab_size, embed_dim : the shape of the given word-vector matrix
        min_vocab : without word vectors, one more than the largest train word id
        """
        return replace(self, task=task, n_classes=n_classes)


def _plain(value: Any) -> Any:
    if isinstance(value, ModelConfig):
        return {k: v for k, v in value.to_tagged().items() if k not in HEAD_FIELDS}
    if isinstance(value, tuple):
        return list(value)
    return value


def _check_field(name: str, item: dataclasses.Field[Any], value: object) -> None:
    meta, where = item.metadata, f"{name}.{item.name}"
    if "count" in meta:
        low, high = meta["count"]
        if not isinstance(value, tuple) or not low <= len(value) <= high:
            count = f"{low}" if low == high else f"{low}..{high}"
            raise ConfigError(f"{where}: expected a list of {count} widths, got {value!r}")
        for width in value:
            _check_int(where, width, *meta["range"])
    elif "range" in meta and value is not None:
        _check_int(where, value, *meta["range"])
    elif meta.get("fraction") and not (
        isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0
    ):
        raise ConfigError(f"{where}: {value!r} is not in [0, 1]")
    elif meta.get("flag") and not isinstance(value, bool):
        raise ConfigError(f"{where}: {value!r} is not true or false")


def _check_int(where: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}: {value!r} is not an integer in {low}..{high}")


FROM_FEATURES = "it derives from the feature config: leave it out of the model config"
FROM_DATA = "the train arrays were not made with the config's features"


def _derived(
    name: str, field_name: str, value: int | None, wanted: int, *, source: str, hint: str
) -> int:
    """``wanted`` (from the features or the data) when ``value`` is unset or equal to it."""
    if value is not None and value != wanted:
        raise ConfigError(
            f"{name}.{field_name}={value} disagrees with {source} ({wanted}); {hint}"
        )
    return wanted


# -- audio models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioConfig(ModelConfig):
    """An audio model (reads log-mel, no lyrics): the audio branch of the fusion models.

    Attributes
    ----------
    dropout : dropout before the model's dense layers and its head
    """

    dropout: float = _fraction(0.0)

    uses_audio: ClassVar[bool] = True


@dataclass(frozen=True)
class MelConfig(AudioConfig):
    """An audio model trained on any log-mel: its band count comes from the features.

    Attributes
    ----------
    dropout : see :class:`AudioConfig`
    n_mels : mel bands of the input (B, n_mels, T); filled from ``features.n_mels``
    """

    n_mels: int | None = _int(None, 1, MAX_MELS)

    @property
    def input_mels(self) -> int | None:
        return self.n_mels

    @property
    def bands(self) -> int:
        """``n_mels``, which must be set to build the model."""
        if self.n_mels is None:
            raise ConfigError(
                f"{self.name}.n_mels is not set: fill it from the features "
                f"(config.with_features(features))"
            )
        return self.n_mels

    def with_features(self, features: FeatureConfig) -> Self:
        n_mels = _derived(self.name, "n_mels", self.n_mels, features.n_mels,
                          source="features.n_mels", hint=FROM_FEATURES)
        return replace(self, n_mels=n_mels)

    def with_data(self, *, task: str, n_classes: int, n_mels: int | None = None,
                  **vocab: int | None) -> Self:
        filled = replace(self, task=task, n_classes=n_classes)
        if n_mels is None:
            return filled
        bands = _derived(self.name, "n_mels", self.n_mels, n_mels,
                         source="the bands of the train log-mel", hint=FROM_DATA)
        return replace(filled, n_mels=bands)


@dataclass(frozen=True)
class PaperAudioConfig(MelConfig):
    """The audio ConvNet of Delbouys et al. (2018) (``paper_audio``).

    Mel bands as channels: Conv1d ``channels[0]`` x ``kernel`` -> max-pool ``pool`` ->
    batch-norm -> Conv1d ``channels[1]`` x ``kernel`` -> max-pool -> batch-norm -> dense
    ``hidden`` -> head. The dense layer is sized for the window the network sees.

    Attributes
    ----------
    dropout : dropout before the dense layer and the head
    n_mels : mel bands; filled from the features
    n_frames : frames of one clip's log-mel; filled from the features (sample rate, hop and
        clip length: ``features.n_frames``)
    crop_frames : frames the network sees (None = ``n_frames``, the whole clip); longer inputs
        are cropped (at random in training when ``random_crop``, else the centre), shorter
        ones zero-padded at the end (after normalisation)
    random_crop : crop a random window in training instead of the centre
    channels : widths of the two conv layers (paper: 32, 16)
    kernel : conv kernel length in frames (8)
    pool : max-pooling factor after each conv (4)
    hidden : units of the dense layer, the penultimate features (64)
    """

    name: str = field(default="paper_audio", init=False)
    n_frames: int | None = _int(None, 1, MAX_FRAMES)
    crop_frames: int | None = _int(None, 1, MAX_FRAMES)
    random_crop: bool = _flag(True)
    channels: tuple[int, ...] = _ints((32, 16), count=(2, 2))
    kernel: int = _int(8, 1, 256)
    pool: int = _int(4, 1, 64)
    hidden: int = _int(64, 1, MAX_WIDTH)

    @property
    def input_frames(self) -> int:
        """Frames the network sees: ``crop_frames``, else ``n_frames`` (one must be set)."""
        frames = self.crop_frames if self.crop_frames is not None else self.n_frames
        if frames is None:
            raise ConfigError(
                "paper_audio.n_frames is not set: fill it from the features "
                "(config.with_features(features)) or set crop_frames"
            )
        return frames

    def with_features(self, features: FeatureConfig) -> Self:
        filled = super().with_features(features)
        frames = _derived(
            self.name, "n_frames", self.n_frames, features.n_frames,
            source=f"the frames of the features ({features.sample_rate} Hz, hop "
            f"{features.hop_length}, {features.clip_seconds:g} s)",
            hint=f"{FROM_FEATURES} (crop_frames sets a shorter window)",
        )
        return replace(filled, n_frames=frames)


@dataclass(frozen=True)
class ShortChunkConfig(MelConfig):
    """A 2-D CNN over short log-mel chunks (``short_chunk``, after Won et al., 2020).

    A random chunk per clip in training, the mean of all chunk features at inference.

    Attributes
    ----------
    dropout : dropout before the dense layer and the head
    n_mels : mel bands; filled from the features
    chunk_frames : frames per chunk (128 frames = 3 s at 22.05 kHz, hop 512)
    channels : widths of the 3x3 conv blocks (each followed by 2x2 max-pooling), 1 to 8
    hidden : units of the dense layer on the pooled conv features
    """

    name: str = field(default="short_chunk", init=False)
    chunk_frames: int = _int(128, 1, MAX_FRAMES)
    channels: tuple[int, ...] = _ints((16, 32, 64, 64), count=(1, MAX_CHUNK_BLOCKS))
    hidden: int = _int(64, 1, MAX_WIDTH)


@dataclass(frozen=True)
class MusicnnHeadConfig(AudioConfig):
    """A head on the frozen, pretrained musicnn (MSD) embedding (``musicnn_head``).

    Its input is musicnn's own log-mel (:func:`moodnet.audio.musicnn_frontend.
    musicnn_feature_config`, the packaged ``features_musicnn``): :meth:`with_features`
    refuses any other sample rate, STFT, mel bank or log compression.

    Attributes
    ----------
    dropout : dropout before the MLP and the head
    hidden : units of the MLP on the standardised 200-d embedding (0 = a linear head)
    """

    name: str = field(default="musicnn_head", init=False)
    hidden: int = _int(0, 0, MAX_WIDTH)

    @property
    def input_mels(self) -> int:
        from moodnet.audio.musicnn_frontend import MUSICNN_N_MELS

        return MUSICNN_N_MELS

    def with_features(self, features: FeatureConfig) -> Self:
        check_musicnn_features(features)
        return self

    def with_data(self, *, task: str, n_classes: int, n_mels: int | None = None,
                  **vocab: int | None) -> Self:
        if n_mels is not None and n_mels != self.input_mels:
            raise ConfigError(
                f"musicnn_head reads musicnn's {self.input_mels}-band log-mel; the train "
                f"log-mel has {n_mels} bands (extract with --config features_musicnn)"
            )
        return replace(self, task=task, n_classes=n_classes)


BACKBONE_FREE_FIELDS = ("clip_seconds", "crop")
"""Feature fields the frozen musicnn reads any value of (every other must be its own)."""


def check_musicnn_features(features: FeatureConfig) -> None:
    """Refuse log-mel features other than those the pretrained musicnn was trained on.

    Raises
    ------
    ConfigError
        Naming every field that differs (a 22.05 kHz, 96-band cache: ``sample_rate 22050,
        musicnn needs 16000``, ...).
    """
    from moodnet.audio.musicnn_frontend import musicnn_feature_config

    wanted = musicnn_feature_config()
    names = [item.name for item in fields(wanted) if item.name not in BACKBONE_FREE_FIELDS]
    wrong = [
        f"{name} {getattr(features, name)!r}, musicnn needs {getattr(wanted, name)!r}"
        for name in names
        if getattr(features, name) != getattr(wanted, name)
    ]
    if wrong:
        raise ConfigError(
            f"musicnn_head: the features are not the pretrained musicnn's own log-mel "
            f"({'; '.join(wrong)}); use the packaged feature config features_musicnn"
        )


# -- lyrics models ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LyricsConfig(ModelConfig):
    """A lyrics model over word ids (B, L): the lyrics branch of the fusion models.

    Attributes
    ----------
    dropout : dropout before the model's dense layer (``lyrics_bag``) and its head
    vocab_size : rows of the word-embedding table; filled from the vocabulary
    embed_dim : word-vector size; filled from the given word vectors
    pad_id : the padding word id
    freeze_embedding : keep the given word vectors fixed
    """

    dropout: float = _fraction(0.0)
    vocab_size: int = _int(2, 1, MAX_VOCAB)
    embed_dim: int = _int(50, 1, 1024)
    pad_id: int = _int(0, 0, MAX_VOCAB)
    freeze_embedding: bool = _flag(True)

    uses_lyrics: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pad_id >= self.vocab_size:
            raise ConfigError(f"{self.name}.pad_id: {self.pad_id} >= vocab_size {self.vocab_size}")

    @property
    def input_vocab(self) -> int:
        return self.vocab_size

    def with_data(self, *, task: str, n_classes: int, n_mels: int | None = None,
                  vocab_size: int | None = None, embed_dim: int | None = None,
                  min_vocab: int | None = None) -> Self:
        size = vocab_size if vocab_size is not None else self.vocab_size
        if min_vocab is not None:
            size = max(size, min_vocab)
        dim = embed_dim if embed_dim is not None else self.embed_dim
        return replace(self, task=task, n_classes=n_classes, vocab_size=size,
                       embed_dim=dim)


@dataclass(frozen=True)
class LyricsCNNConfig(LyricsConfig):
    """The lyrics model of Delbouys et al. (2018) (``lyrics_cnn``).

    Word vectors -> Conv1d ``channels`` x ``kernel`` -> max-pool ``pool`` -> LSTM ``hidden``
    -> head; the LSTM's last state is the penultimate feature.

    Attributes
    ----------
    dropout, vocab_size, embed_dim, pad_id, freeze_embedding : see :class:`LyricsConfig`
    channels : conv filters (16)
    kernel : conv kernel length in words (2)
    pool : max-pooling factor (2)
    hidden : LSTM units (40)
    """

    name: str = field(default="lyrics_cnn", init=False)
    channels: int = _int(16, 1, MAX_WIDTH)
    kernel: int = _int(2, 1, 64)
    pool: int = _int(2, 1, 64)
    hidden: int = _int(40, 1, MAX_WIDTH)


@dataclass(frozen=True)
class LyricsBagConfig(LyricsConfig):
    """Bag of word vectors (``lyrics_bag``): masked mean and max -> dense ``hidden`` -> head.

    Attributes
    ----------
    dropout, vocab_size, embed_dim, pad_id, freeze_embedding : see :class:`LyricsConfig`
    hidden : units of the dense layer
    """

    name: str = field(default="lyrics_bag", init=False)
    hidden: int = _int(64, 1, MAX_WIDTH)


# -- fusion models ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FusionConfig(ModelConfig):
    """An audio model and a lyrics model combined; the branches take this config's task.

    Attributes
    ----------
    audio : the audio branch (``paper_audio``, ``short_chunk`` or ``musicnn_head``)
    lyrics : the lyrics branch (``lyrics_cnn`` or ``lyrics_bag``)
    """

    audio: AudioConfig = field(default_factory=PaperAudioConfig)
    lyrics: LyricsConfig = field(default_factory=LyricsCNNConfig)

    uses_audio: ClassVar[bool] = True
    uses_lyrics: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        for part, kind in (("audio", AudioConfig), ("lyrics", LyricsConfig)):
            branch = getattr(self, part)
            if not isinstance(branch, kind):
                got = getattr(branch, "name", type(branch).__name__)
                raise ConfigError(f"{self.name}.{part}: {got!r} is not {_kind_text(kind)}")
            if (branch.task, branch.n_classes) != (self.task, self.n_classes):
                taken = replace(branch, task=self.task, n_classes=self.n_classes)
                object.__setattr__(self, part, taken)

    @property
    def input_mels(self) -> int | None:
        return self.audio.input_mels

    @property
    def input_vocab(self) -> int | None:
        return self.lyrics.input_vocab

    def branches(self) -> dict[str, ModelConfig]:
        return {"audio": self.audio, "lyrics": self.lyrics}

    def with_features(self, features: FeatureConfig) -> Self:
        return replace(self, audio=self.audio.with_features(features))

    def with_data(self, *, task: str, n_classes: int, **data: int | None) -> Self:
        audio = self.audio.with_data(task=task, n_classes=n_classes, **data)
        lyrics = self.lyrics.with_data(task=task, n_classes=n_classes, **data)
        return replace(self, task=task, n_classes=n_classes,
                       audio=audio, lyrics=lyrics)


@dataclass(frozen=True)
class MidFusionConfig(FusionConfig):
    """Mid-level fusion (``mid_fusion``, Delbouys et al. 2018).

    The branches' penultimate features concatenated -> dense ``hidden`` -> head, trained
    jointly. Tracks without lyrics use the lyrics branch's learned "no lyrics" vector.

    Attributes
    ----------
    audio, lyrics : the branches (see :class:`FusionConfig`; each has its own dropout)
    dropout : dropout before the dense layer and the head
    hidden : units of the dense layer after the concatenation (paper: 100)
    modality_dropout : probability of hiding a track's lyrics in training
    """

    name: str = field(default="mid_fusion", init=False)
    dropout: float = _fraction(0.0)
    hidden: int = _int(100, 1, MAX_WIDTH)
    modality_dropout: float = _fraction(0.0)


@dataclass(frozen=True)
class LateFusionConfig(FusionConfig):
    """Late fusion (``late_fusion``): two complete models, their outputs averaged.

    The branches are trained apart; the weight is then chosen on validation. It has no
    layers of its own (so no dropout: the branches have theirs).

    Attributes
    ----------
    audio, lyrics : the branches (see :class:`FusionConfig`)
    late_weight : weight of the audio branch (lyrics get ``1 - late_weight``; tracks without
        lyrics get the audio output alone)
    """

    name: str = field(default="late_fusion", init=False)
    late_weight: float = _fraction(0.5)


# -- the tagged union -------------------------------------------------------------------------


def _kind_text(kind: type[ModelConfig]) -> str:
    names = sorted(n for n, c in config_classes().items() if issubclass(c, kind))
    label = {AudioConfig: "an audio model", LyricsConfig: "a lyrics model"}.get(kind, "a model")
    return f"{label} ({', '.join(names)})"


def config_classes() -> dict[str, type[ModelConfig]]:
    """Name -> config class of every registered architecture (:data:`moodnet.models.MODELS`)."""
    from moodnet.models import MODELS

    return {name: spec.config for name, spec in MODELS.items()}


def _branch_fields(cls: type[ModelConfig]) -> dict[str, type[ModelConfig]]:
    hints = typing.get_type_hints(cls)
    return {
        item.name: hints[item.name]
        for item in fields(cls)
        if isinstance(hints[item.name], type) and issubclass(hints[item.name], ModelConfig)
    }


def _init_names(cls: type[ModelConfig]) -> list[str]:
    return [item.name for item in fields(cls) if item.init]


def parse_model_config(
    data: object,
    *,
    where: str = "model",
    kind: type[ModelConfig] = ModelConfig,
    branch: bool = False,
) -> ModelConfig:
    """The one reader of the tagged form: ``{"name": ..., **fields}``, branches nested.

    Parameters
    ----------
    data : the mapping from YAML or ``checkpoint.json``
    where : its place, for messages (``model``, ``model.audio``, ``TrainConfig.model``)
    kind : the class the result must be an instance of (``AudioConfig`` for an audio branch)
    branch : the mapping is a fusion model's branch (it takes the fusion's head fields)

    Raises
    ------
    ConfigError
        No or an unknown ``name``, a model of the wrong kind, an unknown or misplaced field
        (the message says where it belongs), or a value out of range.
    """
    from moodnet.config import coerce_value

    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping with a name, got {type(data).__name__}")
    cls = _config_class(data.get("name"), where=where, kind=kind)
    values = {key: value for key, value in data.items() if key != "name"}
    _check_keys(cls, values, where=where, branch=branch)
    hints, nested = typing.get_type_hints(cls), _branch_fields(cls)
    kwargs = {
        key: parse_model_config(value, where=f"{where}.{key}", kind=nested[key], branch=True)
        if key in nested
        else coerce_value(hints[key], value, f"{where}.{key}")
        for key, value in values.items()
    }
    try:
        config: ModelConfig = cls(**kwargs)  # type: ignore[arg-type]  # fields of cls
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where} ({cls.name}): {exc}") from None
    return config


def _config_class(name: object, *, where: str, kind: type[ModelConfig]) -> type[ModelConfig]:
    classes = config_classes()
    if name is None:
        raise ConfigError(f"{where}: no name (the architecture: one of {sorted(classes)})")
    if not isinstance(name, str) or name not in classes:
        raise ConfigError(f"{where}.name: unknown model {name!r}; known: {sorted(classes)}")
    cls = classes[name]
    if not issubclass(cls, kind):
        raise ConfigError(f"{where}: {name!r} is not {_kind_text(kind)}")
    return cls


def _check_keys(
    cls: type[ModelConfig], values: Mapping[str, Any], *, where: str, branch: bool
) -> None:
    known = _init_names(cls)
    for key in values:
        if branch and key in HEAD_FIELDS:
            parent = where.rpartition(".")[0]
            raise ConfigError(
                f"{where}.{key}: a branch takes the fusion model's {key} ({parent}.{key}, "
                f"filled from the train labels); leave it out here"
            )
        if key not in known:
            raise ConfigError(
                f"{where} ({cls.name}): unknown field {key!r}{_belongs(key, cls, where)}; "
                f"its fields: {', '.join(['name', *known])}"
            )


def _belongs(key: str, cls: type[ModelConfig], where: str) -> str:
    """Where a misplaced field belongs: another architecture, a branch, or a renamed field of
    the flat config of format 1."""
    owners = [c for c in config_classes().values() if c is not cls and key in _init_names(c)]
    parts = [
        f"{where}.{part}"
        for part, kind in _branch_fields(cls).items()
        if any(issubclass(owner, kind) for owner in owners)
    ]
    if parts:
        return f" (a field of {', '.join(c.name for c in owners)}: set it in {' or '.join(parts)})"
    if owners:
        return f" (a field of {', '.join(c.name for c in owners)}, not of {cls.name})"
    from moodnet.models.config_v1 import renamed

    moved = renamed(key)
    return f" (the flat config of format 1's {key} is {moved} now)" if moved else ""
