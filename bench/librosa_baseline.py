"""The classical baseline of the model issue: ~160 librosa descriptors per clip.

20 MFCCs, 7 spectral-contrast bands, 12 chroma bins, RMS, spectral flux (onset strength) and
40 log-mel bands, each as mean and standard deviation over frames, plus the tempo: 163 values
(librosa defaults, 22.05 kHz mono). Cached as one ``.npy`` per clip. A standardised logistic
regression over them is the "plain descriptor baseline" that the default model must beat.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

VERSION = 1


def librosa_descriptors(path: str) -> np.ndarray:
    """The 163 descriptors of one clip (float32)."""
    import librosa

    y, sr = librosa.load(path, sr=22050, mono=True)
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    contrast = librosa.feature.spectral_contrast(y=y, sr=sr)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr)
    rms = librosa.feature.rms(y=y)
    onset = librosa.onset.onset_strength(y=y, sr=sr)[np.newaxis]
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=40))
    tempo = np.atleast_1d(librosa.feature.tempo(onset_envelope=onset[0], sr=sr))[:1]
    blocks = [mfcc, contrast, chroma, rms, onset, mel]
    stats = [np.concatenate([b.mean(axis=1), b.std(axis=1)]) for b in blocks]
    return np.concatenate([*stats, tempo]).astype(np.float32)


def _job(job: tuple[str, str]) -> None:
    audio, target = job
    if Path(target).exists():
        return
    tmp = f"{target}.{os.getpid()}.tmp.npy"
    np.save(tmp, librosa_descriptors(audio))
    os.replace(tmp, target)


def cached_descriptors(
    items: list[tuple[str, str]], *, cache: Path, workers: int = 2
) -> dict[str, np.ndarray]:
    """(track id, audio path) pairs -> descriptors, computed once into ``cache``."""
    folder = cache / f"librosa-v{VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(audio, str(folder / f"{track_id}.npy")) for track_id, audio in items]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_job, jobs, chunksize=4))
    return {track_id: np.load(folder / f"{track_id}.npy") for track_id, _ in items}
