"""What every benchmark does with its result: write the Markdown report and show it."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from moodnet.io_utils import atomic_write_text


def write_report(lines: Sequence[str], out: Path) -> None:
    """Write ``lines`` as a Markdown file (atomically, parents created) and print them."""
    text = "\n".join(lines) + "\n"
    atomic_write_text(out, text)
    print(text)


def git_commit() -> str:
    """The short hash of the checked-out commit (``unknown`` outside a git checkout)."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
