"""validate() reports every problem of generated tracks at once."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from moodnet.cli import main
from moodnet.data.manifest import write_manifest
from moodnet.data.validate import check_audio_file, validate
from moodnet.track import Track


def _wav(path: Path) -> str:
    t = np.arange(1600) / 8000
    soundfile.write(path, 0.1 * np.sin(2 * np.pi * 220 * t), 8000)
    return str(path)


@pytest.fixture
def files(tmp_path):
    paths = {
        "good_audio": _wav(tmp_path / "good.wav"),
        "flac": str(tmp_path / "good.flac"),
        "empty_audio": str(tmp_path / "empty.mp3"),
        "garbage_audio": str(tmp_path / "garbage.mp3"),
        "missing_audio": str(tmp_path / "absent.wav"),
        "good_lyrics": str(tmp_path / "good.txt"),
        "cp1252_lyrics": str(tmp_path / "legacy.txt"),
        "bad_lyrics": str(tmp_path / "bad.txt"),
        "empty_lyrics": str(tmp_path / "empty.txt"),
        "missing_lyrics": str(tmp_path / "absent.txt"),
    }
    soundfile.write(paths["flac"], np.zeros(800), 8000)
    Path(paths["empty_audio"]).write_bytes(b"")
    Path(paths["garbage_audio"]).write_bytes(np.random.default_rng(0).bytes(4096))
    Path(paths["good_lyrics"]).write_text("I sing a song\n", encoding="utf-8")
    Path(paths["cp1252_lyrics"]).write_bytes("caf\xe9 na\xefve\n".encode("cp1252"))
    Path(paths["bad_lyrics"]).write_bytes(b"\x81\x8d\x8f\x90")
    Path(paths["empty_lyrics"]).write_text("  \n", encoding="utf-8")
    return paths


def test_audio_header_checks(files):
    assert check_audio_file(files["good_audio"]) is None
    assert check_audio_file(files["flac"]) is None
    assert check_audio_file(files["empty_audio"])[0] == "audio_empty"
    assert check_audio_file(files["garbage_audio"])[0] == "audio_unreadable"
    assert check_audio_file(files["missing_audio"])[0] == "audio_missing"


def test_validate_lists_every_problem(files):
    tracks = [
        Track(
            "ok",
            audio=files["good_audio"],
            lyrics=files["good_lyrics"],
            valence=0.1,
            arousal=-0.2,
            label="Q4",
        ),
        Track("a1", audio=files["empty_audio"], label="Q1"),
        Track("a2", audio=files["garbage_audio"], label="Q1"),
        Track("a3", audio=files["missing_audio"], label="Q1"),
        Track("l1", lyrics=files["cp1252_lyrics"], label="Q2"),
        Track("l2", lyrics=files["bad_lyrics"], label="Q2"),
        Track("l3", lyrics=files["empty_lyrics"], label="Q2"),
        Track("l4", lyrics=files["missing_lyrics"], label="Q2"),
        Track("v1", valence=1.5, arousal=-3.0, label="Q3"),
        Track("v2", label="Q9"),
        Track("ok", label="Q1"),
    ]
    report = validate(tracks, classes=("Q1", "Q2", "Q3", "Q4"), require_va=True, workers=2)
    kinds = {(p.track_id, p.kind) for p in report.problems}
    expected = {
        ("a1", "audio_empty"),
        ("a2", "audio_unreadable"),
        ("a3", "audio_missing"),
        ("l1", "lyrics_not_utf8"),
        ("l2", "lyrics_undecodable"),
        ("l3", "lyrics_empty"),
        ("l4", "lyrics_missing"),
        ("v1", "va_out_of_range"),
        ("v2", "label_unknown"),
        ("v2", "va_missing"),
        ("ok", "duplicate_id"),
    }
    assert expected <= kinds
    assert report.counts()["va_out_of_range"] == 2  # valence and arousal
    assert {p.kind for p in report.warnings} == {"lyrics_not_utf8", "lyrics_empty"}
    assert (report.n_audio, report.n_audio_ok) == (4, 1)
    assert (report.n_lyrics, report.n_lyrics_ok) == (5, 3)
    assert not report.ok
    assert files["garbage_audio"] in report.format()
    assert "errors" in report.summary()


def test_validate_clean_tracks_and_options(files):
    tracks = [
        Track("x", audio=files["good_audio"], valence=2.0, arousal=-2.0),
        Track("y", lyrics_text="inline words"),
    ]
    assert validate(tracks, va_range=None).ok
    assert not validate(tracks).ok  # 2.0 is outside [-1, 1]
    assert not validate(tracks, va_range=None, require_audio=True).ok
    skipped = validate([Track("z", audio=files["missing_audio"])], check_audio=False)
    assert skipped.ok and skipped.n_audio == 1


def test_cli_validate_exit_codes(files, tmp_path, capsys):
    good = write_manifest([Track("ok", audio=files["good_audio"])], tmp_path / "good.jsonl")
    bad = write_manifest(
        [Track("ok", audio=files["good_audio"]), Track("b", audio=files["garbage_audio"])],
        tmp_path / "bad.jsonl",
    )
    assert main(["data", "validate", str(good)]) == 0
    assert main(["data", "validate", str(bad)]) == 1
    assert "audio_unreadable" in capsys.readouterr().out


SHARED = Path(
    os.environ.get("MOODNET_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.mark.shared_data
@pytest.mark.skipif(not (SHARED / "4q_dev").is_dir(), reason="shared data absent")
def test_shared_4q_validates():
    from moodnet.data.adapters import get_adapter

    report = validate(get_adapter("4q")(SHARED / "4q_dev"), classes=("Q1", "Q2", "Q3", "Q4"))
    assert report.ok and report.n_audio_ok == 450
