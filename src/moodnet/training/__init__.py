"""Training: config, loop with early stopping and best-epoch restore, losses, checkpoints.

The public entry points are imported lazily (torch is only imported when training runs)::

    from moodnet.training import load_train_config, train
    result = train(load_train_config("paper_audio", overrides=["data.manifest=m.jsonl"]))
    ckpt = load_checkpoint(result.run_dir)

On CPUs, glibc malloc makes torch step times bimodal; for training and benchmarks set
``MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000`` in the environment
and ``num_threads: 1`` when several jobs share the cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moodnet.training.config import TrainConfig
    from moodnet.training.loop import TrainResult

__all__ = [
    "ArrayData",
    "Checkpoint",
    "DataInfo",
    "PredictionArrays",
    "TrainConfig",
    "TrainResult",
    "load_checkpoint",
    "load_train_config",
    "save_checkpoint",
    "train",
    "train_arrays",
]

_LAZY = {
    "ArrayData": "moodnet.models.arrays",
    "Checkpoint": "moodnet.models.checkpoint",
    "PredictionArrays": "moodnet.models.checkpoint",
    "load_checkpoint": "moodnet.models.checkpoint",
    "save_checkpoint": "moodnet.models.checkpoint",
    "TrainConfig": "moodnet.training.config",
    "load_train_config": "moodnet.training.config",
    "DataInfo": "moodnet.training.loop",
    "TrainResult": "moodnet.training.loop",
    "train_arrays": "moodnet.training.loop",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'moodnet.training' has no attribute {name!r}")


def train(config: TrainConfig, *, out_dir: str | Path | None = None) -> TrainResult:
    """Train ``config`` on its manifest and feature cache; save to ``out_dir`` (or config's).

    Returns
    -------
    TrainResult : the checkpoint (with ``metrics["test"]`` when a test split exists), the
        epoch history and the run directory
    """
    from moodnet.evaluation.evaluate import evaluate_arrays
    from moodnet.models.checkpoint import save_checkpoint
    from moodnet.training.data import load_training_data
    from moodnet.training.distributed import is_main_process
    from moodnet.training.loop import train_arrays

    data = load_training_data(config)
    run_dir = Path(out_dir) if out_dir is not None else config.out_dir
    result = train_arrays(config, data.train, data.validation, info=data.info, run_dir=run_dir)
    if data.test is not None:
        evaluation = evaluate_arrays(result.checkpoint, data.test, name="test")
        result.checkpoint.metrics["test"] = evaluation.to_json()
        if result.run_dir is not None and is_main_process():  # under torchrun, rank 0 writes
            save_checkpoint(result.checkpoint, result.run_dir)
    return result
