"""What every benchmark does with its result: write the Markdown report and show it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from moodnet.io_utils import atomic_write_text
from moodnet.version import source_commit


def write_report(lines: Sequence[str], out: Path) -> None:
    """Write ``lines`` as a Markdown file (atomically, parents created) and print them."""
    text = "\n".join(lines) + "\n"
    atomic_write_text(out, text)
    print(text)


def git_commit() -> str:
    """The short hash of the checked-out commit (``+changes`` when tracked files differ from
    it; ``unknown`` outside a git checkout)."""
    return source_commit()


def openblas_kernel() -> str:
    """The OpenBLAS kernel (architecture) numpy uses in this process, e.g. ``SkylakeX``."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl then inspects)
    from threadpoolctl import threadpool_info

    kernels = sorted({str(i.get("architecture")) for i in threadpool_info()
                      if i.get("internal_api") == "openblas"})
    return ",".join(kernels) or "none"


def cpu_description() -> str:
    """The CPU's model name and its widest vector extension of note, e.g. ``AMD EPYC (AVX2,
    no AVX-512)``, from ``/proc/cpuinfo`` (the platform's processor string elsewhere)."""
    import platform

    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                 if line.startswith("model name")), platform.machine())
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines()
                      if line.startswith("flags")), []))
    if "avx512f" in flags:
        vectors = "AVX-512" + (" with BF16" if "avx512_bf16" in flags else ", no BF16")
    else:
        vectors = ("AVX2" if "avx2" in flags else "no AVX2") + ", no AVX-512"
    return f"{name} ({vectors})"
