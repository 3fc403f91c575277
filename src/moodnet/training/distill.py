"""Distil musicnn (MSD) into the small :class:`~moodnet.models.student.Student`.

Targets are musicnn's 200-d penultimate activations on 3 s patches of unlabelled audio (see
``bench/teacher_cache.py``), standardised per dimension; the loss is their mean squared error.
Tracks, not patches, are split into train and validation (5 %, seeded), and the epoch with the
lowest validation loss is kept. Optionally (``head_directions``) the error along a few
directions of the teacher space, such as the mood head's weight vectors fitted on the teacher's
embeddings of labelled training tracks, weighs extra: the student is then most faithful where
the head looks.

Usage::

    python -m moodnet.training.distill TEACHER_DIR [AUGMENTED_DIR ...] --out work/student
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save

from moodnet.audio.musicnn_frontend import MUSICNN_PATCH_FRAMES
from moodnet.core import native_bf16
from moodnet.errors import DataError
from moodnet.io_utils import atomic_write, atomic_write_text
from moodnet.models.arrays import bf16_autocast
from moodnet.models.fast_head import stored_student
from moodnet.models.student import Student, StudentConfig

_CPU = torch.device("cpu")


@dataclass(frozen=True)
class DistillConfig:
    """Optimisation settings of :func:`distill`."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    validation_share: float = 0.05
    seed: int = 0
    bf16: bool = True
    """bfloat16 autocast where the CPU computes it natively (float32 elsewhere)."""
    direction_weight: float = 1.0
    """Weight of the error along ``head_directions`` (mean over them of the squared projection
    of the error on each unit direction) against the mean squared error over all dimensions;
    1.0: as much as all 200 dimensions together."""


@dataclass(frozen=True)
class _Patches:
    mel: list[np.ndarray]  # per track (n_frames, 96) float16
    index: np.ndarray  # (n, 2): track, start frame
    targets: np.ndarray  # (n, 200) float32, standardised


def load_teacher(files: list[Path]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Mels, (track, start) pairs and raw teacher embeddings of teacher-cache files."""
    if not files:
        raise DataError("no teacher files to distil from")
    mels, index, targets = [], [], []
    for i, path in enumerate(files):
        with np.load(path) as data:
            mels.append(data["mel"])
            index.append(np.stack([np.full(len(data["starts"]), i), data["starts"]], axis=1))
            targets.append(data["embeddings"].astype(np.float32))
    return mels, np.concatenate(index), np.concatenate(targets)


def _batch(patches: _Patches, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    frames = np.stack([
        patches.mel[track][start : start + MUSICNN_PATCH_FRAMES]
        for track, start in patches.index[rows]
    ]).astype(np.float32)
    return torch.from_numpy(frames), torch.from_numpy(patches.targets[rows])


def _objective(error: torch.Tensor, directions: torch.Tensor | None,
               config: DistillConfig) -> torch.Tensor:
    """Per-patch loss of an error (n, 200): its mean square, plus the weighted mean squared
    projection on the unit ``directions`` (k, 200) when given."""
    loss = (error**2).mean(dim=1)
    if directions is not None:
        loss = loss + config.direction_weight * ((error @ directions.T) ** 2).mean(dim=1)
    return loss


def _loss(model: Student, patches: _Patches, rows: np.ndarray, *, config: DistillConfig,
          directions: torch.Tensor | None) -> float:
    model.eval()
    total = 0.0
    with torch.inference_mode(), bf16_autocast(_CPU, enabled=config.bf16):
        for start in range(0, len(rows), 512):
            x, y = _batch(patches, rows[start : start + 512])
            total += float(_objective(model(x).float() - y, directions, config).sum())
    return total / max(len(rows), 1)


def _unit_directions(head_directions: np.ndarray | None, std: np.ndarray) -> torch.Tensor | None:
    """Weight vectors over raw teacher embeddings -> unit vectors in the standardised targets'
    space (a logit ``w . e`` is ``(w * std) . z`` plus a constant)."""
    if head_directions is None:
        return None
    scaled = np.atleast_2d(np.asarray(head_directions, dtype=np.float64)) * std
    norms = np.linalg.norm(scaled, axis=1, keepdims=True)
    if scaled.shape[1] != std.size or not np.all(norms > 0):
        raise DataError(f"head directions must be non-zero rows of {std.size} values, "
                        f"got shape {scaled.shape}")
    return torch.from_numpy((scaled / norms).astype(np.float32))


def distill(
    teacher_files: list[Path], *, out_dir: Path, config: DistillConfig | None = None,
    student: StudentConfig | None = None, head_directions: np.ndarray | None = None,
) -> dict:
    """Train a student on teacher-cache files; write ``student.safetensors`` + ``student.json``.

    Parameters
    ----------
    head_directions : np.ndarray [shape=(k, 200)], optional
        Weight vectors over raw teacher embeddings (e.g. a mood head's) along which the error
        weighs :attr:`DistillConfig.direction_weight` extra.

    Returns
    -------
    report : dict with the validation loss per epoch, the best epoch and the teacher statistics
    """
    config = config or DistillConfig()
    config = replace(config, bf16=config.bf16 and native_bf16(_CPU))
    student = student or StudentConfig()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    mels, index, raw = load_teacher(teacher_files)
    n_val = max(1, round(config.validation_share * len(mels)))
    val_tracks = set(rng.permutation(len(mels))[:n_val].tolist())
    is_val = np.array([t in val_tracks for t in index[:, 0]])
    mean, std = raw[~is_val].mean(axis=0), raw[~is_val].std(axis=0) + 1e-6
    patches = _Patches(mels, index, ((raw - mean) / std).astype(np.float32))
    directions = _unit_directions(head_directions, std)
    train_rows, val_rows = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    model = Student(student)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    steps = config.epochs * -(-len(train_rows) // config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.lr, total_steps=steps)
    history, best, best_state = [], float("inf"), None
    for epoch in range(config.epochs):
        started = time.perf_counter()
        model.train()
        order = rng.permutation(train_rows)
        for start in range(0, len(order), config.batch_size):
            x, y = _batch(patches, order[start : start + config.batch_size])
            with bf16_autocast(_CPU, enabled=config.bf16):
                loss = _objective(model(x).float() - y, directions, config).mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
        val = _loss(model, patches, val_rows, config=config, directions=directions)
        history.append(val)
        seconds = time.perf_counter() - started
        print(f"epoch {epoch + 1}: validation mse {val:.4f} ({seconds:.0f} s)", flush=True)
        if val < best:
            best = val
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert best_state is not None
    report = {
        "student": asdict(student), "distill": asdict(config),
        "teacher": f"musicnn penultimate ({raw.shape[1]}-d)", "n_tracks": len(mels),
        "n_patches": len(index), "validation_mse": history,
        "best_epoch": int(np.argmin(history)) + 1,
        "teacher_mean": mean.tolist(), "teacher_std": std.tolist(),
        "head_directions": None if directions is None else len(directions),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = save(stored_student({k: v.float().numpy() for k, v in best_state.items()
                                   if not k.endswith("num_batches_tracked")}))
    atomic_write(out_dir / "student.safetensors", lambda handle: handle.write(payload))
    atomic_write_text(out_dir / "student.json", json.dumps(report, indent=1) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("teacher_dirs", type=Path, nargs="+",
                        help="folders of teacher-cache .npz files (e.g. teacher-v1 and its "
                        "augmented copies teacher-v1-aug1); each file counts as a track")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ids", type=Path, help="text file of track ids to use (default all)")
    parser.add_argument("--epochs", type=int, default=DistillConfig.epochs)
    parser.add_argument("--channels", type=int, nargs=3, default=StudentConfig.channels)
    args = parser.parse_args(argv)
    keep = set(args.ids.read_text().split()) if args.ids else None
    files = [f for folder in args.teacher_dirs for f in sorted(folder.glob("*.npz"))
             if keep is None or f.stem in keep]
    report = distill(files, out_dir=args.out, config=DistillConfig(epochs=args.epochs),
                     student=StudentConfig(channels=tuple(args.channels)))
    print(f"best epoch {report['best_epoch']}: validation mse {min(report['validation_mse']):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
