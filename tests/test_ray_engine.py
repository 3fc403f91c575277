"""``--engine ray`` for predict and extract: a real Ray Data pipeline on a local Ray instance
(2 CPUs) gives the local engine's rows and failures, resumes, and writes Parquet.

The Ray tests are marked ``distributed`` (left out of the default run; CI runs them after
installing the ``ray`` extra: ``python -m pytest -m distributed``). The test of the message
without Ray runs in the default suite.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audio_files import write_formats
from moodnet.cli import main
from moodnet.predict import Prediction, PredictionFailure, Predictor
from predict_helpers import HAPPY_LYRICS, write_corrupt

TOLERANCE = 1e-4
ROUNDING = 1e-9
"""Written rows are rounded to 4 digits: two values within 1e-4 round at most 1e-4 apart."""

ray_test = pytest.mark.distributed


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    """One local Ray instance (2 CPUs) for the module; shut down after it."""
    if os.environ.get("CI"):
        import ray  # CI installs the extra: a missing Ray is a failure there, not a skip
    else:
        ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four generated clips in four formats, one in a sub-folder, and a corrupt file."""
    root = tmp_path_factory.mktemp("library")
    write_formats(root, seconds=5.0)
    write_formats(root / "more", seconds=3.5, prefix="b_")
    write_corrupt(root / "broken.mp3")
    return root


def _audio(library: Path) -> list[str]:
    return sorted(str(p) for p in library.rglob("*") if p.is_file())


def _split(results: Iterator[Prediction | PredictionFailure],
           ) -> tuple[dict[str, Prediction], dict[str, str]]:
    predictions, failures = {}, {}
    for result in results:
        if isinstance(result, PredictionFailure):
            failures[result.path] = result.error
        else:
            predictions[result.path] = result
    return predictions, failures


def _assert_same_prediction(ours: Prediction, theirs: Prediction) -> None:
    assert abs(ours.valence - theirs.valence) <= TOLERANCE, ours.path
    assert abs(ours.arousal - theirs.arousal) <= TOLERANCE, ours.path
    assert ours.quadrant == theirs.quadrant, ours.path
    assert ours.class_probs.keys() == theirs.class_probs.keys()
    assert all(abs(ours.class_probs[k] - theirs.class_probs[k]) <= TOLERANCE
               for k in ours.class_probs)
    assert (ours.mood_words, ours.used_lyrics, ours.model_id, ours.analysed_s) == (
        theirs.mood_words, theirs.used_lyrics, theirs.model_id, theirs.analysed_s)
    assert len(ours.segments) == len(theirs.segments)
    for a, b in zip(ours.segments, theirs.segments, strict=True):
        assert (a.start_s, a.end_s) == (b.start_s, b.end_s)
        assert abs(a.valence - b.valence) <= TOLERANCE and abs(a.arousal - b.arousal) <= TOLERANCE


@ray_test
def test_predict_on_ray_equals_the_local_engine(ray_instance: None, library: Path) -> None:
    """Same settings (segments, lyrics for one track): the same predictions to 1e-4, the same
    quadrants and the same failures with the same messages."""
    from moodnet.predict.ray_engine import predict_on_ray

    paths = [*_audio(library), str(library / "missing.wav")]
    sung = str(library / "tone.mp3")
    lyrics = {sung: HAPPY_LYRICS}
    local = Predictor.load().predict_many(paths, lyrics=lyrics, segments=2.0, workers=1)
    ours, our_failures = _split(predict_on_ray(paths, lyrics=lyrics, segments=2.0,
                                               batch_size=2))
    theirs, their_failures = _split(local)
    assert our_failures == their_failures
    assert set(our_failures) == {str(library / "broken.mp3"), str(library / "missing.wav")}
    assert ours.keys() == theirs.keys() and len(ours) == 8
    for path in ours:
        _assert_same_prediction(ours[path], theirs[path])
    assert ours[sung].used_lyrics and ours[sung].segments


def _csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def _assert_same_rows(ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]],
                      ) -> None:
    assert ours.keys() == theirs.keys()
    for path, row in ours.items():
        other = theirs[path]
        assert row.keys() == other.keys()
        for column, value in row.items():
            if column in ("valence", "arousal") or column.startswith("p_"):
                assert abs(float(value) - float(other[column])) <= TOLERANCE + ROUNDING, column
            else:
                assert str(value) == str(other[column]), (path, column)


def _failure_lines(err: str) -> set[str]:
    return {line for line in err.splitlines() if line.startswith("moodnet predict: skipped")}


@ray_test
def test_cli_engine_ray_writes_the_local_csv_and_resumes(
    ray_instance: None, library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    local_csv, ray_csv = tmp_path / "local.csv", tmp_path / "ray.csv"
    assert main(["predict", str(library), "--output", str(local_csv), "--workers", "1"]) == 1
    local_failures = _failure_lines(capsys.readouterr().err)
    assert main(["predict", str(library), "--engine", "ray", "--output", str(ray_csv)]) == 1
    assert _failure_lines(capsys.readouterr().err) == local_failures
    assert len(local_failures) == 1
    _assert_same_rows(_csv_rows(ray_csv), _csv_rows(local_csv))

    lines = ray_csv.read_text().splitlines(keepends=True)
    ray_csv.write_text("".join(lines[:-2]))  # as if killed two rows before the end
    assert main(["predict", str(library), "--engine", "ray", "--output", str(ray_csv)]) == 1
    err = capsys.readouterr().err
    assert "6 track(s) already in" in err and "wrote 2 row(s)" in err
    _assert_same_rows(_csv_rows(ray_csv), _csv_rows(local_csv))
    assert len(ray_csv.read_text().splitlines()) == 9  # header + 8, nothing twice


@ray_test
def test_cli_engine_ray_writes_parquet_parts_and_resumes(
    ray_instance: None, library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    import pyarrow.parquet as pq

    local_csv, out = tmp_path / "local.csv", tmp_path / "moods.parquet"
    assert main(["predict", str(library), "--output", str(local_csv), "--workers", "1"]) == 1
    assert main(["predict", str(library), "--engine", "ray", "--format", "parquet",
                 "--output", str(out)]) == 1
    parts = sorted(p.name for p in out.iterdir())
    assert parts == ["part-000000.parquet"]
    table = pq.read_table(out)
    assert table.schema.field("valence").type == "double"
    assert table.schema.field("used_lyrics").type == "bool"
    rows = {row["path"]: row for row in table.to_pylist()}
    _assert_same_rows(rows, _csv_rows(local_csv))
    capsys.readouterr()
    assert main(["predict", str(library), "--engine", "ray", "--format", "parquet",
                 "--output", str(out)]) == 1  # the corrupt file is tried again
    assert "8 track(s) already in" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == parts  # no empty part for no new row


@ray_test
def test_console_command_starts_and_stops_its_own_local_ray(library: Path, tmp_path: Path,
                                                             ) -> None:
    """``moodnet predict DIR --engine ray`` as a user types it: a local Ray instance with the
    machine's cores, started and shut down by the command."""
    pytest.importorskip("ray")
    out = tmp_path / "moods.jsonl"
    before = _ray_processes()
    done = subprocess.run([sys.executable, "-m", "moodnet", "predict", str(library / "more"),
                           "--engine", "ray", "--output", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 4
    assert _ray_processes() <= before, "the command left Ray processes behind"


def _ray_processes() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"raylet" in command or b"gcs_server" in command:
                found.add(int(entry.name))
    return found


# --- extract -----------------------------------------------------------------------------------


@ray_test
def test_extract_on_ray_fills_the_cache_as_the_local_run(ray_instance: None, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         ) -> None:
    from moodnet.audio import FeatureConfig
    from moodnet.data.cache import FeatureCache
    from moodnet.data.extract import extract
    from moodnet.data.manifest import write_manifest
    from moodnet.data.ray_extract import extract_on_ray
    from moodnet.track import Track

    files = write_formats(tmp_path / "audio", seconds=2.0)
    bad = write_corrupt(tmp_path / "audio" / "broken.mp3")
    tracks = [Track(id=f"t{i}", audio=str(p)) for i, p in enumerate([*files, bad])]
    tracks += [Track(id="copy", audio=str(files[0])),
               Track(id="gone", audio=str(tmp_path / "x.wav")), Track(id="none")]
    config = FeatureConfig(n_mels=16, clip_seconds=1.0)
    local = extract(tracks, config=config, cache_dir=tmp_path / "local", workers=1,
                    progress=False)
    ours = extract_on_ray(tracks, config=config, cache_dir=tmp_path / "ray", progress=False)
    assert ours.failed == local.failed and set(ours.failed) == {"t4", "gone", "none"}
    assert ours.keys == local.keys
    assert sorted(ours.ok) == sorted(local.ok) and len(ours.ok) == 5
    ours_cache, local_cache = (FeatureCache(tmp_path / name, config) for name in ("ray", "local"))
    for kind in ("mel", "descriptors"):
        a = ours_cache.load_stack([t for t in tracks if t.id in local.ok], kind=kind)
        b = local_cache.load_stack([t for t in tracks if t.id in local.ok], kind=kind)
        np.testing.assert_allclose(a, b, atol=TOLERANCE, rtol=0)
    again = extract_on_ray(tracks, config=config, cache_dir=tmp_path / "ray", progress=False)
    assert sorted(again.cached) == sorted(local.ok) and not again.ok

    manifest = write_manifest(tracks, tmp_path / "tracks.jsonl")
    capsys.readouterr()
    assert main(["extract", str(manifest), "--cache", str(tmp_path / "ray"), "--engine", "ray",
                 "--n-mels", "16", "--clip-seconds", "1", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "5 already cached, 3 failed" in out and "failed gone:" in out


# --- without Ray -------------------------------------------------------------------------------


def test_engine_ray_without_ray_names_the_extra(
    library: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    assert main(["predict", str(library / "more"), "--engine", "ray"]) == 1
    assert "pip install 'moodnet[ray]'" in capsys.readouterr().err
    manifest = library / "none.jsonl"
    manifest.write_text("")
    assert main(["extract", str(manifest), "--cache", str(library / "c"), "--engine", "ray"]) == 1
    assert "pip install 'moodnet[ray]'" in capsys.readouterr().err


def test_address_needs_the_ray_engine(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["predict", str(library), "--address", "auto"])
    assert stop.value.code == 2
    assert "--address is for --engine ray" in capsys.readouterr().err
