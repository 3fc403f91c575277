"""The shared vocabulary of moodnet: every stage imports these, none redefines them.

- The VA scale: :data:`VA_RANGE` ([-1, 1] per dimension, ``docs/DESIGN.md``).
- Russell quadrants: :data:`QUADRANTS`, the rule (:func:`quadrant_ids`, :func:`quadrant_of`:
  Q1 = V>0,A>0; Q2 = V<=0,A>0; Q3 = V<=0,A<=0; Q4 = V>0,A<=0) and their mood words
  (:data:`QUADRANT_WORDS`, :func:`quadrant_caption`), used by the plots, the web page and the CLI.
- MIREX mood clusters: :data:`MIREX_CLUSTERS`.
- Audio files: :data:`AUDIO_EXTENSIONS`.
- Devices: :data:`DEFAULT_DEVICE`, :func:`resolve_device` and :func:`torch_threads`.
- Numerics: :func:`softmax`, :func:`json_safe`.
- Processes: :func:`worker_pool`, :func:`keep_heap_for_arrays`.

Importing this module does no work and does not import torch.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.errors import ParameterError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import torch

VA_RANGE: tuple[float, float] = (-1.0, 1.0)
"""Lowest and highest valence/arousal on the moodnet scale."""

HEAP_MMAP_THRESHOLD = 32 * 2**20
"""Bytes: blocks at least this large get their own mapping (:func:`keep_heap_for_arrays`)."""
HEAP_TRIM_THRESHOLD = 512 * 2**20
"""Bytes of free heap a moodnet process keeps for reuse (:func:`keep_heap_for_arrays`)."""

QUADRANTS: tuple[str, ...] = ("Q1", "Q2", "Q3", "Q4")
"""Russell quadrant names; class ids 0..3."""

QUADRANT_SIGNS: dict[str, str] = {
    "Q1": "V>0,A>0",
    "Q2": "V<=0,A>0",
    "Q3": "V<=0,A<=0",
    "Q4": "V>0,A<=0",
}
"""The quadrant rule in words (what :func:`quadrant_ids` computes)."""

QUADRANT_RULE = "; ".join(f"{name} = {signs}" for name, signs in QUADRANT_SIGNS.items())
"""``"Q1 = V>0,A>0; Q2 = V<=0,A>0; Q3 = V<=0,A<=0; Q4 = V>0,A<=0"``, for help texts."""

QUADRANT_WORDS: dict[str, tuple[str, str]] = {
    "Q1": ("happy", "excited"),
    "Q2": ("tense", "angry"),
    "Q3": ("sad", "tired"),
    "Q4": ("calm", "content"),
}
"""Two of Russell's (1980) affect words that name each quadrant."""

MIREX_CLUSTERS: tuple[str, ...] = tuple(f"cluster{n}" for n in range(1, 6))
"""The five MIREX mood clusters, as the MIREX-like dataset names them."""

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4", ".webm"}
    | {".aif", ".aiff", ".au", ".wma"}
)
"""File name endings (lower case) taken as audio by the adapters, the CLI and the service."""

DEFAULT_DEVICE = "auto"
"""``auto``: CUDA when present, else the CPU."""


def as_va(va: Any, *, name: str = "va") -> np.ndarray:
    """``va`` checked as ``np.ndarray [shape=(n, 2)], float64``, finite.

    Raises
    ------
    ParameterError
        Another shape, or NaN / inf values.
    """
    array = np.asarray(va, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ParameterError(f"{name} must have shape (n, 2), got {array.shape}")
    if not np.isfinite(array).all():
        raise ParameterError(f"{name} contains non-finite values")
    return array


def quadrant_ids(va: Any) -> np.ndarray:
    """Quadrant ids of VA points.

    Parameters
    ----------
    va : array-like [shape=(n, 2)], (valence, arousal), finite

    Returns
    -------
    ids : np.ndarray [shape=(n,)], int64, 0..3 for Q1..Q4 (Q1 = V>0,A>0; Q2 = V<=0,A>0;
        Q3 = V<=0,A<=0; Q4 = V>0,A<=0)
    """
    va = as_va(va)
    positive_v, high_a = va[:, 0] > 0, va[:, 1] > 0
    return np.where(high_a, np.where(positive_v, 0, 1), np.where(positive_v, 3, 2)).astype(np.int64)


def quadrant_of(valence: float, arousal: float) -> str:
    """Russell quadrant of a point: Q1 = V>0,A>0; Q2 = V<=0,A>0; Q3 = V<=0,A<=0; Q4 = V>0,A<=0."""
    return QUADRANTS[int(quadrant_ids([[valence, arousal]])[0])]


def quadrant_caption(quadrant: str) -> str:
    """``"Q1 happy / excited"``: the quadrant's name and mood words (plots, the web page)."""
    if quadrant not in QUADRANT_WORDS:
        raise ParameterError(f"quadrant {quadrant!r} is not one of {QUADRANTS}")
    return f"{quadrant} {' / '.join(QUADRANT_WORDS[quadrant])}"


def quadrants_in_words() -> str:
    """``"Q1 = V>0,A>0 (happy, excited); ..."``: the rule with the mood words (CLI help)."""
    return "; ".join(
        f"{name} = {QUADRANT_SIGNS[name]} ({', '.join(QUADRANT_WORDS[name])})" for name in QUADRANTS
    )


def resolve_device(name: str = DEFAULT_DEVICE) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cpu``/``cuda``/``cuda:N`` as given.

    Raises
    ------
    ParameterError
        An unknown name, or CUDA asked for where there is none.
    """
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise ParameterError(f"device {name!r}: expected auto, cpu or cuda")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(f"device {name!r}: CUDA is not available")
    return torch.device(name)


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively: on a CPU, oneDNN's own check (AVX-512 or
    AMX); on CUDA, torch's. Elsewhere bfloat16 is emulated: musicnn took 1.3-1.4 s per 3 s patch
    under bf16 autocast against 0.06-0.08 s in float32 on one core of an AVX2-only AMD EPYC."""
    import torch

    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return device.type == "cpu" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_bf16(device: torch.device, requested: bool) -> bool:
    """``requested`` where :func:`native_bf16` holds; where it does not, False, with a
    :class:`~moodnet.errors.PrecisionWarning` (float32 is then the faster choice)."""
    if not requested or native_bf16(device):
        return requested
    import warnings

    from moodnet.errors import PrecisionWarning

    warnings.warn(f"bfloat16 asked for, but {device} has no native bfloat16 (on a CPU: no "
                  "AVX-512 or AMX); running in float32, which is faster there",
                  PrecisionWarning, stacklevel=2)
    return False


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """torch's intra-op CPU threads set to ``count`` inside the block, restored after it.

    Parameters
    ----------
    count : threads; None or 0 leaves the setting alone (and does not import torch)
    """
    if not count:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def softmax(logits: np.ndarray, *, axis: int = -1) -> np.ndarray:
    """Probabilities from logits along ``axis``, computed in float64 (same shape)."""
    logits = np.asarray(logits, dtype=np.float64)
    exp = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)


def json_safe(value: Any) -> Any:
    """A JSON-safe copy: NaN/inf become None, numpy scalars and arrays Python numbers and lists,
    tuples lists and mapping keys strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# Russell's (1980) 28 affect words -> approximate angle in degrees on his circumplex,
# counter-clockwise from
# the positive valence axis.
RUSSELL_1980_ANGLES: dict[str, float] = {
    "happy": 8.0,
    "delighted": 25.0,
    "excited": 49.0,
    "astonished": 70.0,
    "aroused": 74.0,
    "tense": 93.0,
    "alarmed": 97.0,
    "angry": 99.0,
    "afraid": 116.0,
    "annoyed": 123.0,
    "distressed": 138.0,
    "frustrated": 141.0,
    "miserable": 189.0,
    "sad": 208.0,
    "gloomy": 209.0,
    "depressed": 211.0,
    "bored": 241.0,
    "droopy": 257.0,
    "tired": 268.0,
    "sleepy": 272.0,
    "calm": 316.0,
    "relaxed": 318.0,
    "satisfied": 320.0,
    "at ease": 321.0,
    "content": 323.0,
    "serene": 329.0,
    "glad": 345.0,
    "pleased": 353.0,
}
"""Angles read off Russell (1980), rounded (``moodnet.predict.moods`` places the words)."""


def keep_heap_for_arrays() -> bool:
    """Make glibc's malloc keep freed memory for the next track's arrays (Linux/glibc only).

    A track's spectrograms are arrays of a few MB; with glibc's defaults each one is a fresh
    ``mmap`` whose pages fault in again on every track, which makes the default model's
    analysis about 1.5x slower. This sets the mmap threshold to :data:`HEAP_MMAP_THRESHOLD`
    (larger blocks still get their own mapping) and the trim threshold to
    :data:`HEAP_TRIM_THRESHOLD` (the most free memory a process keeps), unless the user set
    ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_``. Returns whether it changed them.
    """
    if not sys.platform.startswith("linux"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except AttributeError:  # not glibc (musl has no mallopt)
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, HEAP_MMAP_THRESHOLD)
                and mallopt(m_trim_threshold, HEAP_TRIM_THRESHOLD))


def exit_with_parent(parent: int, *, poll_s: float = 0.5) -> None:
    """Make this (worker) process end when its parent ``parent`` (a pid) does, however it ends.

    On Linux the kernel sends SIGKILL at the parent's death (``PR_SET_PDEATHSIG``); a parent
    that died before that was set (a worker still starting up), and other systems, are
    caught by comparing ``os.getppid()`` with ``parent``: at once, then every ``poll_s``
    seconds in a daemon thread.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before this worker got here
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextmanager
def worker_pool(
    workers: int, *, initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (), inherit: bool = False,
) -> Iterator[ProcessPoolExecutor]:
    """``workers`` processes for moodnet's parallel jobs (extract, predict, training
    features): the one process pool of the package.

    Each worker is a fresh interpreter (nothing inherited: no threads, locks or torch state)
    or, with ``inherit`` on Linux while torch is not imported here, a fork of this process,
    which starts with this process's imports (about 0.4 s less per worker; the default
    model's numpy-only prediction). A worker ignores Ctrl-C (the main process handles it)
    and ends when this process does, however it ends (:func:`exit_with_parent`), then runs
    ``initializer(*initargs)``. Leaving the block normally waits for the submitted jobs;
    leaving it by an exception (Ctrl-C included) or by closing a generator suspended inside
    it terminates the workers at once, without running the queued jobs.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if inherit and can_fork() else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                               initargs=(os.getpid(), initializer, initargs))
    try:
        yield pool
    except BaseException:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def can_fork() -> bool:
    """Whether a worker may be a fork of this process: on Linux, before torch or ONNX Runtime
    is imported (their thread pools do not survive a fork)."""
    return sys.platform.startswith("linux") and not {"torch", "onnxruntime"} & set(sys.modules)


def _start_worker(
    parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...],
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_heap_for_arrays()
    exit_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)
