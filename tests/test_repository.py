"""Checks on what the repository tracks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_TRACKED_BYTES = 2_000_000


def test_no_tracked_file_is_larger_than_2_mb():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    sizes = {name: (ROOT / name).stat().st_size for name in listed
             if name and (ROOT / name).is_file()}
    assert sizes, "git ls-files listed nothing"
    too_large = {name: size for name, size in sizes.items() if size > MAX_TRACKED_BYTES}
    assert not too_large, f"tracked files over {MAX_TRACKED_BYTES} bytes: {too_large}"
