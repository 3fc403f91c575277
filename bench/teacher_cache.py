"""Teacher targets for distilling musicnn (MSD) into the default model's small student.

For every track of the manifests: the level-normalised 16 kHz signal's musicnn log-mel
(``(n_frames, 96)`` float16) and musicnn's 200-d penultimate activations on 3 s patches
starting every ``--hop`` frames (default 93: half-overlapping), computed under bf16 autocast.
Saved as ``CACHE/teacher-v1/<id>.npz`` (``mel``, ``starts``, ``embeddings``); reruns skip what
exists.

Usage::

    python -m bench.teacher_cache work/mirex.jsonl work/4q.jsonl --cache work/patch_cache
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from moodnet.data.manifest import read_manifest

VERSION = 1
_STATE: dict[str, object] = {}


def teacher_dir(cache: Path) -> Path:
    return cache / f"teacher-v{VERSION}"


def _start() -> None:
    import torch

    from moodnet.models.musicnn import MusicnnEmbedder

    torch.set_num_threads(1)
    _STATE["embedder"] = MusicnnEmbedder(device="cpu", bf16=True)


def _one(job: tuple[str, str, str, int]) -> str | None:
    from moodnet.audio.io import load_audio
    from moodnet.audio.musicnn_frontend import MUSICNN_PATCH_FRAMES, musicnn_log_mel
    from moodnet.audio.patch_descriptors import normalise_level

    track_id, audio, folder, hop = job
    target = Path(folder) / f"{track_id}.npz"
    if target.exists():
        return None
    try:
        mel = musicnn_log_mel(normalise_level(load_audio(audio, sr=16000, duration=600.0)))
    except Exception as exc:
        return f"{audio}: {exc}"
    if mel.shape[0] < MUSICNN_PATCH_FRAMES:
        mel = np.tile(mel, (-(-MUSICNN_PATCH_FRAMES // mel.shape[0]), 1))
    starts = np.arange(0, mel.shape[0] - MUSICNN_PATCH_FRAMES + 1, hop)
    patches = np.stack([mel[s : s + MUSICNN_PATCH_FRAMES] for s in starts])
    embeddings, _ = _STATE["embedder"].forward_patches(patches)  # type: ignore[attr-defined]
    tmp = target.with_suffix(".tmp.npz")
    with tmp.open("wb") as handle:
        np.savez(handle, mel=mel.astype(np.float16), starts=starts, embeddings=embeddings)
    os.replace(tmp, target)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", type=Path, nargs="+")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--hop", type=int, default=93)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    folder = teacher_dir(args.cache)
    folder.mkdir(parents=True, exist_ok=True)
    tracks = [t for m in args.manifests for t in read_manifest(m)]
    jobs = [(t.id, t.audio, str(folder), args.hop) for t in tracks if t.audio]
    failed = 0
    with ProcessPoolExecutor(args.workers, initializer=_start) as pool:
        for i, problem in enumerate(pool.map(_one, jobs, chunksize=4)):
            if problem:
                failed += 1
                print(problem, file=sys.stderr)
            if i % 100 == 0:
                print(f"{i}/{len(jobs)}", flush=True)
    print(f"{len(jobs) - failed} tracks in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
