"""Benchmark: decoding, decode+resample+log-mel against librosa, and extraction throughput.

Usage::

    python bench/bench_features.py [AUDIO_DIR] [--n 40] [--workers 1 2]

``AUDIO_DIR`` defaults to ``$MOODNET_DATA/mirex_multimodal/audio``. Prints clips/s for each
decoder per format found, for the moodnet pipeline (PyAV/soundfile + soxr HQ + scipy log-mel)
against ``librosa.load`` + ``librosa.feature.melspectrogram`` (same STFT/mel parameters), and
for :func:`moodnet.data.extract.extract` with 1 and 2 worker processes (fresh caches).
Single-process timings run with one BLAS thread. Each rate is given on wall time and on CPU
time (this process plus its finished children): on a shared machine the wall rates drop with
other load, CPU rates much less. Compare numbers within one run.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from moodnet.audio.features import FeatureConfig, crop_or_pad, log_mel
from moodnet.audio.io import _decode_pyav, _decode_soundfile, _Request, load_audio
from moodnet.data.extract import extract
from moodnet.io_utils import default_data_root
from moodnet.track import Track

AUDIO_SUFFIXES = {".mp3", ".wav", ".flac", ".ogg", ".opus", ".m4a"}


def cpu_seconds() -> float:
    """CPU seconds of this process and of its terminated, reaped children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def clips_per_second(files: Sequence[Path], work: Callable[[Path], object]) -> tuple[float, float]:
    """(clips per wall second, clips per CPU second) after one warm-up call."""
    work(files[0])  # warm-up: imports, filterbank, decoder libraries
    wall, cpu = time.perf_counter(), cpu_seconds()
    for path in files:
        work(path)
    return len(files) / (time.perf_counter() - wall), len(files) / (cpu_seconds() - cpu)


def rates(pair: tuple[float, float]) -> str:
    return f"{pair[0]:6.1f} wall /{pair[1]:6.1f} cpu"


def _native(path: Path) -> _Request:
    """A request for the whole file, downmixed, at its own rate (the decoder alone)."""
    return _Request(path, 0.0, None, None, True)


def bench_decoders(files: Sequence[Path]) -> None:
    print("decode only (1 process), clips/s")
    for suffix in sorted({p.suffix.lower() for p in files}):
        group = [p for p in files if p.suffix.lower() == suffix]
        pyav = clips_per_second(group, lambda p: _decode_pyav(_native(p)))
        libsndfile = clips_per_second(group, lambda p: _decode_soundfile(_native(p)))
        print(
            f"  {suffix:6s} n={len(group):3d}  PyAV {rates(pyav)}   soundfile {rates(libsndfile)}"
        )


def bench_pipeline(files: Sequence[Path], config: FeatureConfig) -> None:
    import librosa

    def ours(path: Path) -> np.ndarray:
        y = crop_or_pad(load_audio(path, sr=config.sample_rate), n_samples=config.n_samples)
        return log_mel(y, config=config)

    def baseline(path: Path) -> np.ndarray:
        y, _ = librosa.load(path, sr=config.sample_rate, mono=True)
        y = crop_or_pad(y, n_samples=config.n_samples)
        mel = librosa.feature.melspectrogram(
            y=y,
            sr=config.sample_rate,
            n_fft=config.n_fft,
            hop_length=config.hop_length,
            n_mels=config.n_mels,
        )
        return np.log10(1 + config.log_gain * mel)

    print(f"decode + resample + log-mel ({config.n_mels} mels), 1 process, clips/s")
    fast = clips_per_second(files, ours)
    slow = clips_per_second(files, baseline)
    print(
        f"  moodnet {rates(fast)}   librosa {rates(slow)}   "
        f"ratio {fast[0] / slow[0]:4.2f}x wall, {fast[1] / slow[1]:4.2f}x cpu"
    )


def bench_extract(files: Sequence[Path], config: FeatureConfig, workers: Sequence[int]) -> None:
    tracks = [Track(id=p.stem, audio=str(p)) for p in files]
    print("extract() into a fresh cache (process start included), clips/s")
    for descriptors in (False, True):
        line = []
        for count in workers:
            with tempfile.TemporaryDirectory() as cache_dir:
                wall, cpu = time.perf_counter(), cpu_seconds()
                report = extract(
                    tracks,
                    config=config,
                    cache_dir=cache_dir,
                    workers=count,
                    progress=False,
                    descriptors=descriptors,
                )
                wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            if report.failed:
                print(f"  failures: {report.failed}")
            n = len(report.ok)
            line.append(f"{count} worker(s) {n / wall:6.1f} wall /{n / cpu:6.1f} cpu")
        label = "mel + descriptors" if descriptors else "mel only         "
        print(f"  {label}  " + "   ".join(line))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio_dir", nargs="?", type=Path, help="folder of audio clips")
    parser.add_argument("--n", type=int, default=40, help="number of clips (default 40)")
    parser.add_argument("--n-mels", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    folder = args.audio_dir
    if folder is None:
        root = default_data_root()
        if root is None:
            parser.error("give AUDIO_DIR or set MOODNET_DATA")
        folder = root / "mirex_multimodal" / "audio"
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)[: args.n]
    if not files:
        parser.error(f"no audio files in {folder}")
    print(f"{len(files)} clips from {folder}; {len(os.sched_getaffinity(0))} cores")
    config = FeatureConfig(n_mels=args.n_mels)
    with threadpool_limits(limits=1):  # one BLAS thread, as in one worker process
        bench_decoders(files)
        bench_pipeline(files, config)
    bench_extract(files, config, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
