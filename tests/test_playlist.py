"""``moodnet playlist``: M3U playlists from the csv / jsonl that ``moodnet predict`` writes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from moodnet.cli import main
from moodnet.errors import DataError
from moodnet.predict.playlist import read_results
from predict_helpers import build_tiny_checkpoint, write_tone


def m3u_tracks(playlist: Path) -> list[Path]:
    """The track lines of an extended M3U, resolved against its folder."""
    lines = playlist.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    tracks = [line for line in lines[1:] if not line.startswith("#")]
    infos = [line for line in lines[1:] if line.startswith("#EXTINF:")]
    assert len(infos) == len(tracks)
    return [(playlist.parent / t).resolve() for t in tracks]


def write_results(path: Path, rows: list[tuple[str, float, float]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "valence", "arousal", "quadrant"])
        for name, v, a in rows:
            writer.writerow([name, v, a, ""])
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_quadrant_playlist_from_predict_output(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str],
) -> None:
    music = tmp_path / "music"
    music.mkdir()
    for i, freq in enumerate((110.0, 440.0, 1760.0, 3000.0)):
        write_tone(music / f"t{i}.wav", seconds=4.0, freq=freq, seed=i)
    run_dir = build_tiny_checkpoint(tmp_path / "run")
    results = tmp_path / f"moods.{fmt}"
    assert main(["predict", str(music), "--model", str(run_dir), "--output", str(results),
                 "--workers", "1", "--device", "cpu"]) == 0
    rows = read_results(results)
    assert len(rows) == 4 and all(r.found for r in rows)
    quadrant = rows[0].quadrant
    playlist = tmp_path / "lists" / "mood.m3u"
    assert main(["playlist", str(results), "--quadrant", quadrant, "--output",
                 str(playlist)]) == 0
    expected = {r.path.resolve() for r in rows if r.quadrant == quadrant}
    assert set(m3u_tracks(playlist)) == expected
    assert all(not line.startswith("/") for line in playlist.read_text().splitlines())
    assert f"wrote {len(expected)} of 4 track(s) to {playlist}" in capsys.readouterr().err
    assert [p.name for p in playlist.parent.iterdir()] == ["mood.m3u"]  # no temp file left


def test_near_gives_the_nearest_first(tmp_path: Path) -> None:
    names = ["a.mp3", "b.mp3", "c.mp3", "d.mp3", "e.mp3"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    points = [(0.9, 0.9), (0.5, -0.4), (-0.5, -0.5), (0.45, -0.6), (0.0, 0.0)]
    rows = [(str(tmp_path / n), v, a) for n, (v, a) in zip(names, points, strict=True)]
    results = write_results(tmp_path / "r.csv", rows)
    playlist = tmp_path / "near.m3u8"
    assert main(["playlist", str(results), "--near", "0.5,-0.5", "--count", "3",
                 "--output", str(playlist)]) == 0
    assert [p.name for p in m3u_tracks(playlist)] == ["b.mp3", "d.mp3", "e.mp3"]
    text = playlist.read_text()
    assert "\nb.mp3\n" in text  # relative to the playlist's folder


def test_quadrant_word_strongest_first_and_stdout_absolute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [("weak.mp3", 0.1, -0.1), ("strong.mp3", 0.8, -0.7), ("happy.mp3", 0.5, 0.5)]
    results = write_results(tmp_path / "r.csv", [(str(tmp_path / n), v, a) for n, v, a in rows])
    assert main(["playlist", str(results), "--quadrant", "calm"]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if not x.startswith("#")]
    assert lines == [str(tmp_path / "strong.mp3"), str(tmp_path / "weak.mp3")]


def test_relative_paths_in_results_resolve_against_the_results_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "song.mp3").write_bytes(b"")
    results = write_results(tmp_path / "r.csv", [("song.mp3", 0.5, 0.5)])
    monkeypatch.chdir(tmp_path.parent)
    [row] = read_results(results)
    assert row.found and row.path == tmp_path / "song.mp3" and row.quadrant == "Q1"


def test_bad_results_files_name_the_file_and_line(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("file,mood\na.mp3,happy\n")
    with pytest.raises(DataError, match=r"wrong\.csv: not a moodnet predict results file"):
        read_results(wrong)
    out_of_range = write_results(tmp_path / "range.csv", [("a.mp3", 0.5, 0.5), ("b.mp3", 3.0, 0)])
    with pytest.raises(DataError, match=r"range\.csv line 3: .*not on the \[-1, 1\] scale"):
        read_results(out_of_range)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"path": "a.mp3", "valence": 0.1, "arousal": 0.2}\n{"path": \n')
    with pytest.raises(DataError, match=r"broken\.jsonl line 2: not a JSON object"):
        read_results(broken)


def test_usage_errors_and_empty_selection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    results = write_results(tmp_path / "r.csv", [(str(tmp_path / "a.mp3"), 0.5, 0.5)])
    for bad in (["--near", "0.5"], ["--near", "2,0"], ["--quadrant", "Q7"],
                ["--quadrant", "Q1", "--output", str(tmp_path / "x.txt")]):
        with pytest.raises(SystemExit) as exit_info:
            main(["playlist", str(results), *bad])
        assert exit_info.value.code == 2
    playlist = tmp_path / "sad.m3u"
    assert main(["playlist", str(results), "--quadrant", "sad", "--output", str(playlist)]) == 1
    assert "is in sad; no playlist written" in capsys.readouterr().err
    assert not playlist.exists()
    assert main(["playlist", str(tmp_path / "gone.csv"), "--quadrant", "Q1"]) == 1
    assert "gone.csv: cannot read the results file" in capsys.readouterr().err
