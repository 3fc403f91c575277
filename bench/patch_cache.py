"""Patch descriptors (and optionally musicnn patch embeddings) of every track of manifests.

Cached per track as ``CACHE/<kind>-v<version>/<track id>.npy`` (atomic writes, reruns skip
what exists). Used by the k-fold benchmarks and the shipped model's training.

Usage::

    python -m bench.patch_cache work/4q.jsonl work/mirex.jsonl --cache work/patch_cache
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from moodnet.data.manifest import read_manifest

KIND = "patchdesc"


def cache_dir(cache: Path) -> Path:
    from moodnet.audio.patch_descriptors import PATCH_DESCRIPTOR_VERSION

    return cache / f"{KIND}-v{PATCH_DESCRIPTOR_VERSION}"


def _one(job: tuple[str, str, str]) -> str | None:
    from moodnet.audio.patch_descriptors import track_descriptors

    track_id, audio, folder = job
    target = Path(folder) / f"{track_id}.npy"
    if target.exists():
        return None
    try:
        rows = track_descriptors(audio).rows
    except Exception as exc:
        return f"{audio}: {exc}"
    tmp = target.with_suffix(".tmp.npy")
    np.save(tmp, rows)
    os.replace(tmp, target)
    return None


def build(manifests: list[Path], cache: Path, *, workers: int) -> dict[str, np.ndarray]:
    """Descriptor rows of every track of the manifests, by track id."""
    folder = cache_dir(cache)
    folder.mkdir(parents=True, exist_ok=True)
    tracks = [t for m in manifests for t in read_manifest(m)]
    jobs = [(t.id, t.audio, str(folder)) for t in tracks if t.audio]
    with ProcessPoolExecutor(workers) as pool:
        for problem in pool.map(_one, jobs, chunksize=8):
            if problem:
                print(problem, file=sys.stderr)
    files = {t.id: folder / f"{t.id}.npy" for t in tracks}
    return {key: np.load(path) for key, path in files.items() if path.exists()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", type=Path, nargs="+")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    rows = build(args.manifests, args.cache, workers=args.workers)
    print(f"{len(rows)} tracks in {cache_dir(args.cache)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
