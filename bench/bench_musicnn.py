"""Benchmark: musicnn embeddings of 30 s clips (16 kHz audio already decoded).

Usage::

    python bench/bench_musicnn.py [--clips 8] [--threads 1 2]

Times ``MusicnnEmbedder.embed`` (log-mel + 10 patches through the network, float32 and
bfloat16 autocast) on synthetic
30 s clips, per torch thread count, and reports clips/s on wall and on CPU time. Decoding
is not included (see ``bench_features.py``). On a shared machine, compare within one run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from moodnet.audio.musicnn_frontend import musicnn_log_mel, musicnn_patches
from moodnet.models.musicnn import MusicnnEmbedder

SR = 16000


def synthetic_clips(n: int, *, seconds: float = 30.0) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(round(seconds * SR)) / SR
    return [
        (
            0.2 * np.sin(2 * np.pi * rng.uniform(100, 1000) * t)
            + 0.05 * rng.standard_normal(t.size)
        ).astype(np.float32)
        for _ in range(n)
    ]


def rate(fn: Callable[[np.ndarray], object], clips: list[np.ndarray]) -> tuple[float, float]:
    fn(clips[0])  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for clip in clips:
        fn(clip)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(clips) / wall, len(clips) / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    clips = synthetic_clips(args.clips)
    embedder = MusicnnEmbedder(device="cpu")
    embedder_bf16 = MusicnnEmbedder(device="cpu", bf16=True)
    mel_rate, _ = rate(lambda y: musicnn_patches(musicnn_log_mel(y)), clips)
    print(f"log-mel + patches only: {mel_rate:.1f} clips/s (1 thread, numpy/scipy)")
    for threads in args.threads:
        torch.set_num_threads(threads)
        wall, cpu = rate(embedder.embed, clips)
        print(f"embed, {threads} thread(s): {wall:.2f} clips/s wall, {cpu:.2f} clips/s CPU")
        wall, cpu = rate(embedder_bf16.embed, clips)
        label = "bf16 autocast" if embedder_bf16.bf16 else "bf16 asked, not native: float32"
        print(f"  {label}: {wall:.2f} clips/s wall, {cpu:.2f} clips/s CPU")


if __name__ == "__main__":
    main()
