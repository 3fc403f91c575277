"""Batch feature extraction into a :class:`~moodnet.data.cache.FeatureCache`.

Files are decoded in worker processes started with ``spawn`` (they import numpy, scipy,
soundfile, PyAV and soxr, never torch, whatever the parent imported). Each finished file is
written to the cache at once, so an interrupted run resumes where it stopped: files already
cached are skipped. A file that fails is reported and the batch goes on.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodnet.audio.descriptors import descriptors as compute_descriptors
from moodnet.audio.features import FeatureConfig, clip_for_file, log_mel
from moodnet.data.cache import FeatureCache
from moodnet.errors import FileProblem, MoodnetError, ParameterError
from moodnet.io_utils import atomic_write_text
from moodnet.track import Track

REPORT_NAME = "extract_report.json"


@dataclass
class ExtractReport:
    """What one :func:`extract` run did.

    Attributes
    ----------
    cache_dir : the config's folder inside the cache (``FeatureCache.dir``)
    config_key : ``FeatureConfig.key()``
    ok : ids of tracks computed in this run
    cached : ids of tracks found already cached
    failed : id -> message (the message names the file and the problem)
    keys : id -> content hash of its audio (for every track that could be read)
    seconds : wall time of the run
    workers : processes used (1 = in this process)
    """

    cache_dir: str
    config_key: str
    ok: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 1

    @property
    def n_tracks(self) -> int:
        return len(self.ok) + len(self.cached) + len(self.failed)

    def summary(self) -> str:
        """One line: counts and wall time."""
        return (
            f"{self.n_tracks} tracks: {len(self.ok)} extracted, {len(self.cached)} already "
            f"cached, {len(self.failed)} failed in {self.seconds:.1f} s "
            f"({self.workers} worker{'s' if self.workers != 1 else ''}) -> {self.cache_dir}"
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def extract(
    tracks: Sequence[Track],
    *,
    config: FeatureConfig,
    cache_dir: str | Path,
    workers: int | None = None,
    progress: bool = True,
    descriptors: bool = True,
) -> ExtractReport:
    """Compute and cache the log-mel (and descriptors) of every track's audio.

    Parameters
    ----------
    tracks : manifest entries; their ``audio`` paths are read
    config : feature definition
    cache_dir : cache root (see :class:`~moodnet.data.cache.FeatureCache`)
    workers : processes; None = all available cores, 1 = in this process
    progress : show a tqdm bar on stderr
    descriptors : also cache the classical descriptor vector of each clip

    Returns
    -------
    report : ExtractReport, also written to ``<cache_dir>/<config.key()>/extract_report.json``
    """
    if workers is not None and workers < 1:
        raise ParameterError(f"workers={workers} must be >= 1")
    started = time.perf_counter()
    cache = FeatureCache(cache_dir, config)
    n_workers = workers or _available_cores()
    report = ExtractReport(cache_dir=str(cache.dir), config_key=config.key(), workers=n_workers)
    todo = _plan(tracks, cache=cache, report=report, descriptors=descriptors)
    cache.save_memo()
    errors = _run(todo, cache=cache, workers=n_workers, progress=progress, descriptors=descriptors)
    for key, ids in todo.items():
        for track_id in ids[1]:
            if key in errors:
                report.failed[track_id] = errors[key]
            else:
                report.ok.append(track_id)
    report.seconds = round(time.perf_counter() - started, 3)
    write_report(report, cache.dir / REPORT_NAME)
    return report


def write_report(report: ExtractReport, path: str | Path) -> Path:
    """Write a report as JSON, atomically."""
    return atomic_write_text(path, json.dumps(report.to_json(), indent=2) + "\n")


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _plan(
    tracks: Iterable[Track], *, cache: FeatureCache, report: ExtractReport, descriptors: bool
) -> dict[str, tuple[str, list[str]]]:
    """content hash -> (audio path, track ids) still to compute; fills cached/failed/keys."""
    kinds = ("mel", "descriptors") if descriptors else ("mel",)
    todo: dict[str, tuple[str, list[str]]] = {}
    for track in tracks:
        if track.audio is None:
            report.failed[track.id] = f"track {track.id}: no audio file in the manifest"
            continue
        try:
            key = cache.key_for(track.audio)
        except FileProblem as exc:
            report.failed[track.id] = str(exc)
            continue
        report.keys[track.id] = key
        if key in todo:
            todo[key][1].append(track.id)
        elif all(cache.contains(key, kind=kind) for kind in kinds):
            report.cached.append(track.id)
        else:
            todo[key] = (track.audio, [track.id])
    return todo


def _run(
    todo: dict[str, tuple[str, list[str]]],
    *,
    cache: FeatureCache,
    workers: int,
    progress: bool,
    descriptors: bool,
) -> dict[str, str]:
    """Extract every entry of ``todo``; returns content hash -> error message for failures."""
    from tqdm import tqdm

    jobs = [(key, audio) for key, (audio, _) in todo.items()]
    config_data = cache.config.to_dict()
    errors: dict[str, str] = {}
    bar = tqdm(total=len(jobs), disable=not progress, unit="file", desc="extract")
    try:
        if workers == 1 or len(jobs) <= 1:
            for key, audio in jobs:
                _record(errors, extract_one(audio, key, config_data, str(cache.root), descriptors))
                bar.update()
        else:
            _run_pool(
                jobs,
                errors,
                bar=bar,
                workers=workers,
                config_data=config_data,
                root=str(cache.root),
                descriptors=descriptors,
            )
    finally:
        bar.close()
    return errors


def _run_pool(
    jobs: list[tuple[str, str]],
    errors: dict[str, str],
    *,
    bar: Any,
    workers: int,
    config_data: dict[str, Any],
    root: str,
    descriptors: bool,
) -> None:
    from moodnet.core import worker_pool

    with _sigterm_as_exit(), worker_pool(min(workers, len(jobs))) as pool:
        futures: dict[Future[tuple[str, str | None]], tuple[str, str]] = {
            pool.submit(extract_one, audio, key, config_data, root, descriptors): (key, audio)
            for key, audio in jobs
        }
        for future in as_completed(futures):  # Ctrl-C, SIGTERM: the pool stops the workers
            key, audio = futures[future]
            try:
                _record(errors, future.result())
            except BrokenProcessPool:
                errors[key] = f"{audio}: the worker process died while decoding this file"
            bar.update()


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM raises SystemExit(143) in the main thread, so the pool is stopped on the way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _record(errors: dict[str, str], result: tuple[str, str | None]) -> None:
    key, message = result
    if message is not None:
        errors[key] = message


def extract_one(
    audio: str, key: str, config_data: dict[str, Any], root: str, descriptors: bool
) -> tuple[str, str | None]:
    """Worker: decode one file, cache its log-mel (and descriptors).

    Returns ``(key, None)`` on success, ``(key, message)`` on failure; never raises for a bad
    file, so that one file cannot stop a batch.
    """
    config = FeatureConfig.from_dict(config_data)
    cache = FeatureCache(root, config)
    rng = np.random.default_rng(int(key[:16], 16)) if config.crop == "random" else None
    try:
        clip = clip_for_file(audio, config=config, rng=rng)
        mel = log_mel(clip, config=config)
        if descriptors:  # written first: a cached mel implies cached descriptors
            cache.put(key, compute_descriptors(clip, sr=config.sample_rate), kind="descriptors")
        cache.put(key, mel, kind="mel")
    except MoodnetError as exc:
        return key, str(exc)
    except Exception as exc:
        return key, f"{audio}: unexpected {type(exc).__name__}: {exc}"
    return key, None
