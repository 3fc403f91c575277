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
