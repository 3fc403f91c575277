"""Data-parallel training under torchrun: 2 CPU processes (gloo) train one model.

Marked ``distributed`` (left out of the default run; CI runs ``python -m pytest -m
distributed``).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.distributed

WORKER = Path(__file__).with_name("ddp_worker.py")


def torchrun(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         *arguments], capture_output=True, text=True, timeout=400, cwd=cwd, env=env)


def test_two_replicas_keep_identical_weights_see_disjoint_shares_and_learn(tmp_path: Path,
                                                                           ) -> None:
    done = torchrun(str(WORKER), str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    weights = [np.load(tmp_path / f"weights{r}.npz") for r in (0, 1)]
    assert weights[0].files == weights[1].files and len(weights[0].files) > 4
    for name in weights[0].files:  # gradients averaged every step, buffers from rank 0
        assert np.array_equal(weights[0][name], weights[1][name]), name
    same = [[{k: v for k, v in row.items() if k != "seconds"} for row in rank["history"]]
            for rank in ranks]
    assert same[0] == same[1]  # the same validation, the same stops
    history = ranks[0]["history"]
    assert len(history) == 6
    assert history[-1]["train_loss"] < 0.8 * history[0]["train_loss"]
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    for epoch in range(6):  # each rank its half of the epoch's permutation
        mine, theirs = (set(rank["seen"][epoch]) for rank in ranks)
        assert not mine & theirs and mine | theirs == set(range(40))
    assert ranks[0]["seen"][0] != ranks[0]["seen"][1]  # reshuffled every epoch
    # the frozen-backbone pass: each rank embeds its share once, every rank gets them all
    assert [rank["embedded"] for rank in ranks] == [[7], [6]]
    assert all(rank["embeddings_equal"] for rank in ranks)
    assert (tmp_path / "run0" / "checkpoint.json").is_file()
    assert (tmp_path / "run0" / "metrics.csv").is_file()
    assert not (tmp_path / "run1").exists()  # rank 1 writes nothing


@pytest.fixture()
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    """24 generated 3 s clips (8 kHz), a manifest with 16/4/4 splits, the debug features."""
    from moodnet.data.extract import extract
    from moodnet.data.manifest import write_manifest
    from moodnet.track import Track
    from moodnet.training.config import load_train_config

    features = load_train_config("debug").features
    sr = features.sample_rate
    rng = np.random.default_rng(0)
    t = np.arange(3 * sr) / sr
    tracks = []
    for i in range(24):
        valence, arousal = rng.uniform(-0.9, 0.9, size=2)
        y = 0.3 * np.sin(2 * np.pi * (300 + 200 * valence) * t)
        y += rng.normal(size=t.size) * (0.2 + 0.2 * arousal) * 0.5
        audio = tmp_path / f"clip{i:02d}.wav"
        sf.write(audio, (y * (0.6 + 0.3 * arousal)).astype(np.float32), sr)
        split = "train" if i < 16 else "validation" if i < 20 else "test"
        tracks.append(Track(id=f"c{i:02d}", artist=f"a{i}", audio=str(audio),
                            valence=float(valence), arousal=float(arousal), split=split))
    manifest = write_manifest(tracks, tmp_path / "manifest.jsonl")
    report = extract(tracks, config=features, cache_dir=tmp_path / "cache", workers=1,
                     progress=False)
    assert not report.failed
    return manifest, tmp_path / "cache"


def test_moodnet_train_under_torchrun_writes_one_run_directory(corpus: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    manifest, cache = corpus
    run = tmp_path / "run"
    done = torchrun("-m", "moodnet", "train", "debug", "--set", f"data.manifest={manifest}",
                    "--set", f"data.cache_dir={cache}", "--set", "max_epochs=3",
                    "--set", "patience=0", "--out", str(run), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("saved ") == 1 and "(2 processes)" in done.stdout
    saved = json.loads((run / "checkpoint.json").read_text())
    assert saved["metrics"]["test"]["n"] == 4 and saved["best_epoch"] >= 1
    with (run / "metrics.csv").open(newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["1", "2", "3"]
    from moodnet.predict import Predictor

    prediction = Predictor.load(run).predict(tmp_path / "clip00.wav")
    assert -1 <= prediction.valence <= 1 and prediction.quadrant in ("Q1", "Q2", "Q3", "Q4")
