"""Training loop, checkpoints and the manifest glue, end to end on generated data."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch

from moodnet.cli import main
from moodnet.core import QUADRANTS
from moodnet.data.extract import extract
from moodnet.data.manifest import by_split, read_manifest, write_manifest
from moodnet.errors import CheckpointError, ConfigError, DataError, ParameterError
from moodnet.evaluation.evaluate import evaluate_arrays
from moodnet.lyrics import STYLE_FEATURE_NAMES
from moodnet.models.arrays import ArrayData, minibatches
from moodnet.models.checkpoint import CHECKPOINT_JSON, WEIGHTS, load_checkpoint, save_checkpoint
from moodnet.track import Track
from moodnet.training import train
from moodnet.training.arrays import augment_mel, band_statistics
from moodnet.training.baselines import (
    DEFAULT_GRIDS,
    fit_classification_baseline,
    fit_regression_baseline,
    lyric_matrices,
)
from moodnet.training.config import AugmentConfig, TrainConfig, load_train_config
from moodnet.training.data import arrays_for_checkpoint, load_dataset, with_labels
from moodnet.training.loop import DataInfo, train_arrays
from moodnet.training.losses import Criterion, balanced_class_weights
from synthetic_arrays import mel_with_mood

DEBUG = "debug"  # the packaged config, found by name
POSITIVE = ["sun", "smile", "dance", "love", "shine", "bright"]
NEGATIVE = ["rain", "cry", "alone", "dark", "cold", "tears"]


def synthetic(n: int, *, seed: int, n_mels: int = 16, frames: int = 160) -> ArrayData:
    """Arousal drives high-band energy, valence low-band pulses and the lyrics' words."""
    rng = np.random.default_rng(seed)
    va, mel = mel_with_mood(rng, n, n_mels=n_mels, frames=frames)
    tokens = np.zeros((n, 20), dtype=np.int64)
    for i in range(n):
        length = int(rng.integers(5, 21))
        words = 2 + rng.integers(0, 5, size=length) + (0 if va[i, 0] > 0 else 5)
        tokens[i, :length] = np.where(
            rng.random(length) < 0.6, words, rng.integers(12, 30, size=length)
        )
    has = rng.random(n) < 0.8
    tokens[~has] = 0
    quadrant = (va[:, 0] <= 0).astype(np.int64) + 2 * (va[:, 1] <= 0).astype(np.int64)
    return ArrayData(mel=mel, tokens=tokens, has_lyrics=has, va=va, classes=quadrant)


PAPER = "{name: paper_audio, crop_frames: 128, channels: [8, 8], hidden: 16}"
LYRICS_CNN = "{name: lyrics_cnn, hidden: 8}"
SMALL_MODELS = {
    "paper_audio": PAPER,
    "short_chunk": "{name: short_chunk, chunk_frames: 32, channels: [4, 8], hidden: 16}",
    "lyrics_cnn": LYRICS_CNN,
    "lyrics_bag": "{name: lyrics_bag, hidden: 8}",
    "mid_fusion": f"{{name: mid_fusion, hidden: 16, audio: {PAPER}, lyrics: {LYRICS_CNN}}}",
    "late_fusion": f"{{name: late_fusion, audio: {PAPER}, lyrics: {LYRICS_CNN}}}",
}
"""The small model of each architecture (the debug config's sizes) as a --set value."""


def config_for(name: str, **overrides: object) -> TrainConfig:
    sets = [f"model={SMALL_MODELS[name]}", "max_epochs=6", "patience=3"]
    sets += [f"{k}={v}" for k, v in overrides.items()]
    return load_train_config(DEBUG, overrides=sets)


def only(data: ArrayData, target: str) -> ArrayData:
    return replace(data, classes=None) if target == "va" else replace(data, va=None)


QUADRANT_INFO = DataInfo(class_names=QUADRANTS)


# -- the loop on arrays -----------------------------------------------------------------------


def test_paper_audio_learns_and_writes_a_run_directory(tmp_path: Path) -> None:
    train_data, val = only(synthetic(120, seed=0), "va"), only(synthetic(40, seed=1), "va")
    config = config_for("paper_audio", max_epochs=12, patience=12)
    result = train_arrays(config, train_data, val, run_dir=tmp_path / "run")
    assert result.checkpoint.metrics["validation"]["val_r2"] > 0.5
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {
        CHECKPOINT_JSON,
        WEIGHTS,
        "metrics.csv",
    }
    with (tmp_path / "run" / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 13))
    assert {"train_loss", "val_loss", "val_r2_valence", "val_r2_arousal", "lr"} <= set(rows[0])
    saved = json.loads((tmp_path / "run" / CHECKPOINT_JSON).read_text())
    assert saved["best_epoch"] == result.checkpoint.best_epoch
    assert saved["model"]["n_mels"] == 16 and saved["model"]["task"] == "va"
    assert saved["train_config"]["model"]["name"] == "paper_audio"


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("paper_audio", "va"),
        ("short_chunk", "both"),
        ("lyrics_bag", "classes"),
        ("lyrics_cnn", "va"),
        ("mid_fusion", "both"),
        ("late_fusion", "classes"),
    ],
)
def test_checkpoint_round_trip_gives_identical_predictions(
    tmp_path: Path, name: str, target: str
) -> None:
    data = synthetic(40, seed=0)
    train_data, val = (data, data) if target == "both" else (only(data, target), only(data, target))
    result = train_arrays(config_for(name, max_epochs=2), train_data, val, info=QUADRANT_INFO)
    save_checkpoint(result.checkpoint, tmp_path)
    loaded = load_checkpoint(tmp_path, device="cpu")
    probe = synthetic(7, seed=5)
    first = result.checkpoint.predict_arrays(probe.mel, probe.tokens, probe.has_lyrics)
    second = loaded.predict_arrays(probe.mel, probe.tokens, probe.has_lyrics)
    assert (first.va is None) == (target == "classes")
    assert (first.class_probs is None) == (target == "va")
    for a, b in ((first.va, second.va), (first.class_probs, second.class_probs)):
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    if first.class_probs is not None:
        np.testing.assert_allclose(first.class_probs.sum(axis=1), 1.0, atol=1e-5)
        assert second.class_names == ("Q1", "Q2", "Q3", "Q4")
    assert loaded.model_config == result.checkpoint.model_config


def test_best_epoch_is_restored_and_training_stops_after_patience() -> None:
    rng = np.random.default_rng(0)
    noise = synthetic(24, seed=0)
    noise = replace(noise, va=rng.uniform(-1, 1, size=(24, 2)).astype(np.float32), classes=None)
    val = replace(synthetic(24, seed=1), classes=None)
    config = config_for(
        "paper_audio", max_epochs=40, patience=4, **{"optim.lr": 0.03, "optim.scheduler": "none"}
    )
    result = train_arrays(config, noise, val)
    history, best = result.history, result.checkpoint.best_epoch
    assert best is not None and best < len(history) < 40
    assert len(history) == best + 4
    val_losses = [row["val_loss"] for row in history]
    assert val_losses[best - 1] == min(val_losses)
    restored = result.checkpoint.predict_arrays(val.mel).va
    assert restored is not None
    # the loss criterion: MSE of residuals over the train standard deviation
    scale = noise.va.std(axis=0)  # type: ignore[union-attr]
    loss = float(np.mean(((restored - val.va) / scale) ** 2))
    assert loss == pytest.approx(val_losses[best - 1], rel=1e-4)
    assert loss < val_losses[-1]


def test_training_is_seeded() -> None:
    data = only(synthetic(30, seed=0), "va")
    runs = [
        train_arrays(config_for("short_chunk", max_epochs=2, seed=s), data, data) for s in (1, 1, 2)
    ]
    states = [r.checkpoint.model.state_dict() for r in runs]
    for key in states[0]:
        torch.testing.assert_close(states[0][key], states[1][key])
    assert any(
        not torch.equal(states[0][k], states[2][k])
        for k in states[0]
        if states[0][k].is_floating_point()
    )


def test_normalisation_and_target_scaling_come_from_train_only() -> None:
    train_data, val = only(synthetic(30, seed=0), "va"), only(synthetic(20, seed=1), "va")
    val = replace(val, mel=val.mel + 100.0, va=val.va * 0.1)  # type: ignore[operator]
    checkpoint = train_arrays(config_for("paper_audio", max_epochs=1), train_data, val).checkpoint
    assert train_data.mel is not None and train_data.va is not None
    np.testing.assert_allclose(checkpoint.mel_mean, train_data.mel.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(checkpoint.mel_std, train_data.mel.std(axis=(0, 2)), rtol=1e-4)
    np.testing.assert_allclose(checkpoint.va_mean, train_data.va.mean(axis=0), rtol=1e-5)


def test_models_with_lyrics_predict_from_audio_or_flags_alone() -> None:
    data = only(synthetic(30, seed=0), "va")
    fusion = train_arrays(config_for("mid_fusion", max_epochs=1), data, data).checkpoint
    assert fusion.predict_arrays(data.mel[:3]).va.shape == (3, 2)  # type: ignore[index, union-attr]
    lyrics = train_arrays(config_for("lyrics_cnn", max_epochs=1), data, data).checkpoint
    out = lyrics.predict_arrays(None, has_lyrics=np.zeros(2, dtype=bool)).va
    assert out is not None and np.allclose(out[0], out[1])
    with pytest.raises(ParameterError, match="needs log-mel"):
        fusion.predict_arrays(None, data.tokens)
    with pytest.raises(ParameterError, match="shape"):
        fusion.predict_arrays(np.zeros((2, 5, 100), dtype=np.float32))
    with pytest.raises(ParameterError, match="ids outside"):
        fusion.predict_arrays(data.mel[:1], np.full((1, 4), 10_000))  # type: ignore[index]


def test_load_checkpoint_reports_broken_directories(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(tmp_path)
    data = only(synthetic(20, seed=0), "va")
    save_checkpoint(
        train_arrays(config_for("lyrics_bag", max_epochs=1), data, data).checkpoint, tmp_path
    )
    meta = json.loads((tmp_path / CHECKPOINT_JSON).read_text())
    (tmp_path / CHECKPOINT_JSON).write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(tmp_path)
    meta["model"]["hidden"] = 3
    (tmp_path / CHECKPOINT_JSON).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not load"):
        load_checkpoint(tmp_path)
    (tmp_path / WEIGHTS).unlink()
    with pytest.raises(CheckpointError, match="missing weights"):
        load_checkpoint(tmp_path)


def test_losses_weights_batches_and_augmentation() -> None:
    np.testing.assert_allclose(
        balanced_class_weights(np.array([0, 0, 0, 1]), n_classes=3), [4 / 9, 4 / 3, 1.0]
    )
    criterion = Criterion(va_scale=torch.tensor([2.0, 1.0]))
    loss = criterion({"va": torch.tensor([[2.0, 1.0]])}, {"va": torch.zeros(1, 2)})
    assert float(loss) == pytest.approx((1 + 1) / 2)
    batches = list(minibatches(9, batch_size=4))
    assert [len(b) for b in batches] == [4, 5]  # a last batch of one is merged
    shuffled = np.concatenate(list(minibatches(9, batch_size=4, rng=np.random.default_rng(0))))
    assert sorted(shuffled) == list(range(9))
    mel = torch.zeros(3, 8, 50)
    masked = augment_mel(
        mel,
        config=AugmentConfig(freq_masks=1, freq_mask_bands=3, time_masks=1, time_mask_frames=10),
        fill=torch.full((8,), 7.0),
        generator=torch.Generator().manual_seed(0),
    )
    assert set(masked.unique().tolist()) <= {0.0, 7.0} and torch.all(mel == 0)
    gained = augment_mel(mel, config=AugmentConfig(gain=0.5), fill=torch.zeros(8))
    assert torch.all(gained.abs() <= 0.5) and torch.all(gained == gained[:, :1, :1])
    stack = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    mean, std = band_statistics(stack, chunk=1)
    np.testing.assert_allclose(mean, [7.5, 11.5, 15.5])
    np.testing.assert_allclose(std, stack.std(axis=(0, 2)), rtol=1e-6)


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="monitor"):
        load_train_config(DEBUG, overrides=["monitor=auc"])
    with pytest.raises(ConfigError, match="multitask"):
        load_train_config(DEBUG, overrides=["data.multitask=true"])
    data = only(synthetic(10, seed=0), "va")
    with pytest.raises(ConfigError, match="accuracy"):
        train_arrays(config_for("paper_audio", monitor="accuracy"), data, data)
    with pytest.raises(DataError, match="no targets"):
        train_arrays(config_for("paper_audio"), replace(data, va=None), data)


def lexicon_file(folder: Path) -> Path:
    """A made-up Warriner-format lexicon of the corpus words."""
    rows = ["Word,V.Mean.Sum,A.Mean.Sum"]
    rows += [f"{w},7.5,6.0" for w in POSITIVE] + [f"{w},2.5,3.0" for w in NEGATIVE]
    path = folder / "Ratings_Warriner_et_al.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_classical_baselines_choose_regularisation_on_validation(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 5))
    y = np.stack([x[:, 0] + 0.1 * rng.normal(size=120), -x[:, 1]], axis=1)
    for kind in ("svr", "ridge"):
        fit = fit_regression_baseline(x[:80], y[:80], x[80:100], y[80:100], kind=kind)
        assert len(fit.models) == 2 and min(fit.val_scores) > 0.8
        assert fit.predict(x[100:]).shape == (20, 2)
        assert all(p in DEFAULT_GRIDS[kind] for p in fit.params)
    classes = (x[:, 2] > 0).astype(int)
    svc = fit_classification_baseline(x[:80], classes[:80], x[80:100], classes[80:100])
    assert np.mean(svc.predict(x[100:]) == classes[100:]) > 0.8
    with pytest.raises(ParameterError, match="rows"):
        fit_regression_baseline(x[:80], y[:70], x[80:], y[80:])
    tracks = [
        Track(id="a", lyrics_text="sun smile dance\nsun love"),
        Track(id="b", lyrics_text="rain cry alone\ndark tears"),
        Track(id="c"),
    ]
    matrices = lyric_matrices(
        {"train": tracks, "test": tracks[:1]}, lexicon_dir=lexicon_file(tmp_path), min_df=1
    )
    train_rows = matrices["train"].toarray()
    assert train_rows.shape[0] == 3 and matrices["test"].shape[1] == train_rows.shape[1]
    valence_mean = train_rows[:, len(STYLE_FEATURE_NAMES)]  # lex_valence_mean
    np.testing.assert_allclose(valence_mean, [0.625, -0.625, 0.0])


# -- manifests, the real feature path and the CLI ---------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """24 generated 3 s clips with made-up lyrics, a manifest with splits and a feature cache."""
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    config = load_train_config(DEBUG)
    sr = config.features.sample_rate
    t = np.arange(3 * sr) / sr
    tracks = []
    for i in range(24):
        valence, arousal = rng.uniform(-0.9, 0.9, size=2)
        tone = np.sin(2 * np.pi * (300 + 200 * valence) * t)
        noise = rng.normal(size=t.size) * (0.2 + 0.2 * arousal)
        audio = root / f"clip{i:02d}.wav"
        sf.write(audio, (0.3 * tone + noise * 0.5).astype(np.float32) * (0.6 + 0.3 * arousal), sr)
        lyrics = None
        if i % 5:
            words = rng.choice(POSITIVE if valence > 0 else NEGATIVE, size=12).tolist()
            lyrics = root / f"clip{i:02d}.txt"
            lyrics.write_text("\n".join(" ".join(words[j : j + 4]) for j in range(0, 12, 4)))
        split = "train" if i < 14 else "validation" if i < 19 else "test"
        tracks.append(
            Track(
                id=f"c{i:02d}",
                dataset="synthetic",
                artist=f"artist{i}",
                audio=str(audio),
                lyrics=str(lyrics) if lyrics else None,
                valence=float(valence),
                arousal=float(arousal),
                label="lively" if arousal > 0 else "calm",
                split=split,
            )
        )
    manifest = write_manifest(tracks, root / "manifest.jsonl")
    report = extract(
        tracks,
        config=config.features,
        cache_dir=root / "cache",
        workers=1,
        progress=False,
    )
    assert not report.failed
    return manifest, root / "cache"


def test_cli_trains_and_evaluates_the_debug_config(
    corpus: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest, cache = corpus
    run = tmp_path / "run"
    sets = ["--set", f"data.manifest={manifest}", "--set", f"data.cache_dir={cache}"]
    threads = torch.get_num_threads()
    assert main(["train", str(DEBUG), *sets, "--set", "num_threads=3", "--out", str(run)]) == 0
    assert torch.get_num_threads() == threads  # the config's num_threads held while training only
    assert "best epoch" in capsys.readouterr().out
    saved = json.loads((run / CHECKPOINT_JSON).read_text())
    assert saved["features"]["n_mels"] == 16 and saved["best_epoch"] >= 1
    assert saved["metrics"]["test"]["n"] == 5
    assert main(["evaluate", str(run), "--n-boot", "50"]) == 0
    out = capsys.readouterr().out
    assert "valence" in out and "chance" in out
    assert json.loads((run / "eval_test.json").read_text())["n"] == 5


def test_glue_fits_labels_on_train_and_keeps_tracks_without_lyrics(
    corpus: tuple[Path, Path],
) -> None:
    manifest, cache = corpus
    config = load_train_config(
        DEBUG, overrides=[f"data.manifest={manifest}", f"data.cache_dir={cache}"]
    )
    dataset = load_dataset(config)
    assert dataset.arrays["train"].mel.shape == (14, 16, 188)  # type: ignore[union-attr]
    assert dataset.vocabulary is not None and "sun" in dataset.vocabulary
    assert not dataset.arrays["train"].has_lyrics.all()  # type: ignore[union-attr]
    labelled = with_labels(dataset, config, labels="given")
    assert labelled.info.class_names == ("calm", "lively")
    quadrants = with_labels(dataset, config, labels="quadrant")
    assert quadrants.test is not None and quadrants.test.classes is not None
    with pytest.raises(ParameterError):
        with_labels(dataset, config, labels="kmeans64")  # more clusters than train points


def test_mid_fusion_multitask_trains_from_the_manifest(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    manifest, cache = corpus
    config = load_train_config(
        DEBUG,
        overrides=[
            f"data.manifest={manifest}",
            f"data.cache_dir={cache}",
            f"model={SMALL_MODELS['mid_fusion']}",
            "data.labels=given",
            "data.multitask=true",
            "model.modality_dropout=0.5",
            "model.audio.crop_frames=160",
        ],
    )
    result = train(config, out_dir=tmp_path)
    checkpoint = load_checkpoint(tmp_path)
    assert (
        checkpoint.class_names == ("calm", "lively") and checkpoint.model_config.task == "multitask"
    )
    assert checkpoint.vocabulary() is not None and checkpoint.max_tokens == 20
    test = result.checkpoint.metrics["test"]
    assert test["regression"] is not None and test["classification"]["n"] == 5
    # the evaluation path rebuilds inputs and targets from the checkpoint alone
    tracks = by_split(read_manifest(manifest), "test")
    again = evaluate_arrays(checkpoint, arrays_for_checkpoint(checkpoint, tracks, cache_dir=cache))
    assert again.to_json() == {**test, "name": "test"}


def test_table_command_writes_every_output(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    manifest, cache = corpus
    out = tmp_path / "table"
    code = main(
        [
            "table",
            "--manifest",
            str(manifest),
            "--cache",
            str(cache),
            "--out",
            str(out),
            "--config",
            str(DEBUG),
            "--schemes",
            "va",
            "given",
            "kmeans64",
            "--modalities",
            *("audio", "lyrics", "bimodal", "late", "svm_audio", "svm_lyrics"),
            "--set",
            f"data.lexicon_dir={lexicon_file(tmp_path)}",
            "--n-boot",
            "30",
            "--runs",
            str(tmp_path / "runs"),
        ]
    )
    assert code == 0
    markdown = (out / "table.md").read_text()
    assert "| Arousal (R²) |" in markdown and "| given (accuracy) |" in markdown
    assert "kmeans64" in markdown and "late train" in markdown
    rows = list(csv.DictReader((out / "table.csv").open()))
    cells = {(r["scheme"], r["modality"], r["split"], r["metric"]) for r in rows}
    assert ("va", "late", "test", "valence_r2") in cells and (
        "given",
        "bimodal",
        "train",
        "accuracy",
    ) in cells
    assert ("va", "svm_lyrics", "test", "arousal_r2") in cells
    assert ("given", "svm_audio", "test", "accuracy") in cells
    assert (out / "va_scatter.png").stat().st_size > 1000
    assert load_checkpoint(tmp_path / "runs" / "given_bimodal").class_names == ("calm", "lively")
    meta = json.loads((out / "results.json").read_text())["meta"]
    assert meta["n_tracks"]["test"] == 5
    # the results say what made them: the command, the source commit, the seed
    assert meta["command"].startswith("moodnet table --manifest ") and meta["seed"] == 0
    assert meta["commit"] and f"`{meta['command']}` (commit {meta['commit']}" in markdown


def test_a_lyrics_only_table_needs_no_cache_and_gives_the_same_cells(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    from moodnet.experiments.table import compute_table

    manifest, cache = corpus

    def lyrics_cell(cache_dir: Path, modalities: tuple[str, ...]) -> dict[str, Any]:
        config = load_train_config(
            DEBUG, overrides=[f"data.manifest={manifest}", f"data.cache_dir={cache_dir}"]
        )
        table = compute_table(config, schemes=["va"], modalities=modalities, n_boot=20)
        [cell] = [c for c in table.to_json()["cells"] if c["modality"] == "lyrics"]
        return {key: value for key, value in cell.items() if key != "seconds"}

    alone = lyrics_cell(tmp_path / "never_extracted", ("lyrics",))
    assert not (tmp_path / "never_extracted").exists()
    assert alone == lyrics_cell(cache, ("audio", "lyrics"))
    assert alone["evaluations"]["test"]["regression"] is not None


def test_training_killed_half_way_then_rerun_equals_an_uninterrupted_run(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    """SIGKILL of ``moodnet train`` in the middle of its epochs leaves no half-written
    checkpoint; the rerun into the same folder gives exactly the uninterrupted run's weights
    (seeded, one thread)."""
    import contextlib
    import os
    import re
    import signal
    import subprocess
    import sys

    manifest, cache = corpus
    sets = ["--set", f"data.manifest={manifest}", "--set", f"data.cache_dir={cache}",
            "--set", "max_epochs=150", "--set", "patience=150", "--set", "num_threads=1",
            "--set", "progress=true"]

    def command(out: Path) -> list[str]:
        return [sys.executable, "-m", "moodnet", "train", DEBUG, *sets, "--out", str(out)]

    whole = tmp_path / "whole"
    subprocess.run(command(whole), check=True, capture_output=True)
    killed = tmp_path / "killed"
    process = subprocess.Popen(command(killed), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    assert process.stderr is not None
    seen = b""
    while process.poll() is None:  # the progress bar counts epochs on stderr
        seen += os.read(process.stderr.fileno(), 256)
        epochs = [int(n) for n in re.findall(rb"epochs:\s+\d+%\|[^|]*\|\s*(\d+)/150", seen)]
        if epochs and max(epochs) >= 10:
            break
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert epochs and 10 <= max(epochs) < 150, "the kill did not land among the epochs"
    assert not (killed / CHECKPOINT_JSON).exists() and not (killed / WEIGHTS).exists()
    subprocess.run(command(killed), check=True, capture_output=True)
    from safetensors.numpy import load_file

    ours, theirs = load_file(str(killed / WEIGHTS)), load_file(str(whole / WEIGHTS))
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(ours[k], theirs[k]) for k in ours)


def test_a_replica_ends_with_its_code_and_its_output_flushed() -> None:
    script = ("import sys; from moodnet.training.distributed import end_replica; "
              "print('saved', end=''); sys.stderr.write('note'); end_replica(3)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (3, "saved", "note")
