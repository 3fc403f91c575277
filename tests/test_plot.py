"""Pictures of ``moodnet predict --plot``: one track over time, a folder on the plane."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from moodnet.cli import main
from moodnet.core import quadrant_of
from moodnet.predict.demo import synthesise_mood_change
from moodnet.predict.plot import (
    LIST_MAX,
    POINT_LABEL_GID,
    SMALL_MULTIPLES_MAX,
    build_figure,
    plot_predictions,
)
from moodnet.predict.results import Prediction, Segment

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _prediction(name: str, rng: np.random.Generator, *, centre: tuple[float, float],
                spread: float = 0.2, n_segments: int = 6) -> Prediction:
    segments = []
    for k in range(n_segments):
        v, a = np.clip(np.asarray(centre) + rng.normal(0.0, spread, 2), -1, 1)
        segments.append(Segment(3.0 * k, 3.0 * k + 3.0, float(v), float(a)))
    v = float(np.mean([s.valence for s in segments]))
    a = float(np.mean([s.arousal for s in segments]))
    return Prediction(f"/music/{name}.mp3", v, a, quadrant_of(v, a), segments=tuple(segments),
                      model_id="tiny-model")


def _folder(n: int, *, seed: int = 0, spread: float = 0.08) -> list[Prediction]:
    rng = np.random.default_rng(seed)
    return [_prediction(f"track {i:02d} of a long album title", rng, centre=(0.3, 0.2),
                        spread=spread) for i in range(n)]


def _labels(figure: Any) -> list[Any]:
    return [t for axes in figure.axes for t in axes.texts if t.get_gid() == POINT_LABEL_GID]


def _assert_no_overlap(figure: Any) -> None:
    renderer = figure.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _labels(figure)]
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"labels {a} and {b} overlap"


def test_one_track_draws_valence_and_arousal_against_time() -> None:
    prediction = _prediction("song", np.random.default_rng(1), centre=(0.0, 0.0))
    figure = build_figure([prediction])
    timeline = figure.axes[0]
    lines = {line.get_label(): line for line in timeline.get_lines()}
    middles = [(s.start_s + s.end_s) / 2 for s in prediction.segments]
    np.testing.assert_allclose(lines["valence"].get_xdata(), middles)
    np.testing.assert_allclose(lines["valence"].get_ydata(),
                               [s.valence for s in prediction.segments])
    np.testing.assert_allclose(lines["arousal"].get_ydata(),
                               [s.arousal for s in prediction.segments])
    assert len(timeline.patches) == len(prediction.segments)  # one shaded band per segment
    assert timeline.get_xlim() == (0.0, 18.0)
    assert "tiny-model" in figure.get_suptitle() and "song.mp3" in figure.get_suptitle()
    assert any("time" in axes.get_ylabel() for axes in figure.axes)  # the plane's colour bar


def test_a_folder_gets_numbered_points_and_one_panel_per_track() -> None:
    predictions = _folder(SMALL_MULTIPLES_MAX)
    figure = build_figure(predictions)
    assert sorted(int(t.get_text()) for t in _labels(figure)) == list(
        range(1, SMALL_MULTIPLES_MAX + 1))
    titles = [axes.get_title(loc="left") for axes in figure.axes[1:]]
    assert len(titles) == SMALL_MULTIPLES_MAX
    assert titles[0].startswith("1. track 00") and titles[-1].startswith("12. track 11")
    _assert_no_overlap(figure)


def test_a_crowded_large_folder_gets_a_list_and_labels_that_do_not_overlap() -> None:
    predictions = _folder(30, spread=0.1)
    figure = build_figure(predictions)
    assert len(_labels(figure)) == 30
    _assert_no_overlap(figure)
    listing = "\n".join(t.get_text() for axes in figure.axes for t in axes.texts
                        if "quad" in t.get_text())
    assert " 30  " in listing and "title.mp3" in listing  # names keep their ends


def test_beyond_the_list_the_rest_are_dots(tmp_path: Path) -> None:
    predictions = _folder(LIST_MAX + 5, spread=0.5)
    path = plot_predictions(predictions, path=tmp_path / "many.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
    figure = build_figure(predictions)
    assert len(_labels(figure)) == LIST_MAX
    assert any("and 5 more" in t.get_text() for axes in figure.axes for t in axes.texts)


def test_predict_plot_draws_3_s_segments_without_putting_them_in_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import moodnet.predict.plot as plot

    drawn: list[Prediction] = []

    def recording(predictions: list[Prediction], **kwargs: Any) -> Path:
        drawn.extend(predictions)
        return plot_predictions(predictions, **kwargs)

    monkeypatch.setattr(plot, "plot_predictions", recording)
    song = synthesise_mood_change(tmp_path / "calm then loud.wav", calm_s=6.0, loud_s=6.0)
    png = tmp_path / "over time.png"
    assert main(["predict", str(song), "--plot", str(png), "--format", "json",
                 "--workers", "1"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["segments"] == []  # not asked for
    assert [(s.start_s, s.end_s) for s in drawn[0].segments] == [
        (0.0, 3.0), (3.0, 6.0), (6.0, 9.0), (9.0, 12.0)]
    assert png.read_bytes().startswith(PNG_MAGIC)
