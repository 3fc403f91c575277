"""Self-describing checkpoint directories: save, load and predict from arrays.

Layout (``docs/DESIGN.md``)::

    run_dir/
      checkpoint.json    # format + version, model config (tagged: {"name": ..., ...}; format 1
                         # held one flat config, converted on load), feature config, label scheme,
                         # class names, normalisation (mel mean/std), VA scale and train
                         # statistics, vocabulary, train config, best epoch, metrics
      model.safetensors  # weights only
      metrics.csv        # one row per epoch (written by the training loop)

Stable API (the predictor builds on it)::

    ckpt = load_checkpoint(run_dir, device="auto")        # -> Checkpoint
    out = ckpt.predict_arrays(mel, tokens, has_lyrics)    # -> PredictionArrays
    out.va            # (B, 2) float32 (valence, arousal) on ckpt.va_scale, or None
    out.class_probs   # (B, K) float32, rows sum to 1, or None
    out.class_names   # K names (empty without a class head)
    ckpt.feature_config()  # moodnet.audio.FeatureConfig the mel must be computed with
    ckpt.vocabulary()      # moodnet.lyrics.Vocabulary for tokens, or None
    ckpt.max_tokens        # tokens per track the model was trained with

``mel`` is raw log-mel [shape=(B, n_mels, T)] (the model normalises it); ``tokens`` word ids
[shape=(B, L)] (0 = padding) or None; ``has_lyrics`` bool [shape=(B,)] or None (= tokens
present). Models that use lyrics predict from audio alone when ``tokens`` is None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.core import DEFAULT_DEVICE, json_safe, resolve_device, softmax
from moodnet.errors import CheckpointError, ConfigError, DataError, ParameterError
from moodnet.io_utils import atomic_write, atomic_write_text
from moodnet.models.arrays import ArrayData, predict_outputs
from moodnet.models.config import ModelConfig, parse_model_config
from moodnet.models.weights import expected_shapes, load_state
from moodnet.version import __version__

if TYPE_CHECKING:
    import torch
    from torch import nn

    from moodnet.audio import FeatureConfig
    from moodnet.lyrics import Vocabulary

FORMAT = "moodnet-checkpoint"
FORMAT_VERSION = 2
READ_VERSIONS = (1, FORMAT_VERSION)
"""Versions :func:`load_checkpoint` reads: 1 stored one flat model config for every
architecture (:mod:`moodnet.models.config_v1` converts it), 2 the architecture's own."""
CHECKPOINT_JSON = "checkpoint.json"
WEIGHTS = "model.safetensors"
WEIGHTS_TORCH = "model.pt"
METRICS_CSV = "metrics.csv"
MAX_TOKENS = 100_000  # lyrics tokens per track a checkpoint may ask for


@dataclass(frozen=True)
class PredictionArrays:
    """Predictions of B tracks.

    Attributes
    ----------
    va : np.ndarray [shape=(B, 2)], float32 (valence, arousal), or None without a VA head
    class_probs : np.ndarray [shape=(B, K)], float32, or None without a class head
    class_names : the K class names (empty without a class head)
    """

    va: np.ndarray | None
    class_probs: np.ndarray | None
    class_names: tuple[str, ...] = ()


@dataclass
class Checkpoint:
    """A trained model with everything needed to use it.

    Attributes
    ----------
    model : the torch module (eval mode) on ``device``
    model_config : its architecture's config (a :class:`ModelConfig` subclass)
    mel_mean, mel_std : np.ndarray [shape=(n_mels,)] train normalisation, or None
    va_mean, va_std : np.ndarray [shape=(2,)] train target statistics, or None
    va_scale : scale of the VA outputs (``unit`` = [-1, 1]; ``zscore`` for Deezer labels)
    features : the feature config as a dict (see :meth:`feature_config`)
    label_scheme : the fitted label scheme's JSON (incl. k-means centres), or None
    class_names : names of the class outputs, in logit order
    vocabulary_json : the vocabulary's JSON, or None
    max_tokens : lyrics tokens per track used in training
    train_config : the training config as a dict
    best_epoch : the restored epoch (1-based), or None
    metrics : validation metrics of the best epoch (and anything else worth keeping)
    """

    model: nn.Module
    model_config: ModelConfig
    mel_mean: np.ndarray | None = None
    mel_std: np.ndarray | None = None
    va_mean: np.ndarray | None = None
    va_std: np.ndarray | None = None
    va_scale: str | None = "unit"
    features: dict[str, Any] | None = None
    label_scheme: dict[str, Any] | None = None
    class_names: tuple[str, ...] = ()
    vocabulary_json: dict[str, Any] | None = None
    max_tokens: int | None = None
    train_config: dict[str, Any] | None = None
    best_epoch: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def uses_audio(self) -> bool:
        return bool(getattr(self.model, "uses_audio", False))

    @property
    def uses_lyrics(self) -> bool:
        return bool(getattr(self.model, "uses_lyrics", False))

    def apply_scaling(self, model: nn.Module | None = None) -> None:
        """Give ``model`` (default: this checkpoint's) the train normalisation and target
        statistics (:func:`moodnet.models.heads.configure_scaling`)."""
        from moodnet.models.heads import configure_scaling

        configure_scaling(
            self.model if model is None else model,
            mel_mean=self.mel_mean,
            mel_std=self.mel_std,
            va_mean=self.va_mean,
            va_std=self.va_std,
        )

    def feature_config(self) -> FeatureConfig | None:
        """The :class:`moodnet.audio.FeatureConfig` the model's log-mel input needs."""
        from moodnet.audio import FeatureConfig

        return None if self.features is None else FeatureConfig.from_dict(self.features)

    def vocabulary(self) -> Vocabulary | None:
        """The :class:`moodnet.lyrics.Vocabulary` that maps words to the model's ids."""
        from moodnet.lyrics import Vocabulary

        return None if self.vocabulary_json is None else Vocabulary.from_json(self.vocabulary_json)

    def predict_arrays(
        self,
        mel: np.ndarray | None,
        tokens: np.ndarray | None = None,
        has_lyrics: np.ndarray | None = None,
        *,
        embeddings: np.ndarray | None = None,
        batch_size: int = 32,
        bf16: bool = False,
    ) -> PredictionArrays:
        """Predict B tracks from arrays.

        Parameters
        ----------
        mel : np.ndarray [shape=(B, n_mels, T)], float32 raw log-mel made with
            :meth:`feature_config` (T = the clip's frames); None for a lyrics-only model
        tokens : np.ndarray [shape=(B, L)], int64 word ids from :meth:`vocabulary`, or None
        has_lyrics : np.ndarray [shape=(B,)], bool, or None (tracks with any token)
        embeddings : np.ndarray [shape=(B, D)], the frozen backbone's embeddings, used in place
            of ``mel`` by models that precompute their audio part (``musicnn_head``)
        batch_size : tracks per forward pass
        bf16 : run under bfloat16 autocast (faster on CPUs with AMX / AVX-512 BF16; outputs
            differ from float32 by well under 1 %)

        Returns
        -------
        PredictionArrays
        """
        data = self._arrays(mel, tokens, has_lyrics, embeddings)
        outputs = predict_outputs(
            self.model, data, batch_size=batch_size, device=self.device, bf16=bf16
        )
        probs = None
        if "logits" in outputs:
            probs = softmax(outputs["logits"], axis=1).astype(np.float32)
        va = outputs.get("va")
        return PredictionArrays(va=va, class_probs=probs, class_names=self.class_names)

    def _arrays(
        self,
        mel: np.ndarray | None,
        tokens: np.ndarray | None,
        has_lyrics: np.ndarray | None,
        embeddings: np.ndarray | None = None,
    ) -> ArrayData:
        n_mels = self.model_config.input_mels
        if embeddings is not None and getattr(self.model, "precomputes_audio", False):
            mel = None
            embeddings = np.asarray(embeddings, dtype=np.float32)
        elif self.uses_audio:
            embeddings = None
            if mel is None:
                raise ParameterError("this model needs log-mel input (mel)")
            mel = np.asarray(mel, dtype=np.float32)
            if mel.ndim != 3 or mel.shape[1] != n_mels or mel.shape[0] == 0:
                raise ParameterError(f"mel: expected shape (B, {n_mels}, T), got {mel.shape}")
        else:
            mel = None
        if not self.uses_lyrics:
            tokens = has_lyrics = None
        if tokens is not None:
            tokens = np.asarray(tokens, dtype=np.int64)
            if tokens.ndim != 2:
                raise ParameterError(f"tokens: expected shape (B, L), got {tokens.shape}")
            vocab = self.model_config.input_vocab or 0
            if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab):
                raise ParameterError(f"tokens: ids outside 0..{vocab - 1}")
        if has_lyrics is not None:
            has_lyrics = np.asarray(has_lyrics, dtype=bool).reshape(-1)
        if mel is None and embeddings is None and tokens is None:
            if has_lyrics is None:
                raise ParameterError("no input: this lyrics model needs tokens or has_lyrics")
            tokens = np.zeros((has_lyrics.shape[0], 1), dtype=np.int64)
        try:
            return ArrayData(mel=mel, tokens=tokens, has_lyrics=has_lyrics, embeddings=embeddings)
        except DataError as exc:
            raise ParameterError(f"inputs do not match: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        """The content of ``checkpoint.json``."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "moodnet_version": __version__,
            "model": self.model_config.to_tagged(),
            "features": self.features,
            "label_scheme": self.label_scheme,
            "class_names": list(self.class_names),
            "normalisation": {"mel_mean": _listed(self.mel_mean), "mel_std": _listed(self.mel_std)},
            "targets": {
                "va_scale": self.va_scale,
                "va_mean": _listed(self.va_mean),
                "va_std": _listed(self.va_std),
            },
            "vocabulary": self.vocabulary_json,
            "max_tokens": self.max_tokens,
            "train_config": self.train_config,
            "best_epoch": self.best_epoch,
            "metrics": json_safe(self.metrics),
        }


def _listed(array: np.ndarray | None) -> list[float] | None:
    return None if array is None else [float(v) for v in np.asarray(array).ravel()]


def save_checkpoint(checkpoint: Checkpoint, run_dir: str | Path) -> Path:
    """Write ``checkpoint.json`` and ``model.safetensors`` into ``run_dir`` (atomically).

    Returns
    -------
    Path : ``run_dir``
    """
    from safetensors.torch import save

    run_dir = Path(run_dir)
    state = {k: v.detach().cpu().contiguous() for k, v in checkpoint.model.state_dict().items()}
    payload = save(state, metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION)})
    atomic_write(run_dir / WEIGHTS, lambda handle: handle.write(payload))
    text = json.dumps(checkpoint.to_json(), indent=1, ensure_ascii=False)
    atomic_write_text(run_dir / CHECKPOINT_JSON, text + "\n")
    return run_dir


def read_checkpoint_json(run_dir: str | Path) -> dict[str, Any]:
    """The parsed ``checkpoint.json`` of ``run_dir``, format and version checked."""
    path = Path(run_dir) / CHECKPOINT_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing (not a moodnet run directory?)") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a moodnet checkpoint")
    if data.get("format_version") not in READ_VERSIONS:
        raise CheckpointError(
            f"{path}: format version {data.get('format_version')}, this moodnet reads "
            f"{' and '.join(map(str, READ_VERSIONS))}"
        )
    return data


def checkpoint_model_config(data: dict[str, Any], *, path: Path) -> ModelConfig:
    """The model config of a parsed ``checkpoint.json``, checked against its feature config.

    Format 1's flat config is converted (:func:`moodnet.models.config_v1.config_from_flat`);
    the fields derived from the features must agree with them, and ``musicnn_head`` must have
    its backbone's features.

    Raises
    ------
    CheckpointError
        A bad model or feature config, or the two disagree.
    """
    from moodnet.audio import FeatureConfig
    from moodnet.models.config_v1 import config_from_flat

    raw = data.get("features")
    try:
        features = FeatureConfig.from_dict(raw) if isinstance(raw, dict) else None
    except (ConfigError, ParameterError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad feature config ({exc})") from None
    try:
        if data.get("format_version") == 1:
            config = config_from_flat(data.get("model"), features=features)
        else:
            config = parse_model_config(data.get("model"), where="model")
    except (ConfigError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad model config ({exc})") from None
    try:
        return config if features is None else config.with_features(features)
    except ConfigError as exc:
        raise CheckpointError(f"{path}: the model config does not fit its features ({exc})"
                              ) from None  # fmt: skip


def load_checkpoint(run_dir: str | Path, *, device: str = DEFAULT_DEVICE) -> Checkpoint:
    """Rebuild a trained model from ``run_dir`` (``checkpoint.json`` + weights).

    Parameters
    ----------
    run_dir : a directory written by :func:`save_checkpoint`
    device : ``auto`` (CUDA when available), ``cpu`` or ``cuda``

    Returns
    -------
    Checkpoint : model in eval mode on the device

    Raises
    ------
    CheckpointError
        A part is missing, of another format version, or does not match the model config.

    Notes
    -----
    Checkpoints of format 1 (one flat model config) load as they are: their config is
    converted to the architecture's own and the model rebuilt identically.
    """
    from moodnet.models import build_model

    run_dir = Path(run_dir)
    data = read_checkpoint_json(run_dir)
    config = checkpoint_model_config(data, path=run_dir / CHECKPOINT_JSON)
    _check_fields(run_dir / CHECKPOINT_JSON, data, config)
    state = load_state(_weights_path(run_dir), expected_shapes(config))  # checked, then read
    model = build_model(config)
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{run_dir}: weights do not load into the model ({exc})") from None
    norm, targets = data.get("normalisation") or {}, data.get("targets") or {}
    checkpoint = Checkpoint(
        model=model,
        model_config=config,
        mel_mean=_array(norm.get("mel_mean")),
        mel_std=_array(norm.get("mel_std")),
        va_mean=_array(targets.get("va_mean")),
        va_std=_array(targets.get("va_std")),
        va_scale=targets.get("va_scale"),
        features=data.get("features"),
        label_scheme=data.get("label_scheme"),
        class_names=tuple(data.get("class_names") or ()),
        vocabulary_json=data.get("vocabulary"),
        max_tokens=data.get("max_tokens"),
        train_config=data.get("train_config"),
        best_epoch=data.get("best_epoch"),
        metrics=data.get("metrics") or {},
    )
    try:
        checkpoint.apply_scaling()
    except ParameterError as exc:
        raise CheckpointError(f"{run_dir / CHECKPOINT_JSON}: {exc}") from exc
    if config.has_classes and len(checkpoint.class_names) != config.n_classes:
        raise CheckpointError(
            f"{run_dir / CHECKPOINT_JSON}: {len(checkpoint.class_names)} class names for "
            f"{config.n_classes} classes"
        )
    model.to(resolve_device(device)).eval()
    return checkpoint


def _array(values: list[float] | None) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.float32)


def _weights_path(run_dir: Path) -> Path:
    for name in (WEIGHTS, WEIGHTS_TORCH):
        if (run_dir / name).is_file():
            return run_dir / name
    raise CheckpointError(f"{run_dir / WEIGHTS}: missing weights")


def _check_fields(path: Path, data: dict[str, Any], config: ModelConfig) -> None:
    """Every field besides the model config in range, before anything is built."""
    max_tokens = data.get("max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
        or not 1 <= max_tokens <= MAX_TOKENS
    ):
        raise CheckpointError(f"{path}: max_tokens {max_tokens!r} is not in 1..{MAX_TOKENS}")
    names = data.get("class_names") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CheckpointError(f"{path}: class_names must be a list of strings")
    for section, keys in (("normalisation", ("mel_mean", "mel_std")),
                          ("targets", ("va_mean", "va_std"))):
        part = data.get(section) or {}
        if not isinstance(part, dict):
            raise CheckpointError(f"{path}: {section} must be an object")
        for key in keys:
            size = config.input_mels if section == "normalisation" else 2
            _check_numbers(path, f"{section}.{key}", part.get(key), size)
    for key in ("features", "vocabulary", "label_scheme", "train_config"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise CheckpointError(f"{path}: {key} must be an object")


def _check_numbers(path: Path, name: str, values: object, size: int | None) -> None:
    """``values`` is None or ``size`` finite numbers (any number of them for ``size`` None:
    a model without log-mel input ignores the mel normalisation)."""
    if values is None:
        return
    ok = (isinstance(values, list) and (size is None or len(values) == size)
          and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values))
    if not ok or not np.isfinite(np.asarray(values, dtype=np.float64)).all():
        count = "" if size is None else f"{size} "
        raise CheckpointError(f"{path}: {name} must be {count}finite numbers")
