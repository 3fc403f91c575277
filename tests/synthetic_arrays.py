"""Generated log-mel arrays whose mood is known, shared by the training tests and
``ddp_worker.py`` (which torchrun runs as a script from this folder)."""

from __future__ import annotations

import numpy as np


def mel_with_mood(rng: np.random.Generator, n: int, *, n_mels: int = 16,
                  frames: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """(va (n, 2), mel (n, n_mels, frames)), float32: arousal drives the high bands' energy,
    valence pulses in the low bands; draws from ``rng`` in that order."""
    va = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    mel = rng.normal(0, 1, size=(n, n_mels, frames)).astype(np.float32) + 3.0
    mel[:, n_mels // 2 :, :] += 2 * va[:, 1, None, None]
    mel[:, : n_mels // 2, ::4] += 1.5 * va[:, 0, None, None]
    return va, mel
