"""A folder prediction killed with SIGKILL half-way resumes to the rows of an uninterrupted run,
and leaves no worker process behind."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from predict_helpers import calm, loud

N_CLIPS = 24


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("library")
    rng = np.random.default_rng(0)
    for i in range(N_CLIPS):
        sf.write(root / f"clip_{i:02d}.wav", (calm if i % 2 else loud)(8.0, rng), 16000)
    return root


def _predict(folder: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "moodnet", "predict", str(folder), "--format", "csv",
         "--output", str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _rows(path: Path) -> dict[str, tuple[str, str, str]]:
    with path.open(newline="") as handle:
        return {Path(r["path"]).name: (r["valence"], r["arousal"], r["quadrant"])
                for r in csv.DictReader(handle)}


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and (int(fields[1]) == pid or int(fields[3]) == pid):
                out.append(int(entry.name))  # a live child or member of its process group
    return out


def test_sigkill_then_resume_equals_an_uninterrupted_run(folder: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole.csv"
    assert _predict(folder, whole).wait(timeout=300) == 0
    resumed = tmp_path / "resumed.csv"
    first = _predict(folder, resumed)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if resumed.exists() and resumed.read_text().count("\n") >= 4:
            break
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGKILL)  # the main process only: its workers must follow
    first.wait(timeout=30)
    written = resumed.read_text().count("\n") - 1
    assert 0 < written < N_CLIPS, "the kill came too late to test a resume"
    for _ in range(50):
        if not _children_of(first.pid):
            break
        time.sleep(0.1)
    assert _children_of(first.pid) == []
    assert _predict(folder, resumed).wait(timeout=300) == 0
    assert _rows(resumed) == _rows(whole)
    assert len(resumed.read_text().splitlines()) == N_CLIPS + 1  # no duplicated rows
