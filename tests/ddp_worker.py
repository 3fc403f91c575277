"""Run by tests/test_ddp.py under torchrun (2 CPU processes): trains the debug model on
generated arrays with DistributedDataParallel and leaves, per rank, its final weights, its
epoch history and the train tracks it saw in each epoch.

Usage: torchrun --standalone --nproc-per-node 2 tests/ddp_worker.py OUT_DIR
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from moodnet.models.arrays import ArrayData
from moodnet.training.config import load_train_config
from moodnet.training.distributed import (
    embed_sharded,
    end_replica,
    process_group_from_env,
    shard_batches,
)
from moodnet.training.loop import train_arrays
from synthetic_arrays import mel_with_mood

N_TRAIN, N_VAL, EPOCHS = 40, 12, 6


def synthetic(n: int, *, seed: int, n_mels: int = 16, frames: int = 160) -> ArrayData:
    """Arousal drives the high bands' energy, valence pulses in the low bands."""
    va, mel = mel_with_mood(np.random.default_rng(seed), n, n_mels=n_mels, frames=frames)
    return ArrayData(mel=mel, va=va)


def main(out: Path) -> int:
    with process_group_from_env(device="cpu") as group:
        if group is None or group.world_size != 2:
            raise SystemExit(f"expected 2 processes under torchrun, got {group}")
        config = load_train_config("debug", overrides=[
            f"max_epochs={EPOCHS}", "patience=0", "batch_size=8", "num_threads=1", "seed=3"])
        frames = config.features.n_frames  # the debug features' clips
        result = train_arrays(config, synthetic(N_TRAIN, seed=0, frames=frames),
                              synthetic(N_VAL, seed=1, frames=frames),
                              run_dir=out / f"run{group.rank}")
        weights = {k: v.detach().cpu().numpy()
                   for k, v in result.checkpoint.model.state_dict().items()}
        np.savez(out / f"weights{group.rank}.npz", **weights)
        seen = [[int(i) for batch in shard_batches(N_TRAIN, batch_size=config.batch_size,
                                                   epoch=epoch, seed=config.seed, group=group)
                 for i in batch] for epoch in range(1, EPOCHS + 1)]
        data = synthetic(N_VAL + 1, seed=2, frames=frames)  # an odd count: unequal shares
        calls: list[int] = []

        def embed(part: ArrayData) -> ArrayData:  # a stand-in for a frozen backbone
            calls.append(len(part))
            assert part.mel is not None
            return replace(part, embeddings=part.mel.mean(axis=2), mel=None)

        gathered = embed_sharded(embed, data, group).embeddings
        assert data.mel is not None and gathered is not None
        (out / f"rank{group.rank}.json").write_text(json.dumps(
            {"history": result.history, "seen": seen, "world_size": group.world_size,
             "embedded": calls, "embeddings_equal": bool(np.array_equal(
                 gathered, data.mel.mean(axis=2)))}))
    return 0


if __name__ == "__main__":
    end_replica(main(Path(sys.argv[1])))
