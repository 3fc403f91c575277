"""Teacher targets for distilling musicnn (MSD) into the default model's small student.

For every track of the manifests: the level-normalised 16 kHz signal's musicnn log-mel
(``(n_frames, 96)`` float16) and musicnn's 200-d penultimate activations on 3 s patches
starting every ``--hop`` frames (default 93: half-overlapping), computed under bf16 autocast.
Saved as ``CACHE/teacher-v1/<id>.npz`` (``mel``, ``starts``, ``embeddings``); reruns skip what
exists. With ``--augment K``, K augmented copies of every cached log-mel
(:func:`moodnet.training.augment.augment_log_mel`, seeded by file name and copy) with the
teacher's embeddings of their patches, in ``CACHE/teacher-v1-aug<k>/`` (same format).
With ``--mix K --partners MANIFEST``, K mixed copies of every cached track
(:func:`moodnet.training.augment.mix_log_mels`): each adds a share of one partner track drawn
from MANIFEST's tracks (seeded by file name and copy; the partner's id is saved as
``partner``), in ``CACHE/teacher-v1-mix<k>/``. Drawing the partners from the MIREX-like set,
which every fold student of ``bench/kfold_default`` is distilled on, keeps the 4Q test folds'
audio out of the training folds' mixes.

Usage::

    python -m bench.teacher_cache work/mirex.jsonl work/4q.jsonl --cache work/patch_cache \\
        [--augment 1] [--mix 1 --partners work/mirex.jsonl]
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


def augmented_dir(cache: Path, copy: int) -> Path:
    return cache / f"teacher-v{VERSION}-aug{copy}"


def _embed_patches(mel: np.ndarray, hop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mel tiled to one patch at least, patch starts, teacher embeddings of the patches)."""
    from moodnet.audio.musicnn_frontend import MUSICNN_PATCH_FRAMES

    if mel.shape[0] < MUSICNN_PATCH_FRAMES:
        mel = np.tile(mel, (-(-MUSICNN_PATCH_FRAMES // mel.shape[0]), 1))
    starts = np.arange(0, mel.shape[0] - MUSICNN_PATCH_FRAMES + 1, hop)
    patches = np.stack([mel[s : s + MUSICNN_PATCH_FRAMES] for s in starts])
    embeddings, _ = _STATE["embedder"].forward_patches(patches)  # type: ignore[attr-defined]
    return mel, starts, embeddings


def mixed_dir(cache: Path, copy: int) -> Path:
    return cache / f"teacher-v{VERSION}-mix{copy}"


def _save(target: Path, mel: np.ndarray, starts: np.ndarray, embeddings: np.ndarray,
          **extra: str) -> None:
    tmp = target.with_suffix(".tmp.npz")
    with tmp.open("wb") as handle:
        np.savez(handle, mel=mel.astype(np.float16), starts=starts, embeddings=embeddings,
                 **extra)
    os.replace(tmp, target)


def _cached_mel(path: str) -> np.ndarray:
    with np.load(path) as data:
        return data["mel"].astype(np.float32)


def _augmented(job: tuple[str, str, int, int]) -> str | None:
    """Augmented copy ``copy`` of one cached track (``job``: source file, folder, copy, hop)."""
    from moodnet.training.augment import augment_log_mel, augmentation_rng

    source, folder, copy, hop = job
    target = Path(folder) / Path(source).name
    if target.exists():
        return None
    try:
        mel = augment_log_mel(_cached_mel(source),
                              rng=augmentation_rng(Path(source).name, copy))
    except Exception as exc:
        return f"{source}: {exc}"
    _save(target, *_embed_patches(mel, hop))
    return None


def _mixed(job: tuple[str, str, str, int, int]) -> str | None:
    """Mixed copy ``copy`` of one cached track with a partner's (``job``: source file,
    partner file, folder, copy, hop)."""
    from moodnet.training.augment import augmentation_rng, mix_log_mels

    source, partner, folder, copy, hop = job
    target = Path(folder) / Path(source).name
    if target.exists():
        return None
    try:
        mel = mix_log_mels(_cached_mel(source), _cached_mel(partner),
                           rng=augmentation_rng("mix-" + Path(source).name, copy))
    except Exception as exc:
        return f"{source} + {partner}: {exc}"
    _save(target, *_embed_patches(mel, hop), partner=Path(partner).stem)
    return None


def mix_partners(sources: list[str], pool: list[str], copy: int) -> list[str]:
    """One partner file from ``pool`` per source file (never itself), seeded by name and copy."""
    from moodnet.training.augment import augmentation_rng

    partners = []
    for source in sources:
        others = [p for p in pool if Path(p).name != Path(source).name]
        rng = augmentation_rng("partner-" + Path(source).name, copy)
        partners.append(others[int(rng.integers(len(others)))])
    return partners


def _report(problems: object, what: str) -> int:
    failed = 0
    for problem in problems:  # type: ignore[attr-defined]
        if problem:
            failed += 1
            print(problem, file=sys.stderr)
    print(what)
    return failed


def _one(job: tuple[str, str, str, int]) -> str | None:
    from moodnet.audio.io import load_audio
    from moodnet.audio.musicnn_frontend import musicnn_log_mel
    from moodnet.audio.patch_descriptors import normalise_level

    track_id, audio, folder, hop = job
    target = Path(folder) / f"{track_id}.npz"
    if target.exists():
        return None
    try:
        mel = musicnn_log_mel(normalise_level(load_audio(audio, sr=16000, duration=600.0)))
    except Exception as exc:
        return f"{audio}: {exc}"
    _save(target, *_embed_patches(mel, hop))
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", type=Path, nargs="+")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--hop", type=int, default=93)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--augment", type=int, default=0,
                        help="augmented copies of every cached track (teacher-v1-aug<k>)")
    parser.add_argument("--mix", type=int, default=0,
                        help="mixed copies of every cached track (teacher-v1-mix<k>)")
    parser.add_argument("--partners", type=Path,
                        help="manifest whose cached tracks are the mixes' partners")
    args = parser.parse_args()
    if args.mix and not args.partners:
        parser.error("--mix needs --partners")
    folder = teacher_dir(args.cache)
    folder.mkdir(parents=True, exist_ok=True)
    tracks = [t for m in args.manifests for t in read_manifest(m)]
    jobs = [(t.id, t.audio, str(folder), args.hop) for t in tracks if t.audio]
    failed = 0
    with ProcessPoolExecutor(args.workers, initializer=_start) as pool:  # musicnn loads once
        for i, problem in enumerate(pool.map(_one, jobs, chunksize=4)):
            if problem:
                failed += 1
                print(problem, file=sys.stderr)
            if i % 100 == 0:
                print(f"{i}/{len(jobs)}", flush=True)
        print(f"{len(jobs) - failed} tracks in {folder}")
        cached = [str(folder / f"{t.id}.npz") for t in tracks
                  if t.audio and (folder / f"{t.id}.npz").exists()]
        for copy in range(1, args.augment + 1):
            out = augmented_dir(args.cache, copy)
            out.mkdir(parents=True, exist_ok=True)
            failed += _report(
                pool.map(_augmented, [(s, str(out), copy, args.hop) for s in cached],
                         chunksize=4), f"{len(cached)} augmented tracks in {out}")
        pool_files = [str(folder / f"{t.id}.npz") for t in read_manifest(args.partners)
                      if (folder / f"{t.id}.npz").exists()] if args.mix else []
        for copy in range(1, args.mix + 1):
            out = mixed_dir(args.cache, copy)
            out.mkdir(parents=True, exist_ok=True)
            jobs_mix = [(s, p, str(out), copy, args.hop)
                        for s, p in zip(cached, mix_partners(cached, pool_files, copy),
                                        strict=True)]
            failed += _report(pool.map(_mixed, jobs_mix, chunksize=4),
                              f"{len(cached)} mixed tracks in {out}")
    if failed:
        print(f"{failed} problems (listed above)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
