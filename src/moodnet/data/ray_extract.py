"""``moodnet extract MANIFEST --engine ray``: the local extraction's work, as Ray tasks.

A Ray Data pipeline over the manifest's audio files: each CPU task hashes its files (the cache
key), skips those already cached and runs :func:`moodnet.data.extract.extract_one` on the others,
which writes the log-mel (and descriptors) into the cache exactly as the local run does. The
cache folder must be shared by every node (NFS, Lustre, a mounted bucket). The driver only
collects one small row per file into the same :class:`~moodnet.data.extract.ExtractReport` and
the cache's path -> hash memo; hashing, decoding and the features all run on the cluster.
Ray is imported only here, when the engine is chosen.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodnet.audio.features import FeatureConfig
from moodnet.data.cache import FeatureCache, content_hash, file_identity
from moodnet.data.extract import REPORT_NAME, ExtractReport, extract_one, write_report
from moodnet.errors import FileProblem
from moodnet.track import Track

DEFAULT_BATCH = 8
"""Files per task."""


def extract_on_ray(
    tracks: Sequence[Track],
    *,
    config: FeatureConfig,
    cache_dir: str | Path,
    descriptors: bool = True,
    address: str | None = None,
    num_cpus: int | None = None,
    progress: bool = True,
    batch_size: int = DEFAULT_BATCH,
) -> ExtractReport:
    """Compute and cache the features of every track's audio on a Ray cluster.

    Parameters
    ----------
    tracks : manifest entries; their ``audio`` paths must be readable on every node
    config : feature definition
    cache_dir : cache root on storage every node shares
    descriptors : also cache the classical descriptor vector of each clip
    address : a running Ray cluster; None starts a local instance (``num_cpus`` CPUs, default
        every core) for the duration of the run
    num_cpus : CPUs of the local instance
    progress : show a tqdm bar on stderr
    batch_size : files per task

    Returns
    -------
    report : ExtractReport as :func:`moodnet.data.extract.extract` gives it (``workers``: the
        cluster's CPUs), also written to ``<cache_dir>/<config.key()>/extract_report.json``

    Raises
    ------
    RayMissing
        Ray Data is not installed (``pip install 'moodnet[ray]'``).
    """
    from tqdm import tqdm

    from moodnet.ray_support import ray_session

    started = time.perf_counter()
    cache = FeatureCache(cache_dir, config)
    ids_of: dict[str, list[str]] = {}
    failed: dict[str, str] = {}
    for track in tracks:
        if track.audio is None:
            failed[track.id] = f"track {track.id}: no audio file in the manifest"
        else:
            ids_of.setdefault(track.audio, []).append(track.id)
    with ray_session(address=address, num_cpus=num_cpus) as cluster:
        report = ExtractReport(cache_dir=str(cache.dir), config_key=config.key(),
                               workers=cluster.cpus, failed=failed)
        if ids_of:
            dataset = _pipeline(list(ids_of), config=config, root=str(cache.root),
                                descriptors=descriptors, batch_size=batch_size)
            with tqdm(total=len(ids_of), disable=not progress, unit="file",
                      desc="extract") as bar:
                for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                    _record(batch, ids_of=ids_of, report=report, cache=cache)
                    bar.update(len(batch["audio"]))
    cache.save_memo()
    report.seconds = round(time.perf_counter() - started, 3)
    write_report(report, cache.dir / REPORT_NAME)
    return report


def _pipeline(audio: list[str], *, config: FeatureConfig, root: str, descriptors: bool,
              batch_size: int) -> Any:
    import ray.data

    data: Any = ray.data  # typed loosely: Ray's stubs are not this module's contract
    blocks = max(1, min(len(audio) // batch_size + 1, 10_000))
    dataset = data.from_items([{"audio": a} for a in audio], override_num_blocks=blocks)
    return dataset.map_batches(
        extract_batch, batch_size=batch_size, batch_format="numpy", num_cpus=1,
        fn_kwargs={"config_data": config.to_dict(), "root": root, "descriptors": descriptors},
    )


def extract_batch(
    batch: dict[str, np.ndarray], *, config_data: dict[str, Any], root: str, descriptors: bool,
) -> dict[str, np.ndarray]:
    """Ray task: hash, skip when cached, else extract (into the shared cache) every file.

    Parameters
    ----------
    batch : column ``audio`` (paths)
    config_data : ``FeatureConfig.to_dict()``
    root : the cache root
    descriptors : also cache descriptors

    Returns
    -------
    batch : ``audio``; ``status`` (``ok``, ``cached`` or ``failed``); ``message`` (the local
        run's failure message, else empty); ``key``, ``path``, ``size``, ``mtime_ns`` (the
        content hash and the memo's identity of the file; empty / 0 when it has none)
    """
    from moodnet.audio.io import silence_native_stderr

    silence_native_stderr()  # failures come back as values; decoder chatter is dropped
    cache = FeatureCache(root, FeatureConfig.from_dict(config_data))
    kinds = ("mel", "descriptors") if descriptors else ("mel",)
    columns: dict[str, list[Any]] = {name: [] for name in
                                     ("status", "message", "key", "path", "size", "mtime_ns")}
    for audio in batch["audio"]:
        status, message, key, path, size, mtime_ns = "failed", "", "", "", 0, 0
        try:
            resolved, size, mtime_ns = file_identity(str(audio))
            path, key = str(resolved), content_hash(resolved)
        except FileProblem as exc:
            message = str(exc)
        except Exception as exc:  # a batch must survive one unreadable file
            message = f"{audio}: unexpected {type(exc).__name__}: {exc}"
        if key and all(cache.path_for(key, kind=kind).is_file() for kind in kinds):
            status = "cached"
        elif key:
            _, error = extract_one(str(audio), key, config_data, root, descriptors)
            status, message = ("failed", error) if error is not None else ("ok", "")
        for name, value in zip(columns, (status, message, key, path, size, mtime_ns),
                               strict=True):
            columns[name].append(value)
    out = {name: _objects(values) for name, values in columns.items()
           if name not in ("size", "mtime_ns")}
    out["size"] = np.asarray(columns["size"], dtype=np.int64)
    out["mtime_ns"] = np.asarray(columns["mtime_ns"], dtype=np.int64)
    return {"audio": batch["audio"], **out}


def _objects(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _record(batch: dict[str, np.ndarray], *, ids_of: dict[str, list[str]],
            report: ExtractReport, cache: FeatureCache) -> None:
    """One task's rows into the report (every track id of a file) and the hash memo."""
    for audio, status, message, key, path, size, mtime_ns in zip(
        batch["audio"], batch["status"], batch["message"], batch["key"], batch["path"],
        batch["size"], batch["mtime_ns"], strict=True,
    ):
        ids = ids_of[str(audio)]
        if key:
            cache.remember(path, size=int(size), mtime_ns=int(mtime_ns), key=str(key))
            report.keys.update({track_id: str(key) for track_id in ids})
        if status == "ok":
            report.ok.extend(ids)
        elif status == "cached":
            report.cached.extend(ids)
        else:
            report.failed.update({track_id: str(message) for track_id in ids})
