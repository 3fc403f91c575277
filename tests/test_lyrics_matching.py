"""``--lyrics``: lyrics files found the way people name them (stem, trailing number, CSV, .lrc)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from moodnet.cli import main
from moodnet.errors import LyricsError
from moodnet.lyrics.matching import lyrics_report, match_lyrics, strip_lrc
from predict_helpers import MADE_UP_LYRICS, build_tiny_checkpoint, write_tone

LRC = """[ar: Someone]
[ti: A Song]
[offset:+200]
[length: 03:20]
[00:12.00]cold rain on the window
[00:15.50][01:15.50]and I <00:16.10>miss <00:16.40>you
[00:20.00]
"""


def touch(folder: Path, *names: str, text: str = "la la la") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in names]
    for path in paths:
        path.write_text(text, encoding="utf-8")
    return paths


def test_lrc_loses_timestamps_and_metadata() -> None:
    assert strip_lrc(LRC) == "cold rain on the window\nand I miss you"


def test_folder_by_stem_then_by_trailing_number(tmp_path: Path) -> None:
    lyrics = tmp_path / "lyrics"
    touch(lyrics, "Intro.TXT", "ballad.txt", "ballad.lrc", "004.txt", "lyrics-17.lrc")
    (lyrics / "lyrics-17.lrc").write_text(LRC, encoding="utf-8")
    tracks = ["music/intro.mp3", "music/ballad.flac", "music/mirex_004.mp3",
              "music/track17.ogg", "music/other_9.mp3"]
    match = match_lyrics(tracks, lyrics)
    assert match.lyrics == {
        "music/intro.mp3": lyrics / "Intro.TXT",  # letter case ignored
        "music/ballad.flac": lyrics / "ballad.txt",  # .txt before .lrc
        "music/mirex_004.mp3": lyrics / "004.txt",
        "music/track17.ogg": "cold rain on the window\nand I miss you",  # .lrc: its words
    }
    assert match.unmatched == ["music/other_9.mp3"]


def test_ambiguous_numbers_give_no_lyrics(tmp_path: Path) -> None:
    touch(tmp_path, "7.txt", "007.lrc", "12.txt")
    match = match_lyrics(["a_7.mp3", "b_12.mp3", "c_12.mp3"], tmp_path)
    assert match.lyrics == {}
    assert len(match.notes) == 2
    assert any("number 7 is ambiguous" in n and "7.txt" in n and "007.lrc" in n
               for n in match.notes)
    assert any("number 12 is ambiguous (b_12.mp3, c_12.mp3" in n for n in match.notes)


def test_a_stem_match_is_not_taken_again_by_number(tmp_path: Path) -> None:
    touch(tmp_path, "song_3.txt")
    match = match_lyrics(["song_3.mp3", "other_3.mp3"], tmp_path)
    assert match.lyrics == {"song_3.mp3": tmp_path / "song_3.txt"}
    assert match.unmatched == ["other_3.mp3"] and not match.notes


def test_mapping_csv_relative_to_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = tmp_path / "collection"
    touch(base / "words", "first.txt")
    (base / "words" / "second.lrc").write_text(LRC, encoding="utf-8")
    mapping = base / "map.csv"
    with mapping.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "lyrics_path"])
        writer.writerow(["audio/a.mp3", "words/first.txt"])
        writer.writerow(["audio/b.mp3", "words/second.lrc"])
        writer.writerow(["audio/c.mp3", "words/gone.txt"])
    monkeypatch.chdir(base)  # the tracks as a user in the collection folder names them
    match = match_lyrics(["audio/a.mp3", "audio/b.mp3", "audio/c.mp3", "audio/d.mp3"], mapping)
    assert match.lyrics == {"audio/a.mp3": (base / "words" / "first.txt").resolve(),
                            "audio/b.mp3": "cold rain on the window\nand I miss you"}
    assert match.unmatched == ["audio/c.mp3", "audio/d.mp3"]
    assert match.notes == [f"{mapping} line 4: no lyrics file 'words/gone.txt'"]


def test_bad_sources_name_the_problem(tmp_path: Path) -> None:
    bad_csv = tmp_path / "map.csv"
    bad_csv.write_text("audio,text\na.mp3,a.txt\n", encoding="utf-8")
    with pytest.raises(LyricsError, match=r"map\.csv: a lyrics mapping CSV needs the columns"):
        match_lyrics(["a.mp3"], bad_csv)
    one = touch(tmp_path, "one.txt")[0]
    with pytest.raises(LyricsError, match="one lyrics file goes with one audio file, not 2"):
        match_lyrics(["a.mp3", "b.mp3"], one)
    with pytest.raises(LyricsError, match="no such lyrics file or folder"):
        match_lyrics(["a.mp3"], tmp_path / "nowhere")


def test_report_counts_and_names_the_first_few(tmp_path: Path) -> None:
    touch(tmp_path, "t0.txt")
    tracks = [f"music/t{i}.mp3" for i in range(8)]
    lines = lyrics_report(match_lyrics(tracks, tmp_path), total=len(tracks))
    assert lines == ["lyrics found for 1 of 8 track(s)",
                     "without lyrics: t1.mp3, t2.mp3, t3.mp3, t4.mp3, t5.mp3 (and 2 more)"]


def test_predict_cli_uses_and_reports_matched_lyrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from moodnet.predict import Predictor

    music = tmp_path / "music"
    music.mkdir()
    for i, name in enumerate(["mirex_001.wav", "ballad.wav", "no_words.wav"]):
        write_tone(music / name, seconds=3.0, freq=220.0 * (i + 1), seed=i)
    lyrics = tmp_path / "lyrics"
    touch(lyrics, "001.txt", text=MADE_UP_LYRICS[0])
    (lyrics / "ballad.lrc").write_text("[ar: x]\n[00:01.00]" + MADE_UP_LYRICS[1], "utf-8")
    run_dir = build_tiny_checkpoint(tmp_path / "run")
    out = tmp_path / "moods.jsonl"
    assert main(["predict", str(music), "--lyrics", str(lyrics), "--model", str(run_dir),
                 "--output", str(out), "--workers", "1", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "moodnet predict: lyrics found for 2 of 3 track(s)" in err
    assert "moodnet predict: without lyrics: no_words.wav" in err
    rows = {Path(r["path"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert {name: r["used_lyrics"] for name, r in rows.items()} == {
        "mirex_001.wav": True, "ballad.wav": True, "no_words.wav": False}
    expected = Predictor.load(run_dir, device="cpu").predict(
        music / "ballad.wav", lyrics=MADE_UP_LYRICS[1])
    assert rows["ballad.wav"]["valence"] == pytest.approx(expected.valence, abs=1e-4)


def test_tag_cli_reports_lyrics_and_bad_source_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    song = write_tone(tmp_path / "song_2.wav", seconds=3.0)
    touch(tmp_path / "lyrics", "2.txt", text=MADE_UP_LYRICS[2])
    run_dir = build_tiny_checkpoint(tmp_path / "run")
    assert main(["tag", str(song), "--lyrics", str(tmp_path / "lyrics"), "--model",
                 str(run_dir), "--workers", "1", "--device", "cpu"]) == 0
    assert "moodnet tag: lyrics found for 1 of 1 track(s)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["tag", str(song), "--lyrics", str(tmp_path / "nowhere"), "--model", str(run_dir)])
    assert exit_info.value.code == 2
    assert "--lyrics: " in capsys.readouterr().err
