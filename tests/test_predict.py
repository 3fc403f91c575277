"""Predictor, mood words, demo clips, plot and the ``moodnet predict`` / ``demo`` commands."""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodnet.cli import main
from moodnet.errors import AudioError, CheckpointError, LyricsError, ParameterError
from moodnet.predict import (
    Prediction,
    PredictionFailure,
    Predictor,
    Segment,
    mood_words,
    nearest_mood_words,
    quadrant_of,
)
from moodnet.predict.demo import demo_table, run_demo, synthesise_demo_clips
from moodnet.predict.moods import RUSSELL_1980_ANGLES
from moodnet.predict.plot import plot_va_plane
from predict_helpers import (
    MADE_UP_LYRICS,
    build_tiny_checkpoint,
    write_corrupt,
    write_tone,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _restore_torch_threads() -> Iterator[None]:
    """The commands set torch to one thread for their process; give this one its own back."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("model") / "run")


@pytest.fixture(scope="module")
def predictor(run_dir: Path) -> Predictor:
    return Predictor.load(run_dir, device="cpu")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tone(tmp_path_factory.mktemp("audio") / "tone.wav", seconds=7.0)


# --- mood words --------------------------------------------------------------------------------


def test_russell_words_all_placed_inside_the_unit_circle() -> None:
    words = mood_words()
    assert len(words) == 28 == len({w.word for w in words})
    for word in words:
        assert math.hypot(word.valence, word.arousal) <= 1.0


@pytest.mark.parametrize(
    ("word", "quadrant"),
    [("happy", "Q1"), ("excited", "Q1"), ("tense", "Q2"), ("angry", "Q2"), ("afraid", "Q2"),
     ("sad", "Q3"), ("bored", "Q3"), ("calm", "Q4"), ("serene", "Q4"), ("content", "Q4")],
)
def test_russell_words_sit_in_their_quadrant(word: str, quadrant: str) -> None:
    placed = {w.word: w for w in mood_words()}[word]
    assert quadrant_of(placed.valence, placed.arousal) == quadrant


@pytest.mark.parametrize(
    ("point", "expected"),
    [((0.9, 0.1), "happy"), ((-0.7, -0.4), "sad"), ((0.6, -0.55), "calm"),
     ((-0.1, 0.9), "angry"), ((0.0, -0.9), "tired")],
)
def test_nearest_mood_word(point: tuple[float, float], expected: str) -> None:
    words = nearest_mood_words(*point, k=3)
    assert len(words) == 3
    assert expected in words


def test_nearest_mood_words_rejects_bad_arguments() -> None:
    with pytest.raises(ParameterError, match="k must be"):
        nearest_mood_words(0.1, 0.1, k=0)
    with pytest.raises(ParameterError, match="finite"):
        nearest_mood_words(float("nan"), 0.1)


def test_angles_follow_russell_anchor_order() -> None:
    anchors = ["happy", "excited", "aroused", "distressed", "miserable", "depressed", "sleepy",
               "relaxed"]
    angles = [RUSSELL_1980_ANGLES[word] for word in anchors]
    assert angles == sorted(angles)


@pytest.mark.parametrize(
    ("va", "quadrant"),
    [((0.5, 0.5), "Q1"), ((-0.5, 0.5), "Q2"), ((-0.5, -0.5), "Q3"), ((0.5, -0.5), "Q4"),
     ((0.0, 0.0), "Q3"), ((0.0, 0.2), "Q2"), ((0.2, 0.0), "Q4")],
)
def test_quadrant_of_follows_design_boundaries(va: tuple[float, float], quadrant: str) -> None:
    assert quadrant_of(*va) == quadrant


# --- Predictor ---------------------------------------------------------------------------------


def _check_prediction(prediction: Prediction, class_names: tuple[str, ...]) -> None:
    assert -1.5 < prediction.valence < 1.5 and -1.5 < prediction.arousal < 1.5
    assert prediction.quadrant == quadrant_of(prediction.valence, prediction.arousal)
    assert tuple(prediction.class_probs) == class_names
    assert math.isclose(sum(prediction.class_probs.values()), 1.0, rel_tol=1e-4)
    assert len(prediction.mood_words) == 3
    assert set(prediction.mood_words) <= set(RUSSELL_1980_ANGLES)


def test_predict_without_and_with_lyrics(predictor: Predictor, clip: Path) -> None:
    alone = predictor.predict(clip)
    lyrical = predictor.predict(clip, lyrics=MADE_UP_LYRICS[0])
    _check_prediction(alone, predictor.class_names)
    _check_prediction(lyrical, predictor.class_names)
    assert alone.path == str(clip) and alone.segments == ()
    assert not alone.used_lyrics and lyrical.used_lyrics
    assert (alone.valence, alone.arousal) != (lyrical.valence, lyrical.arousal)


def test_lyrics_file_and_text_agree(predictor: Predictor, clip: Path, tmp_path: Path) -> None:
    lyrics_file = tmp_path / "song.txt"
    lyrics_file.write_text(MADE_UP_LYRICS[2], encoding="utf-8")
    from_file = predictor.predict(clip, lyrics=lyrics_file)
    from_text = predictor.predict(clip, lyrics=MADE_UP_LYRICS[2])
    assert from_file == from_text


def test_blank_lyrics_are_not_used(predictor: Predictor, clip: Path) -> None:
    assert not predictor.predict(clip, lyrics="  \n ").used_lyrics


def test_missing_lyrics_file_names_it(predictor: Predictor, clip: Path, tmp_path: Path) -> None:
    with pytest.raises(LyricsError, match=r"nothere\.txt"):
        predictor.predict(clip, lyrics=tmp_path / "nothere.txt")


def test_whole_track_averages_its_windows(predictor: Predictor, tmp_path: Path) -> None:
    sr, n = 22050, round(predictor.window_s * 22050)
    rng = np.random.default_rng(1)
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / sr)
    noise = 0.2 * rng.standard_normal(n)
    for name, y in [("a", tone), ("b", noise), ("ab", np.concatenate([tone, noise]))]:
        sf.write(tmp_path / f"{name}.wav", y.astype(np.float32), sr)
    a, b, ab = (predictor.predict(tmp_path / f"{name}.wav") for name in ("a", "b", "ab"))
    for field in ("valence", "arousal"):
        mean = (getattr(a, field) + getattr(b, field)) / 2
        spread = abs(getattr(a, field) - getattr(b, field))
        assert abs(getattr(ab, field) - mean) <= 0.1 * spread + 1e-6


@pytest.mark.parametrize("segment_s", [1.0, 2.5, 5.0])
def test_segments_cover_the_track(predictor: Predictor, clip: Path, segment_s: float) -> None:
    prediction = predictor.predict(clip, segments=segment_s)
    segments = prediction.segments
    assert len(segments) == math.ceil(7.0 / segment_s)
    assert segments[0].start_s == 0.0
    assert segments[-1].end_s == pytest.approx(7.0, abs=0.01)
    for before, after in itertools.pairwise(segments):
        assert before.end_s == pytest.approx(after.start_s)
    assert all(math.isfinite(s.valence) and math.isfinite(s.arousal) for s in segments)


def test_segments_reflect_changes_over_time(predictor: Predictor, tmp_path: Path) -> None:
    sr, half = 22050, 6 * 22050
    quiet = 0.3 * np.sin(2 * np.pi * 220 * np.arange(half) / sr)
    loud = 0.5 * np.random.default_rng(0).standard_normal(half)
    path = tmp_path / "change.wav"
    sf.write(path, np.concatenate([quiet, loud]).astype(np.float32), sr)
    segments = predictor.predict(path, segments=3.0).segments
    first, last = segments[0], segments[-1]
    assert (first.valence, first.arousal) != pytest.approx((last.valence, last.arousal))


@pytest.mark.parametrize("segment_s", [0.0, 0.5, -3.0, float("nan")])
def test_bad_segments_rejected(predictor: Predictor, clip: Path, segment_s: float) -> None:
    with pytest.raises(ParameterError, match="segments"):
        predictor.predict(clip, segments=segment_s)


def test_unreadable_audio_raises_naming_the_file(predictor: Predictor, tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"missing\.wav"):
        predictor.predict(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match=r"broken\.mp3"):
        predictor.predict(write_corrupt(tmp_path / "broken.mp3"))


def test_load_rejects_unknown_models(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a model name"):
        Predictor.load(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match=r"no checkpoint\.json"):
        Predictor.load(tmp_path)


def test_shipped_model_loads_offline_and_predicts(clip: Path) -> None:
    from moodnet.predict.models import resolve_model_dir

    folder = resolve_model_dir(None)
    assert (folder / "checkpoint.json").is_file()
    assert folder.parent.name == "models"
    shipped = Predictor.load(device="cpu")
    prediction = shipped.predict(clip, lyrics="\n".join(MADE_UP_LYRICS))
    assert -1.0 <= prediction.valence <= 1.0 and -1.0 <= prediction.arousal <= 1.0
    assert set(prediction.class_probs) == {"Q1", "Q2", "Q3", "Q4"}
    assert prediction.used_lyrics


def test_previous_default_runs_in_float32_and_bf16(clip: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``--model musicnn-head`` (torch): bf16 inference moves outputs by < 0.03 (real bfloat16
    arithmetic, emulated where the CPU lacks it)."""
    monkeypatch.setattr("moodnet.core.native_bf16", lambda device: True)
    lyrics = "\n".join(MADE_UP_LYRICS)
    exact = Predictor.load("musicnn-head", device="cpu").predict(clip, lyrics=lyrics)
    fast = Predictor.load("musicnn-head", device="cpu", bf16=True).predict(clip, lyrics=lyrics)
    assert exact.used_lyrics
    assert fast.valence == pytest.approx(exact.valence, abs=0.03)
    assert fast.arousal == pytest.approx(exact.arousal, abs=0.03)
    assert (fast.valence, fast.arousal) != (exact.valence, exact.arousal)


def test_the_default_model_runs_without_torch_and_a_checkpoint_with_it(tmp_path: Path) -> None:
    assert not Predictor.load().runs_on_torch
    tiny = build_tiny_checkpoint(tmp_path / "va", task="va")
    assert Predictor.load(tiny, device="cpu").runs_on_torch


def test_va_only_checkpoint_has_no_class_probs(tmp_path: Path, clip: Path) -> None:
    predictor = Predictor.load(build_tiny_checkpoint(tmp_path / "va", task="va"), device="cpu")
    prediction = predictor.predict(clip)
    assert prediction.class_probs == {}
    assert prediction.quadrant == quadrant_of(prediction.valence, prediction.arousal)


def test_lyrics_only_checkpoint_needs_lyrics(tmp_path: Path, clip: Path) -> None:
    run = build_tiny_checkpoint(tmp_path / "lyrics", name="lyrics_cnn")
    predictor = Predictor.load(run, device="cpu")
    assert not predictor.uses_audio and predictor.window_s == 0.0
    prediction = predictor.predict(tmp_path / "not-even-read.mp3", lyrics=MADE_UP_LYRICS[1])
    assert prediction.used_lyrics and prediction.segments == ()
    with pytest.raises(LyricsError, match="lyrics only"):
        predictor.predict(clip)
    (result,) = predictor.predict_many([clip])
    assert isinstance(result, PredictionFailure) and "lyrics only" in result.error


def test_predict_many_keeps_order_and_reports_failures(
    predictor: Predictor, tmp_path: Path
) -> None:
    paths = [write_tone(tmp_path / f"t{i}.wav", seconds=3.0 + i, freq=200.0 + 150 * i, seed=i)
             for i in range(3)]
    bad = write_corrupt(tmp_path / "bad.ogg")
    lyrics_dir = tmp_path / "lyrics"
    lyrics_dir.mkdir()
    (lyrics_dir / "t1.txt").write_text(MADE_UP_LYRICS[1], encoding="utf-8")
    order = [paths[0], bad, paths[1], paths[2]]
    serial = list(predictor.predict_many(order, lyrics_dir=lyrics_dir, workers=1))
    assert [r.path for r in serial] == [str(p) for p in order]
    assert isinstance(serial[1], PredictionFailure) and "decode" in serial[1].error
    assert [r.used_lyrics for r in serial if isinstance(r, Prediction)] == [False, True, False]
    for pool in ("decode", "model"):
        pooled = list(predictor.predict_many(order, lyrics_dir=lyrics_dir, workers=2, pool=pool))
        assert [r.path for r in pooled] == [str(p) for p in order]
        assert isinstance(pooled[1], PredictionFailure)
        for one, other in zip(serial, pooled, strict=True):
            if isinstance(one, Prediction):
                assert isinstance(other, Prediction)
                assert other.used_lyrics == one.used_lyrics
                assert other.valence == pytest.approx(one.valence, abs=1e-5)
                assert other.arousal == pytest.approx(one.arousal, abs=1e-5)


def test_predict_many_rejects_bad_arguments(predictor: Predictor, clip: Path) -> None:
    with pytest.raises(ParameterError, match="workers"):
        list(predictor.predict_many([clip], workers=0))
    with pytest.raises(ParameterError, match="pool"):
        list(predictor.predict_many([clip], pool="threads"))


def test_prediction_round_trips_through_dict() -> None:
    prediction = Prediction(
        path="x.mp3", valence=0.25, arousal=-0.5, quadrant="Q4", class_probs={"Q4": 1.0},
        mood_words=("calm", "relaxed", "satisfied"), used_lyrics=True,
        segments=(Segment(0.0, 5.0, 0.2, -0.4),),
    )
    data = json.loads(json.dumps(prediction.to_dict()))
    assert Prediction.from_dict(data) == prediction


# --- demo and plot -----------------------------------------------------------------------------


def test_demo_clips_are_written_and_differ(tmp_path: Path) -> None:
    clips = synthesise_demo_clips(tmp_path, duration=6.0)
    assert sorted(c.intended_quadrant for c in clips) == ["Q1", "Q2", "Q3", "Q4"]
    loudness = {}
    for clip in clips:
        y, sr = sf.read(clip.audio_path)
        assert len(y) == pytest.approx(6.0 * sr, abs=2)
        assert np.abs(y).max() <= 1.0
        assert len(clip.lyrics_path.read_text(encoding="utf-8").split()) > 10
        loudness[clip.intended_quadrant] = float(np.sqrt(np.mean(y**2)))
    assert loudness["Q2"] > loudness["Q1"] > loudness["Q3"]


def test_run_demo_predicts_and_plots(predictor: Predictor, tmp_path: Path) -> None:
    result = run_demo(predictor, out_dir=tmp_path, duration=5.0)
    assert len(result.audio_only) == len(result.with_lyrics) == 4
    assert all(p is not None and p.used_lyrics for p in result.with_lyrics)
    assert result.plot_path.read_bytes().startswith(PNG_MAGIC)
    table = demo_table(result)
    assert all(clip.name in table for clip in result.clips)
    assert table.count("audio+lyrics") == 4


def test_plot_writes_png(tmp_path: Path) -> None:
    prediction = Prediction("a.wav", 0.3, 0.2, "Q1", {}, ("happy",), False,
                            (Segment(0, 5, 0.1, 0.1), Segment(5, 10, 0.4, 0.3)))
    path = plot_va_plane([prediction], path=tmp_path / "sub" / "va.png")
    assert path.read_bytes().startswith(PNG_MAGIC)


# --- moodnet predict ---------------------------------------------------------------------------


@pytest.fixture()
def music(tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    (folder / "nested").mkdir(parents=True)
    for i in range(3):
        write_tone(folder / f"song{i}.wav", seconds=3.0 + i, freq=220.0 * (i + 1), seed=i)
    write_tone(folder / "nested" / "deep.wav", seconds=3.5)
    write_corrupt(folder / "corrupt.mp3")
    (folder / "notes.txt").write_text("not audio", encoding="utf-8")
    return folder


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_cli_folder_with_corrupt_file(
    music: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    code = main(["predict", str(music), "--model", str(run_dir), "--output", str(out),
                 "--workers", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert "corrupt.mp3" in err and "skipped" in err
    rows = _csv_rows(out)
    assert sorted(Path(r["path"]).name for r in rows) == [
        "deep.wav", "song0.wav", "song1.wav", "song2.wav"]
    assert {"valence", "arousal", "quadrant", "p_Q1", "mood_words"} <= set(rows[0])
    for row in rows:
        assert row["quadrant"] == quadrant_of(float(row["valence"]), float(row["arousal"]))
        assert len(row["mood_words"].split("; ")) == 3


def test_cli_resumes_and_repairs_a_torn_row(
    music: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    args = ["predict", str(music), "--model", str(run_dir), "--output", str(out),
            "--workers", "1"]
    main(args)
    complete = out.read_text(encoding="utf-8")
    torn = complete[: complete.rstrip("\n").rfind("\n") + 1] + complete.splitlines()[-1][:12]
    out.write_text(torn, encoding="utf-8")
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "3 track(s) already" in err and "2 to go" in err
    rows = _csv_rows(out)
    assert len(rows) == 4 == len({r["path"] for r in rows})
    assert out.read_text(encoding="utf-8") == complete


def test_cli_jsonl_with_segments_and_plot(
    music: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, plot = tmp_path / "out.jsonl", tmp_path / "va.png"
    song = music / "song2.wav"
    code = main(["predict", str(song), "--model", str(run_dir), "--output", str(out),
                 "--segments", "2", "--plot", str(plot), "--lyrics", str(_lyrics(tmp_path))])
    assert code == 0
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["used_lyrics"] is True
    assert len(record["segments"]) == 3
    assert plot.read_bytes().startswith(PNG_MAGIC)


def _lyrics(tmp_path: Path) -> Path:
    path = tmp_path / "lyrics.txt"
    path.write_text(MADE_UP_LYRICS[0], encoding="utf-8")
    return path


def test_cli_table_and_json_to_stdout(
    music: Path, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    song = str(music / "song0.wav")
    assert main(["predict", song, "--model", str(run_dir)]) == 0
    table = capsys.readouterr().out
    assert "valence" in table.splitlines()[0] and "song0.wav" in table
    assert main(["predict", song, "--model", str(run_dir), "--format", "json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["path"] == song and record["quadrant"] in {"Q1", "Q2", "Q3", "Q4"}


@pytest.mark.parametrize(
    "extra",
    [["--lyrics", "LYRICS_FILE"], ["--segments", "0.2"], ["--workers", "0"],
     ["--plot", "out.jpg"], ["--format", "xml"]],
)
def test_cli_usage_errors_exit_2(
    music: Path, run_dir: Path, tmp_path: Path, extra: list[str]
) -> None:
    extra = [str(_lyrics(tmp_path)) if e == "LYRICS_FILE" else e for e in extra]
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(music), "--model", str(run_dir), *extra])
    assert exit_info.value.code == 2


def test_cli_no_audio_found_exits_2(tmp_path: Path, run_dir: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(tmp_path), "--model", str(run_dir)])
    assert exit_info.value.code == 2


def test_cli_help_states_the_va_scale(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    assert "[-1, 1]" in capsys.readouterr().out


def test_cli_demo(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--model", str(run_dir), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "bright_major_dance" in out and "audio+lyrics" in out
    assert (tmp_path / "demo_va_plane.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("duration", "segment", "expected"),
    [
        (45.02, 15.0, [(0.0, 15.0), (15.0, 30.0), (30.0, 45.02)]),  # a 0.02 s sliver joins
        (46.5, 15.0, [(0.0, 15.0), (15.0, 30.0), (30.0, 45.0), (45.0, 46.5)]),
        (10.0, 15.0, [(0.0, 10.0)]),
    ],
)
def test_segment_spans_cover_the_track_without_slivers(
    duration: float, segment: float, expected: list[tuple[float, float]]
) -> None:
    from moodnet.predict.fast_predict import segment_spans

    assert segment_spans(duration, segment) == expected
