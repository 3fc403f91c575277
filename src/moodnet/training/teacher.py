"""Teacher targets for distilling musicnn (MSD) into the default model's student.

For every track: the level-normalised 16 kHz signal's musicnn log-mel (``(n_frames, 96)``
float16) and musicnn's 200-d penultimate activations on 3 s patches starting every ``hop``
frames (default 93: half-overlapping), computed under bf16 autocast where the CPU computes
bfloat16 natively (float32 elsewhere, where bfloat16 would be about 20x slower). Saved as
``CACHE/teacher-v1/<id>.npz`` (``mel``, ``starts``, ``embeddings``); what exists is kept,
so an interrupted run resumes. Optionally, copies of every cached log-mel labelled by the
teacher in the same format:

* ``augment=K``: augmented copies (:func:`moodnet.training.augment.augment_log_mel`,
  seeded by file name and copy) in ``CACHE/teacher-v1-aug<k>/``;
* ``mix=K``: mixed copies (:func:`moodnet.training.augment.mix_log_mels`), each with one
  partner track drawn from ``partners`` (seeded by file name and copy; its id is saved as
  ``partner``) in ``CACHE/teacher-v1-mix<k>/``.

Usage::

    python -m moodnet.training.teacher work/mirex.jsonl work/4q.jsonl \\
        --cache work/patch_cache [--augment 1] [--mix 1 --partners work/mirex.jsonl]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodnet.errors import DataError
from moodnet.track import Track

TEACHER_VERSION = 1
DEFAULT_HOP = 93
"""Frames between the starts of the teacher's patches (half of musicnn's 187)."""
_WORKER: dict[str, Any] = {}


def teacher_dir(cache: Path) -> Path:
    """Where the tracks' own teacher files go."""
    return cache / f"teacher-v{TEACHER_VERSION}"


def augmented_dir(cache: Path, copy: int) -> Path:
    """Where augmented copy ``copy`` (1, 2, ...) goes."""
    return cache / f"teacher-v{TEACHER_VERSION}-aug{copy}"


def mixed_dir(cache: Path, copy: int) -> Path:
    """Where mixed copy ``copy`` (1, 2, ...) goes."""
    return cache / f"teacher-v{TEACHER_VERSION}-mix{copy}"


@dataclass
class TeacherCache:
    """What :func:`cache_teacher` left on disk.

    Attributes
    ----------
    folders : the tracks' folder, then one per copy
    tracks : ids of the tracks with a teacher file
    problems : one line per track or copy that failed (file and problem)
    """

    folders: list[Path]
    tracks: list[str]
    problems: list[str] = field(default_factory=list)

    def files(self) -> list[Path]:
        """Every teacher file, folder by folder, sorted by file name within a folder (the order
        of ``python -m moodnet.training.distill FOLDER ...``)."""
        names = sorted(f"{i}.npz" for i in self.tracks)
        return [f for folder in self.folders for f in (folder / n for n in names) if f.exists()]


def cache_teacher(
    tracks: Sequence[Track], *, cache: Path, hop: int = DEFAULT_HOP, workers: int = 0,
    augment: int = 0, mix: int = 0, partners: Sequence[Track] = (),
    progress: bool = False,
) -> TeacherCache:
    """Run musicnn over the tracks (and copies of them) that have no teacher file yet.

    Parameters
    ----------
    tracks : tracks with audio (others are skipped)
    cache : parent folder of ``teacher-v1`` and the copies' folders
    hop : frames between patch starts
    workers : processes (0: one per core); each loads musicnn once
    augment, mix : augmented and mixed copies per track
    partners : tracks whose teacher files are the mixes' partners (needed when ``mix > 0``)
    progress : print a line every 100 tracks

    Raises
    ------
    DataError
        ``mix > 0`` without partners, or none of the tracks could be analysed.
    """
    from moodnet.core import worker_pool

    if mix and not partners:
        raise DataError("mixed copies need partner tracks")
    folder = teacher_dir(cache)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(t.id, str(t.audio), str(folder), hop) for t in tracks if t.audio]
    problems: list[str] = []
    with worker_pool(workers or os.cpu_count() or 1, initializer=start_worker) as pool:
        for i, problem in enumerate(pool.map(cache_track, jobs, chunksize=4)):
            _note(problem, problems)
            if progress and i % 100 == 0:
                print(f"{i}/{len(jobs)}", flush=True)
        done = [job[0] for job in jobs if (folder / f"{job[0]}.npz").exists()]
        if not done:
            raise DataError(f"no track could be analysed: {'; '.join(problems[:5])}")
        sources = [str(folder / f"{i}.npz") for i in done]
        folders = [folder]
        for copy in range(1, augment + 1):
            folders.append(augmented_dir(cache, copy))
            folders[-1].mkdir(parents=True, exist_ok=True)
            for problem in pool.map(_augmented, [(s, str(folders[-1]), copy, hop)
                                                 for s in sources], chunksize=4):
                _note(problem, problems)
        pool_files = [str(folder / f"{t.id}.npz") for t in partners
                      if (folder / f"{t.id}.npz").exists()]
        for copy in range(1, mix + 1):
            folders.append(mixed_dir(cache, copy))
            folders[-1].mkdir(parents=True, exist_ok=True)
            jobs_mix = [(s, p, str(folders[-1]), copy, hop)
                        for s, p in zip(sources, mix_partners(sources, pool_files, copy),
                                        strict=True)]
            for problem in pool.map(_mixed, jobs_mix, chunksize=4):
                _note(problem, problems)
    return TeacherCache(folders, done, problems)


def mix_partners(sources: Sequence[str], pool: Sequence[str], copy: int) -> list[str]:
    """One partner file from ``pool`` per source file (never itself), seeded by name and copy."""
    from moodnet.training.augment import augmentation_rng

    partners = []
    for source in sources:
        others = [p for p in pool if Path(p).name != Path(source).name]
        if not others:
            raise DataError(f"{source}: no partner track to mix with")
        rng = augmentation_rng("partner-" + Path(source).name, copy)
        partners.append(others[int(rng.integers(len(others)))])
    return partners


def _note(problem: str | None, problems: list[str]) -> None:
    if problem:
        problems.append(problem)
        print(problem, file=sys.stderr)


def start_worker() -> None:
    """Load musicnn (one thread) in this process: the initializer of the workers."""
    import torch

    from moodnet.core import native_bf16
    from moodnet.models.musicnn import MusicnnEmbedder

    torch.set_num_threads(1)
    cpu = torch.device("cpu")
    _WORKER["embedder"] = MusicnnEmbedder(device="cpu", bf16=native_bf16(cpu))


def _embed_patches(mel: np.ndarray, hop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mel tiled to one patch at least, patch starts, teacher embeddings of the patches)."""
    from moodnet.audio.musicnn_frontend import MUSICNN_PATCH_FRAMES

    if mel.shape[0] < MUSICNN_PATCH_FRAMES:
        mel = np.tile(mel, (-(-MUSICNN_PATCH_FRAMES // mel.shape[0]), 1))
    starts = np.arange(0, mel.shape[0] - MUSICNN_PATCH_FRAMES + 1, hop)
    patches = np.stack([mel[s : s + MUSICNN_PATCH_FRAMES] for s in starts])
    embeddings, _ = _WORKER["embedder"].forward_patches(patches)
    return mel, starts, embeddings


def _save(target: Path, mel: np.ndarray, starts: np.ndarray, embeddings: np.ndarray,
          **extra: Any) -> None:
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        np.savez(handle, mel=mel.astype(np.float16), starts=starts, embeddings=embeddings,
                 **extra)
    os.replace(tmp, target)


def _label_copy(target: Path, make_mel: Callable[[], np.ndarray], *, what: str, hop: int,
                **extra: np.ndarray) -> str | None:
    """Teacher file of a copy made by ``make_mel`` unless ``target`` exists; the problem in
    words (naming ``what``), or None."""
    if target.exists():
        return None
    try:
        mel = make_mel()
    except Exception as exc:  # reported, the others go on
        return f"{what}: {exc}"
    _save(target, *_embed_patches(mel, hop), **extra)
    return None


def _cached_mel(path: str) -> np.ndarray:
    with np.load(path) as data:
        return data["mel"].astype(np.float32)


def cache_track(job: tuple[str, str, str, int]) -> str | None:
    """Teacher file of one track (``job``: id, audio path, folder, hop) unless it exists;
    returns the problem in words, or None. Needs :func:`start_worker` first."""
    from moodnet.audio.io import load_audio
    from moodnet.audio.musicnn_frontend import musicnn_log_mel
    from moodnet.audio.patch_descriptors import normalise_level

    track_id, audio, folder, hop = job
    target = Path(folder) / f"{track_id}.npz"
    if target.exists():
        return None
    try:
        mel = musicnn_log_mel(normalise_level(load_audio(audio, sr=16000, duration=600.0)))
    except Exception as exc:  # reported, the others go on
        return f"{audio}: {exc}"
    _save(target, *_embed_patches(mel, hop))
    return None


def _augmented(job: tuple[str, str, int, int]) -> str | None:
    """Augmented copy ``copy`` of one cached track (``job``: source file, folder, copy, hop)."""
    from moodnet.training.augment import augment_log_mel, augmentation_rng

    source, folder, copy, hop = job
    return _label_copy(
        Path(folder) / Path(source).name,
        lambda: augment_log_mel(_cached_mel(source),
                                rng=augmentation_rng(Path(source).name, copy)),
        what=source, hop=hop)


def _mixed(job: tuple[str, str, str, int, int]) -> str | None:
    """Mixed copy ``copy`` of one cached track with a partner's (``job``: source file,
    partner file, folder, copy, hop)."""
    from moodnet.training.augment import augmentation_rng, mix_log_mels

    source, partner, folder, copy, hop = job
    return _label_copy(
        Path(folder) / Path(source).name,
        lambda: mix_log_mels(_cached_mel(source), _cached_mel(partner),
                             rng=augmentation_rng("mix-" + Path(source).name, copy)),
        what=f"{source} + {partner}", hop=hop, partner=np.array(Path(partner).stem))


def _tracks(manifests: Iterable[Path]) -> list[Track]:
    from moodnet.data.manifest import read_manifest

    return [t for m in manifests for t in read_manifest(m)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", type=Path, nargs="+")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--hop", type=int, default=DEFAULT_HOP)
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--augment", type=int, default=0,
                        help="augmented copies of every cached track (teacher-v1-aug<k>)")
    parser.add_argument("--mix", type=int, default=0,
                        help="mixed copies of every cached track (teacher-v1-mix<k>)")
    parser.add_argument("--partners", type=Path,
                        help="manifest whose cached tracks are the mixes' partners")
    args = parser.parse_args(argv)
    if args.mix and not args.partners:
        parser.error("--mix needs --partners")
    result = cache_teacher(
        _tracks(args.manifests), cache=args.cache, hop=args.hop, workers=args.workers,
        augment=args.augment, mix=args.mix,
        partners=_tracks([args.partners]) if args.partners else (), progress=True)
    for folder in result.folders:
        print(f"{sum(1 for _ in folder.glob('*.npz'))} files in {folder}")
    if result.problems:
        print(f"{len(result.problems)} problems (listed above)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
