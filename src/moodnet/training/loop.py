"""The training loop: seeded minibatch training, per-epoch validation, early stopping and
restore of the best epoch; and :func:`train_arrays`, which turns arrays into a checkpoint.

The loop knows nothing about the model beyond its ``uses_audio`` / ``uses_lyrics`` flags and
its output dict (``"va"`` and/or ``"logits"``).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.config import to_dict
from moodnet.core import resolve_bf16, resolve_device, softmax, torch_threads
from moodnet.errors import ConfigError, DataError
from moodnet.io_utils import atomic_write_text
from moodnet.models.arrays import (
    ArrayData,
    bf16_autocast,
    minibatches,
    model_inputs,
    precompute_audio,
    predict_outputs,
)
from moodnet.models.checkpoint import METRICS_CSV, Checkpoint, save_checkpoint
from moodnet.models.config import LateFusionConfig, ModelConfig
from moodnet.training.arrays import augment_mel, band_statistics, targets_of
from moodnet.training.config import TrainConfig
from moodnet.training.distributed import (
    broadcast_buffers,
    embed_sharded,
    gather_outputs,
    is_main_process,
    mean_over_ranks,
    replicas,
    shard_batches,
    wrap,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

    from moodnet.training.losses import Criterion

_MAXIMISED = ("r2", "accuracy", "macro_f1")


@dataclass
class DataInfo:
    """What a checkpoint must know about the data besides the arrays.

    Attributes
    ----------
    features : the feature config as a dict, or None
    label_scheme : the fitted label scheme's JSON, or None
    class_names : names of class ids 0..K-1 (empty for VA regression)
    vocabulary_json : the vocabulary's JSON, or None
    word_vectors : np.ndarray [shape=(vocab_size, embed_dim)] initial word vectors, or None
    max_tokens : lyrics tokens per track, or None
    va_scale : the scale of the VA targets (``unit`` = [-1, 1])
    """

    features: dict[str, Any] | None = None
    label_scheme: dict[str, Any] | None = None
    class_names: tuple[str, ...] = ()
    vocabulary_json: dict[str, Any] | None = None
    word_vectors: np.ndarray | None = None
    max_tokens: int | None = None
    va_scale: str = "unit"


@dataclass
class FitResult:
    """What :func:`fit` did: one dict per epoch, the restored epoch and its validation metrics."""

    history: list[dict[str, float]]
    best_epoch: int
    best_metrics: dict[str, float]


@dataclass
class TrainResult:
    """A trained checkpoint, its epoch history and where it was saved (or None)."""

    checkpoint: Checkpoint
    history: list[dict[str, float]] = field(default_factory=list)
    run_dir: Path | None = None


# -- metrics of one validation pass -----------------------------------------------------------


def validation_metrics(outputs: dict[str, np.ndarray], data: ArrayData) -> dict[str, float]:
    """Point metrics of raw outputs: R² per VA dimension and mean, accuracy, macro-F1."""
    from moodnet.evaluation.metrics import accuracy, macro_f1, r2

    metrics: dict[str, float] = {}
    if "va" in outputs and data.va is not None:
        values = [float(r2(data.va[:, j], outputs["va"][:, j])) for j in range(2)]
        metrics.update(r2_valence=values[0], r2_arousal=values[1], r2=float(np.mean(values)))
    if "logits" in outputs and data.classes is not None:
        pred = outputs["logits"].argmax(axis=1)
        metrics["accuracy"] = float(accuracy(data.classes, pred))
        metrics["macro_f1"] = float(macro_f1(data.classes, pred))
    return metrics


def _loss_of(
    criterion: Criterion, outputs: dict[str, np.ndarray], data: ArrayData, device: torch.device
) -> float:
    import torch

    index = np.arange(len(data))
    tensors = {k: torch.from_numpy(v).to(device) for k, v in outputs.items()}
    with torch.no_grad():
        return float(criterion(tensors, targets_of(data, index, device=device)))


# -- the loop ---------------------------------------------------------------------------------


def fit(
    model: nn.Module,
    train: ArrayData,
    val: ArrayData,
    *,
    config: TrainConfig,
    criterion: Criterion,
    run_dir: Path | None = None,
    mel_fill: np.ndarray | None = None,
) -> FitResult:
    """Train ``model`` in place; the weights of the best validation epoch are restored.

    Parameters
    ----------
    model : a model of :data:`moodnet.models.MODELS` on its device
    train, val : arrays with targets matching the model's outputs
    config : batch size, epochs, patience (0 = no early stopping), monitor, optimiser,
        augmentation, seed, bf16, progress, TensorBoard
    criterion : the loss
    run_dir : where ``metrics.csv`` (and TensorBoard logs) go; None writes nothing
    mel_fill : np.ndarray [shape=(n_mels,)], value of masked log-mel cells (train band means)

    Returns
    -------
    FitResult

    Notes
    -----
    Under torchrun (:mod:`moodnet.training.distributed`) the processes train one
    ``DistributedDataParallel`` model on shares of each epoch (``batch_size`` stays the
    global batch) and only rank 0 shows progress and writes.
    """
    import torch

    if len(train) < 2 or len(val) < 1:
        raise DataError(f"need >= 2 train and >= 1 validation tracks, got {len(train)}/{len(val)}")
    group = replicas()
    if group is not None and len(train) < 2 * group.world_size:
        raise DataError(f"{group.world_size} processes need >= {2 * group.world_size} train "
                        f"tracks (two per batch-norm batch), got {len(train)}")
    if group is not None and not group.is_main:
        run_dir, config = None, replace(config, progress=False)
    _check_monitor(config.monitor, model)
    device = next(model.parameters()).device
    criterion = criterion.to(device)
    rng = np.random.default_rng(config.seed)
    rank = group.rank if group is not None else 0
    generator = torch.Generator().manual_seed(config.seed + rank)
    torch.manual_seed(config.seed + rank)
    forward = wrap(model, group)
    optimiser = _optimiser(model, config)
    scheduler = _scheduler(optimiser, config)
    fill = torch.from_numpy(_mask_fill(train, mel_fill))
    maximise = config.monitor in _MAXIMISED
    best_score, best_epoch, best_state = -math.inf, 0, _snapshot(model)
    history: list[dict[str, float]] = []
    with _progress(config) as bar, _tensorboard(config, run_dir) as board:
        for epoch in range(1, config.max_epochs + 1):
            started = time.perf_counter()
            batches = (
                minibatches(len(train), batch_size=config.batch_size, rng=rng)
                if group is None
                else shard_batches(len(train), batch_size=config.batch_size, epoch=epoch,
                                   seed=config.seed, group=group)
            )
            train_loss = _train_epoch(
                model, train, config, criterion, optimiser, batches, generator, fill,
                forward=forward,
            )
            broadcast_buffers(model, group)
            metrics = _validate(model, val, config, criterion, device)
            monitored = metrics[f"val_{config.monitor}"]
            score = monitored if maximise else -monitored
            improved = math.isfinite(score) and score > best_score
            if improved:
                best_score, best_epoch, best_state = score, epoch, _snapshot(model)
            row = {
                "epoch": epoch,
                "train_loss": train_loss,
                **metrics,
                "lr": optimiser.param_groups[0]["lr"],
                "seconds": time.perf_counter() - started,
                "best": float(improved),
            }
            history.append(row)
            _write_metrics(history, run_dir)
            _log(board, row)
            bar.update(1)
            bar.set_postfix(val_loss=f"{metrics['val_loss']:.4f}", best=best_epoch)
            if scheduler is not None:
                scheduler.step(score)
            if config.patience and epoch - best_epoch >= config.patience:
                break
    if best_epoch:  # else no epoch had a finite score: keep the last weights
        model.load_state_dict(best_state)
    best = history[best_epoch - 1] if best_epoch else history[-1]
    return FitResult(
        history=history,
        best_epoch=best_epoch or len(history),
        best_metrics={k: v for k, v in best.items() if k.startswith("val_")},
    )


def _mask_fill(train: ArrayData, mel_fill: np.ndarray | None) -> np.ndarray:
    if mel_fill is not None:
        return np.asarray(mel_fill, dtype=np.float32)
    return np.zeros(train.n_mels if train.mel is not None else 1, dtype=np.float32)


def _validate(
    model: nn.Module,
    val: ArrayData,
    config: TrainConfig,
    criterion: Criterion,
    device: torch.device,
) -> dict[str, float]:
    outputs = gather_outputs(
        lambda data: predict_outputs(
            model, data, batch_size=config.eval_batch_size, device=device, bf16=config.bf16
        ),
        val,
        replicas(),
    )
    metrics = {"val_loss": _loss_of(criterion, outputs, val, device)}
    metrics.update({f"val_{k}": v for k, v in validation_metrics(outputs, val).items()})
    return metrics


def _train_epoch(
    model: nn.Module,
    data: ArrayData,
    config: TrainConfig,
    criterion: Criterion,
    optimiser: torch.optim.Optimizer,
    batches: Iterable[np.ndarray],
    generator: torch.Generator,
    fill: torch.Tensor,
    *,
    forward: nn.Module | None = None,
) -> float:
    """One epoch over ``batches`` (track indices); ``forward`` (the DDP wrapper of ``model``
    under torchrun) runs the batches. Returns the mean train loss (over every rank)."""
    import torch

    device = next(model.parameters()).device
    run = forward if forward is not None else model
    model.train()
    total, count = 0.0, 0
    for index in batches:
        inputs = model_inputs(model, data, index, device=device)
        if config.augment.active and "mel" in inputs:
            inputs["mel"] = augment_mel(
                inputs["mel"], config=config.augment, fill=fill, generator=generator
            )
        with bf16_autocast(device, enabled=config.bf16):
            outputs = run(**inputs)
        loss = criterion(outputs, targets_of(data, index, device=device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        if config.optim.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.optim.grad_clip)
        optimiser.step()
        total += float(loss.detach()) * len(index)
        count += len(index)
    return mean_over_ranks(total, count, replicas())


def _check_monitor(monitor: str, model: nn.Module) -> None:
    config = getattr(model, "config", None)
    if not isinstance(config, ModelConfig):
        return
    if monitor == "r2" and not config.has_va:
        raise ConfigError("monitor 'r2' needs a VA output (data.labels: va or multitask)")
    if monitor in ("accuracy", "macro_f1") and not config.has_classes:
        raise ConfigError(f"monitor {monitor!r} needs class outputs (a class label scheme)")


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _optimiser(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optim = config.optim
    if optim.name == "sgd":
        return torch.optim.SGD(
            params, lr=optim.lr, momentum=optim.momentum, weight_decay=optim.weight_decay
        )
    cls = torch.optim.AdamW if optim.name == "adamw" else torch.optim.Adam
    return cls(params, lr=optim.lr, weight_decay=optim.weight_decay)


def _scheduler(optimiser: torch.optim.Optimizer, config: TrainConfig) -> Any:
    import torch

    if config.optim.scheduler == "none":
        return None
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimiser,
        mode="max",
        factor=config.optim.plateau_factor,
        patience=config.optim.plateau_patience,
    )


def _write_metrics(history: list[dict[str, float]], run_dir: Path | None) -> None:
    if run_dir is None:
        return
    columns = list(dict.fromkeys(key for row in history for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    atomic_write_text(run_dir / METRICS_CSV, buffer.getvalue())


@contextmanager
def _progress(config: TrainConfig) -> Iterator[Any]:
    from tqdm.auto import tqdm

    bar = tqdm(total=config.max_epochs, desc="epochs", unit="epoch", disable=not config.progress)
    try:
        yield bar
    finally:
        bar.close()


@contextmanager
def _tensorboard(config: TrainConfig, run_dir: Path | None) -> Iterator[Any]:
    if not config.tensorboard or run_dir is None:
        yield None
        return
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        yield None
        return
    writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"))
    try:
        yield writer
    finally:
        writer.close()


def _log(board: Any, row: dict[str, float]) -> None:
    if board is None:
        return
    for key, value in row.items():
        if key != "epoch":
            board.add_scalar(key, value, int(row["epoch"]))


# -- arrays -> checkpoint ---------------------------------------------------------------------


def resolve_model_config(config: TrainConfig, train: ArrayData, info: DataInfo) -> ModelConfig:
    """``config.model`` with the data-dependent fields filled from the train arrays."""
    model = config.model
    has_va, has_classes = train.va is not None, train.classes is not None
    if not (has_va or has_classes):
        raise DataError("the train arrays have no targets (va or classes)")
    task = "multitask" if has_va and has_classes else "va" if has_va else "classes"
    changes: dict[str, Any] = {
        "task": task,
        "n_classes": len(info.class_names) if has_classes else 0,
    }
    if train.mel is not None:
        changes["n_mels"] = train.n_mels
    if info.word_vectors is not None:
        changes["vocab_size"], changes["embed_dim"] = info.word_vectors.shape
    elif train.tokens is not None:
        changes["min_vocab"] = int(train.tokens.max()) + 1
    return model.with_data(**changes)


def train_arrays(
    config: TrainConfig,
    train: ArrayData,
    val: ArrayData,
    *,
    info: DataInfo | None = None,
    run_dir: str | Path | None = None,
) -> TrainResult:
    """Train the configured model on arrays and return (and save) its checkpoint.

    Parameters
    ----------
    config : the training config (``config.out_dir`` is used when ``run_dir`` is None)
    train, val : arrays; normalisation and target statistics come from ``train`` only
    info : feature config, label scheme, class names, vocabulary and word vectors to store
    run_dir : where to write the checkpoint directory; None = ``config.out_dir`` (or nowhere)

    Returns
    -------
    TrainResult
    """
    info = info if info is not None else DataInfo()
    out = Path(run_dir) if run_dir is not None else config.out_dir
    model_config = resolve_model_config(config, train, info)
    with torch_threads(config.num_threads):
        if model_config.name == "late_fusion":
            result = _train_late_fusion(replace(config, model=model_config), train, val, info=info)
        else:
            result = _train_single(
                replace(config, model=model_config), train, val, info=info, out=out
            )
    result.checkpoint.metrics.update(_train_summary(train, model_config))
    if out is not None:
        if is_main_process():  # under torchrun, rank 0 writes
            save_checkpoint(result.checkpoint, out)
        result.run_dir = Path(out)
    return result


def _train_summary(train: ArrayData, model_config: ModelConfig) -> dict[str, Any]:
    """Train-set facts that evaluation needs for chance levels."""
    summary: dict[str, Any] = {"n_train": len(train)}
    if train.classes is not None:
        counts = np.bincount(train.classes, minlength=model_config.n_classes)
        summary["train_class_counts"] = [int(c) for c in counts]
    return summary


@dataclass
class _Scaling:
    """Train statistics: per-band log-mel mean/std and VA mean/std (None where unused)."""

    mel_mean: np.ndarray | None = None
    mel_std: np.ndarray | None = None
    va_mean: np.ndarray | None = None
    va_std: np.ndarray | None = None


def _scaling(model: nn.Module, train: ArrayData) -> _Scaling:
    from moodnet.models.heads import InputNorm

    scaling = _Scaling()
    if any(isinstance(module, InputNorm) for module in model.modules()):
        if train.mel is None:
            raise DataError("this audio model needs log-mel arrays")
        scaling.mel_mean, scaling.mel_std = band_statistics(train.mel)
    if train.va is not None:
        scaling.va_mean = train.va.mean(axis=0).astype(np.float32)
        scaling.va_std = np.maximum(train.va.std(axis=0), 1e-3).astype(np.float32)
    return scaling


def _criterion(config: TrainConfig, train: ArrayData, scaling: _Scaling) -> Criterion:
    import torch

    from moodnet.training.losses import Criterion, balanced_class_weights

    class_weight = None
    if config.class_weights and train.classes is not None:
        weights = balanced_class_weights(train.classes, n_classes=config.model.n_classes)
        class_weight = torch.from_numpy(weights)
    return Criterion(
        va_scale=None if scaling.va_std is None else torch.from_numpy(scaling.va_std),
        class_weight=class_weight,
        multitask_weight=config.multitask_weight,
    )


def _train_single(
    config: TrainConfig, train: ArrayData, val: ArrayData, *, info: DataInfo, out: Path | None
) -> TrainResult:
    import torch

    from moodnet.models import build_model
    from moodnet.models.heads import configure_scaling
    from moodnet.models.lyrics import set_word_vectors

    torch.manual_seed(config.seed)
    model = build_model(config.model)
    device = resolve_device(config.device)
    config = replace(config, bf16=resolve_bf16(device, config.bf16))
    if getattr(model, "precomputes_audio", False):
        train, val = _precomputed(model.to(device), train, val, config=config)
    scaling = _scaling(model, train)
    configure_scaling(model, **asdict(scaling))
    if getattr(model, "uses_lyrics", False) and info.word_vectors is not None:
        set_word_vectors(model, info.word_vectors)
    model.to(device)
    if out is not None and is_main_process():
        Path(out).mkdir(parents=True, exist_ok=True)
    criterion = _criterion(config, train, scaling)
    fitted = fit(
        model,
        train,
        val,
        config=config,
        criterion=criterion,
        run_dir=out,
        mel_fill=scaling.mel_mean,
    )
    checkpoint = Checkpoint(
        model=model.eval(),
        model_config=config.model,
        **asdict(scaling),
        va_scale=info.va_scale if train.va is not None else None,
        features=info.features,
        label_scheme=info.label_scheme,
        class_names=info.class_names,
        vocabulary_json=info.vocabulary_json,
        max_tokens=info.max_tokens,
        train_config=to_dict(config),
        best_epoch=fitted.best_epoch,
        metrics={"validation": fitted.best_metrics},
    )
    return TrainResult(checkpoint=checkpoint, history=fitted.history)


def _precomputed(
    model: nn.Module, train: ArrayData, val: ArrayData, *, config: TrainConfig
) -> tuple[ArrayData, ArrayData]:
    """Embed both splits once with the model's frozen audio part (under torchrun each process
    embeds a share of the tracks); fit its standardisation on the train embeddings."""
    group = replicas()

    def embed(data: ArrayData) -> ArrayData:
        return precompute_audio(model, data, batch_size=config.eval_batch_size,
                                progress=config.progress and is_main_process())

    train, val = (embed_sharded(embed, data, group) for data in (train, val))
    if train.embeddings is None:
        raise DataError("the train arrays have no audio embeddings")
    for module in model.modules():
        setter = getattr(module, "set_embedding_statistics", None)
        if callable(setter):
            setter(train.embeddings)
    return train, val


def _train_late_fusion(
    config: TrainConfig, train: ArrayData, val: ArrayData, *, info: DataInfo
) -> TrainResult:
    """Train the audio and lyrics branches apart, then pick the weight on validation."""
    from moodnet.models import build_model
    from moodnet.models.fusion import search_late_weight

    mc = config.model
    assert isinstance(mc, LateFusionConfig)  # train_arrays sends late_fusion here
    branches = {}
    for part, branch in mc.branches().items():
        branch_config = replace(config, model=branch)
        branches[part] = _train_single(branch_config, train, val, info=info, out=None)
    audio_out = predict_outputs(branches["audio"].checkpoint.model, val)
    lyrics_out = predict_outputs(branches["lyrics"].checkpoint.model, val)
    present = val.has_lyrics
    if mc.has_va and val.va is not None:
        weight = search_late_weight(audio_out["va"], lyrics_out["va"], val.va, has_lyrics=present)
    else:
        assert val.classes is not None  # resolve_model_config gave a class task
        weight = search_late_weight(
            softmax(audio_out["logits"]),
            softmax(lyrics_out["logits"]),
            val.classes,
            has_lyrics=present,
        )
    fused_config = replace(mc, late_weight=weight)
    model = build_model(fused_config)
    audio_ckpt, lyrics_ckpt = branches["audio"].checkpoint, branches["lyrics"].checkpoint
    model.audio.load_state_dict(audio_ckpt.model.state_dict())  # type: ignore[union-attr]
    model.lyrics.load_state_dict(lyrics_ckpt.model.state_dict())  # type: ignore[union-attr]
    audio_ckpt.apply_scaling(model.audio)  # type: ignore[arg-type]
    lyrics_ckpt.apply_scaling(model.lyrics)  # type: ignore[arg-type]
    model.to(audio_ckpt.device).eval()
    metrics = validation_metrics(predict_outputs(model, val), val)
    history = [
        {"branch": float(i), **row}
        for i, part in enumerate(("audio", "lyrics"))
        for row in branches[part].history
    ]
    checkpoint = replace(
        audio_ckpt,
        model=model,
        model_config=fused_config,
        vocabulary_json=info.vocabulary_json,
        max_tokens=info.max_tokens,
        train_config=to_dict(replace(config, model=fused_config)),
        best_epoch=None,
        metrics={"validation": {f"val_{k}": v for k, v in metrics.items()}, "late_weight": weight},
    )
    return TrainResult(checkpoint=checkpoint, history=history)
