"""Feature cache and batch extraction: keys, stacks, bad files, resume after a kill, the CLI."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodnet.audio import FeatureConfig, descriptor_names, features_for_file
from moodnet.cli import main
from moodnet.data.cache import FeatureCache, content_hash
from moodnet.data.extract import REPORT_NAME, extract
from moodnet.data.manifest import write_manifest
from moodnet.errors import DataError, ParameterError
from moodnet.track import Track

SR = 22050
CONFIG = FeatureConfig(clip_seconds=1.0, n_mels=16)


def tone(frequency: float, seconds: float = 1.5, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def make_tracks(folder: Path, count: int, *, start: int = 0) -> list[Track]:
    folder.mkdir(parents=True, exist_ok=True)
    tracks = []
    for index in range(start, start + count):
        path = folder / f"t{index:03d}.wav"
        sf.write(path, tone(200.0 + 37 * index), SR)
        tracks.append(Track(id=f"t{index:03d}", audio=str(path)))
    return tracks


def mtimes(cache: FeatureCache) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in (cache.dir / "mel").rglob("*.npy")}


# --- cache -------------------------------------------------------------------------------------


def test_content_hash_follows_content_not_name(tmp_path: Path) -> None:
    (track,) = make_tracks(tmp_path, 1)
    copy = tmp_path / "renamed.wav"
    shutil.copy(track.audio or "", copy)
    assert content_hash(copy) == content_hash(track.audio or "")
    sf.write(copy, tone(999.0), SR)
    assert content_hash(copy) != content_hash(track.audio or "")


def test_cache_put_get_contains(tmp_path: Path) -> None:
    (track,) = make_tracks(tmp_path / "audio", 1)
    cache = FeatureCache(tmp_path / "cache", CONFIG)
    assert not cache.contains(track.audio or "")
    assert cache.get(track.audio or "") is None
    mel = features_for_file(track.audio or "", config=CONFIG)
    path = cache.put(track.audio or "", mel)
    assert path.parent.parent.parent == cache.dir
    assert cache.contains(track.audio or "")
    np.testing.assert_array_equal(cache.get(track.audio or ""), mel)
    key = cache.key_for(track.audio or "")
    np.testing.assert_array_equal(cache.get(key, mmap=True), mel)
    config_file = json.loads((cache.dir / "config.json").read_text())
    assert FeatureConfig.from_dict(config_file["feature_config"]) == CONFIG


def test_cache_rejects_arrays_of_the_wrong_shape(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path, CONFIG)
    with pytest.raises(ParameterError, match="shape"):
        cache.put("0" * 32, np.zeros((40, CONFIG.n_frames)))
    with pytest.raises(ParameterError, match="kind"):
        cache.put("0" * 32, np.zeros(3), kind="chroma")


def test_different_configs_do_not_share_entries(tmp_path: Path) -> None:
    (track,) = make_tracks(tmp_path / "audio", 1)
    small = FeatureCache(tmp_path / "cache", CONFIG)
    small.put(track.audio or "", features_for_file(track.audio or "", config=CONFIG))
    other = FeatureCache(tmp_path / "cache", FeatureConfig(clip_seconds=1.0, n_mels=20))
    assert not other.contains(track.audio or "")


# --- extraction --------------------------------------------------------------------------------


def test_extract_reports_bad_files_and_goes_on(tmp_path: Path) -> None:
    tracks = make_tracks(tmp_path / "audio", 3)
    fake = tmp_path / "audio" / "fake.mp3"
    fake.write_text("not an mp3\n" * 20)
    tracks += [
        Track(id="fake", audio=str(fake)),
        Track(id="gone", audio=str(tmp_path / "audio" / "gone.wav")),
        Track(id="silent", audio=str(write_silence(tmp_path / "audio" / "silent.wav"))),
        Track(id="no_audio"),
    ]
    report = extract(tracks, config=CONFIG, cache_dir=tmp_path / "cache", workers=1, progress=False)
    assert sorted(report.ok) == ["t000", "t001", "t002"]
    assert sorted(report.failed) == ["fake", "gone", "no_audio", "silent"]
    assert "fake.mp3" in report.failed["fake"]
    assert "gone.wav: file not found" in report.failed["gone"]
    assert "silent.wav: is silent" in report.failed["silent"]
    written = json.loads((Path(report.cache_dir) / REPORT_NAME).read_text())
    assert written["failed"] == report.failed
    assert sorted(written["ok"]) == sorted(report.ok)


def write_silence(path: Path) -> Path:
    sf.write(path, np.zeros(SR, np.float32), SR)
    return path


def test_extract_stores_mel_and_descriptors_that_load_as_stacks(tmp_path: Path) -> None:
    tracks = make_tracks(tmp_path / "audio", 4)
    extract(tracks, config=CONFIG, cache_dir=tmp_path / "cache", workers=1, progress=False)
    cache = FeatureCache(tmp_path / "cache", CONFIG)
    stack = cache.load_stack(tracks[::-1])
    assert stack.shape == (4, 16, CONFIG.n_frames)
    np.testing.assert_allclose(stack[0], features_for_file(tracks[3].audio or "", config=CONFIG))
    mapped = cache.load_stack(tracks[::-1], mmap=True)
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, stack)
    again = cache.load_stack(tracks[::-1], mmap=True)
    assert isinstance(again, np.memmap)
    assert again.filename == mapped.filename
    vectors = cache.load_stack(tracks, kind="descriptors")
    assert vectors.shape == (4, len(descriptor_names()))
    assert np.isfinite(vectors).all()


def test_load_stack_names_missing_tracks(tmp_path: Path) -> None:
    tracks = make_tracks(tmp_path / "audio", 2)
    extract(tracks[:1], config=CONFIG, cache_dir=tmp_path / "cache", workers=1, progress=False)
    with pytest.raises(DataError, match=r"1 of 2 .*t001"):
        FeatureCache(tmp_path / "cache", CONFIG).load_stack(tracks)


def test_second_run_recomputes_nothing(tmp_path: Path) -> None:
    tracks = make_tracks(tmp_path / "audio", 6)
    cache = FeatureCache(tmp_path / "cache", CONFIG)
    first = extract(tracks[:3], config=CONFIG, cache_dir=cache.root, workers=1, progress=False)
    assert len(first.ok) == 3
    before = mtimes(cache)
    second = extract(tracks, config=CONFIG, cache_dir=cache.root, workers=1, progress=False)
    assert sorted(second.cached) == ["t000", "t001", "t002"]
    assert sorted(second.ok) == ["t003", "t004", "t005"]
    after = mtimes(cache)
    assert all(after[path] == stamp for path, stamp in before.items())
    assert len(after) == 6


def test_duplicate_audio_is_computed_once(tmp_path: Path) -> None:
    (track,) = make_tracks(tmp_path / "audio", 1)
    twin = Track(id="twin", audio=track.audio)
    report = extract(
        [track, twin], config=CONFIG, cache_dir=tmp_path / "cache", workers=1, progress=False
    )
    assert sorted(report.ok) == ["t000", "twin"]
    assert report.keys["t000"] == report.keys["twin"]
    assert len(mtimes(FeatureCache(tmp_path / "cache", CONFIG))) == 1


def test_worker_pool_gives_the_same_features(tmp_path: Path) -> None:
    tracks = make_tracks(tmp_path / "audio", 4)
    serial = extract(
        tracks, config=CONFIG, cache_dir=tmp_path / "serial", workers=1, progress=False
    )
    pooled = extract(
        tracks, config=CONFIG, cache_dir=tmp_path / "pooled", workers=2, progress=False
    )
    assert sorted(pooled.ok) == sorted(serial.ok)
    a = FeatureCache(tmp_path / "serial", CONFIG).load_stack(tracks)
    b = FeatureCache(tmp_path / "pooled", CONFIG).load_stack(tracks)
    np.testing.assert_array_equal(a, b)


def test_killed_run_resumes_without_recomputing(tmp_path: Path) -> None:
    tracks = make_tracks(tmp_path / "audio", 40)
    manifest = write_manifest(tracks, tmp_path / "manifest.jsonl")
    cache = FeatureCache(tmp_path / "cache", CONFIG)
    code = (
        "from moodnet.cli import main;"
        f"main(['extract', {str(manifest)!r}, '--cache', {str(cache.root)!r}, '--workers', '1',"
        f"'--n-mels', '16', '--clip-seconds', '1', '--quiet'])"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while len(mtimes(cache)) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = mtimes(cache)
    assert 0 < len(done) < len(tracks), "the run was not interrupted half-way"
    assert not (cache.dir / REPORT_NAME).exists()
    report = extract(tracks, config=CONFIG, cache_dir=cache.root, workers=1, progress=False)
    assert len(report.failed) == 0
    assert len(report.ok) + len(report.cached) == len(tracks)
    assert len(report.cached) == len(done)
    after = mtimes(cache)
    assert all(after[path] == stamp for path, stamp in done.items())


# --- command line ------------------------------------------------------------------------------


def test_cli_exit_codes_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tracks = make_tracks(tmp_path / "audio", 2)
    good = write_manifest(tracks, tmp_path / "good.jsonl")
    args = [
        "--cache",
        str(tmp_path / "cache"),
        "--workers",
        "1",
        "--quiet",
        "--n-mels",
        "16",
        "--clip-seconds",
        "1",
    ]
    assert main(["extract", str(good), *args]) == 0
    assert "2 extracted, 0 already cached, 0 failed" in capsys.readouterr().out
    bad = tmp_path / "audio" / "broken.mp3"
    bad.write_bytes(b"\x00garbage" * 100)
    mixed = write_manifest([*tracks, Track(id="broken", audio=str(bad))], tmp_path / "mixed.jsonl")
    assert main(["extract", str(mixed), *args]) == 1
    out = capsys.readouterr().out
    assert "0 extracted, 2 already cached, 1 failed" in out
    assert "failed broken:" in out and "broken.mp3" in out
    assert (tmp_path / "cache" / CONFIG.key()).is_dir()


def test_cli_rejects_zero_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(make_tracks(tmp_path / "audio", 1), tmp_path / "m.jsonl")
    code = main(["extract", str(manifest), "--cache", str(tmp_path / "c"), "--workers", "0"])
    assert code == 1
    assert "workers=0" in capsys.readouterr().err
