"""Data-parallel training under ``torchrun``: process group, sharded batches, gathered outputs.

``torchrun --nproc-per-node N -m moodnet train CONFIG ...`` starts N copies of the command
with ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` in their environment;
:func:`process_group_from_env` joins them (gloo on CPUs, NCCL on CUDA). The training loop
(:mod:`moodnet.training.loop`) then, in every process:

- wraps the model in ``DistributedDataParallel`` (gradients averaged after every step, so the
  replicas' weights stay identical),
- takes its share of each epoch's shuffled train tracks (``DistributedSampler``: the same
  seeded permutation everywhere, every N-th track from its rank), in per-process batches of
  ``ceil(batch_size / N)`` tracks, so that ``batch_size`` keeps meaning the global batch,
- embeds its share of the tracks once with a frozen backbone (``musicnn_head``) and gathers
  the others' embeddings,
- validates its share of the validation tracks and gathers all outputs, so that every process
  computes the same metrics and takes the same early-stopping decisions;

and only rank 0 shows progress and writes ``metrics.csv``, TensorBoard logs and the
checkpoint. Without torchrun (or with one process) nothing here is used.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from moodnet.core import DEFAULT_DEVICE
from moodnet.errors import ConfigError
from moodnet.models.arrays import ArrayData, minibatches

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Replicas:
    """This process's place among the data-parallel processes.

    Attributes
    ----------
    rank : 0 .. world_size - 1 (0 writes the outputs)
    world_size : number of processes (> 1)
    local_rank : rank on this machine (the CUDA device it uses)
    """

    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        """Whether this process writes (rank 0)."""
        return self.rank == 0


def replicas() -> Replicas | None:
    """The running process group (more than one process), or None for a single process."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return Replicas(rank=dist.get_rank(), world_size=dist.get_world_size(),
                    local_rank=int(os.environ.get("LOCAL_RANK", dist.get_rank())))


def is_main_process() -> bool:
    """True in a single process and in rank 0 of a process group."""
    group = replicas()
    return group is None or group.is_main


@contextlib.contextmanager
def process_group_from_env(*, device: str = DEFAULT_DEVICE) -> Iterator[Replicas | None]:
    """Join torchrun's processes for the duration of a ``with`` block (None outside torchrun).

    Parameters
    ----------
    device : the training config's device: ``cpu`` uses gloo; ``auto`` / ``cuda`` use NCCL when
        CUDA is present (each process on the GPU of its ``LOCAL_RANK``), else gloo

    Raises
    ------
    ConfigError
        torchrun's variables are incomplete or inconsistent, or a process has no GPU of its own.
    """
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world < 2:
        yield None
        return
    import torch
    import torch.distributed as dist

    missing = [k for k in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
               if k not in os.environ]
    if missing:
        raise ConfigError(f"WORLD_SIZE={world} but {', '.join(missing)} not set: start "
                          "data-parallel training with torchrun --nproc-per-node N")
    local_rank = int(os.environ["LOCAL_RANK"])
    cuda = device != "cpu" and torch.cuda.is_available()
    if cuda:
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK {local_rank}: this machine has "
                              f"{torch.cuda.device_count()} GPU(s); use that many processes")
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    try:
        yield replicas()
        dist.barrier()  # no rank tears gloo down while another still talks to it
    finally:
        dist.destroy_process_group()
        gc.collect()  # drop finished collectives' work objects while the interpreter is whole


def end_replica(code: int) -> NoReturn:
    """End a torchrun replica now, with ``code``, after flushing stdout and stderr.

    Skips the interpreter's finalisation: gloo's worker threads may still be joinable then,
    and their destruction aborts the process now and then ("terminate called without an
    active exception", SIGABRT) after the work is done and saved, which torchrun reports as
    a failed run.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def wrap(model: nn.Module, group: Replicas | None) -> nn.Module:
    """The module whose forward trains: ``DistributedDataParallel(model)`` in a group, else
    ``model``. Parameters a batch does not reach (a lyrics branch on audio-only batches) are
    allowed."""
    if group is None:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device = next(model.parameters()).device
    ids = [device.index if device.index is not None else group.local_rank] \
        if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)


def shard_batches(n: int, *, batch_size: int, epoch: int, seed: int, group: Replicas,
                  ) -> Iterator[np.ndarray]:
    """This rank's minibatches of one epoch over ``n`` train tracks.

    Parameters
    ----------
    n : train tracks
    batch_size : the global batch; each rank takes ``ceil(batch_size / world_size)``
    epoch : seeds the epoch's permutation together with ``seed`` (same on every rank)
    seed : the training seed
    group : the process group

    Yields
    ------
    index : np.ndarray [shape=(b,)], int64 track indices; every rank gets as many batches
        (``DistributedSampler`` repeats a few tracks to make the shares equal)
    """
    from torch.utils.data import DistributedSampler

    tracks: Any = range(n)  # a sized sequence is all the sampler reads
    sampler: DistributedSampler[int] = DistributedSampler(
        tracks, num_replicas=group.world_size, rank=group.rank, shuffle=True, seed=seed,
        drop_last=False)
    sampler.set_epoch(epoch)
    share = np.fromiter(iter(sampler), dtype=np.int64)
    per_rank = max(1, math.ceil(batch_size / group.world_size))
    for index in minibatches(len(share), batch_size=per_rank):
        yield share[index]


def mean_over_ranks(total: float, count: int, group: Replicas | None) -> float:
    """``sum(total) / sum(count)`` over the ranks (``total / count`` alone)."""
    if group is None:
        return total / count
    import torch
    import torch.distributed as dist

    both = torch.tensor([total, float(count)], dtype=torch.float64, device=_device())
    dist.all_reduce(both)
    return float(both[0] / both[1])


def broadcast_buffers(model: nn.Module, group: Replicas | None) -> None:
    """Rank 0's buffers (batch-norm running statistics) to every rank, so that evaluation
    and the snapshot kept for the best epoch are the same model everywhere."""
    if group is None:
        return
    import torch.distributed as dist

    for buffer in model.buffers():
        dist.broadcast(buffer.data, src=0)


def _share(n: int, group: Replicas) -> np.ndarray:
    return np.array_split(np.arange(n), group.world_size)[group.rank]


def gather_outputs(
    predict: Callable[[ArrayData], dict[str, np.ndarray]], data: ArrayData,
    group: Replicas | None,
) -> dict[str, np.ndarray]:
    """``predict(data)``, each rank computing a contiguous share and all ranks receiving the
    whole, in ``data``'s order."""
    if group is None:
        return predict(data)
    import torch.distributed as dist

    share = _share(len(data), group)
    mine = predict(data.subset(share)) if len(share) else {}
    parts: list[Any] = [None] * group.world_size
    dist.all_gather_object(parts, mine)
    keys = next(part.keys() for part in parts if part)
    return {key: np.concatenate([part[key] for part in parts if part]) for key in keys}


def embed_sharded(
    precompute: Callable[[ArrayData], ArrayData], data: ArrayData, group: Replicas | None,
) -> ArrayData:
    """A frozen backbone's embedding pass (``precompute_audio``) over the ranks: each embeds
    a share of the tracks once, and every rank gets every embedding."""
    if group is None:
        return precompute(data)
    import torch.distributed as dist

    share = _share(len(data), group)
    mine = precompute(data.subset(share)).embeddings if len(share) else None
    parts: list[Any] = [None] * group.world_size
    dist.all_gather_object(parts, mine)
    embeddings = np.concatenate([part for part in parts if part is not None])
    return replace(data, embeddings=embeddings, mel=None)


def _device() -> Any:
    import torch
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
