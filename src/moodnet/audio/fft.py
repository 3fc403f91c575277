"""The real FFT of the prediction path, without ``import scipy.fft``'s cost.

``scipy.fft`` is pocketfft (about 2.4x faster than numpy's FFT on moodnet's frames), but
importing it pulls in ``scipy.special`` and scipy's array-API layer: 0.52 s of a cold
``moodnet predict`` on a 2-core AVX2 machine, about 0.19 s on a faster one. :func:`rfft` calls
the same compiled pocketfft function that ``scipy.fft.rfft`` calls, loaded from scipy's own
extension file; where that file is not where scipy 1.x keeps it, it falls back to
``scipy.fft.rfft``. Both give bit-identical spectra (``tests/test_features.py`` checks it).
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def rfft(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    """``scipy.fft.rfft(x, axis=axis)`` (no ``n``, no normalisation, one thread).

    Parameters
    ----------
    x : np.ndarray, real (float32 gives complex64)

    Returns
    -------
    spectrum : np.ndarray, complex, ``x.shape`` with ``axis`` of length ``n // 2 + 1``
    """
    x = np.asarray(x)
    if x.dtype == np.float16:  # as scipy.fft: half precision is computed in single
        x = x.astype(np.float32)
    elif x.dtype.kind != "f" or x.dtype.itemsize not in (4, 8):
        x = x.astype(np.float64)
    return _r2c()(x, (axis % x.ndim,), True, 0, None, 1)


@functools.cache
def _r2c() -> Callable[..., Any]:
    """pocketfft's ``r2c(a, axes, forward, inorm, out, nthreads)``."""
    extension = _pocketfft_extension()
    if extension is not None:
        return extension.r2c
    import scipy.fft

    return lambda x, axes, forward, inorm, out, nthreads: scipy.fft.rfft(x, axis=axes[0])


def _pocketfft_extension() -> Any | None:
    """scipy's compiled pocketfft module, loaded by file without scipy.fft's package."""
    spec = importlib.util.find_spec("scipy")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "fft" / "_pocketfft"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"pypocketfft{suffix}"
        if path.is_file():
            try:
                loader = importlib.machinery.ExtensionFileLoader("pypocketfft", str(path))
                module_spec = importlib.util.spec_from_file_location(
                    "pypocketfft", path, loader=loader)
                if module_spec is None:
                    return None
                module = importlib.util.module_from_spec(module_spec)
                loader.exec_module(module)
                return module if callable(getattr(module, "r2c", None)) else None
            except ImportError:
                return None
    return None
