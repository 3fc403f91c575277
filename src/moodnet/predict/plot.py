"""The valence/arousal plane as a PNG: predictions, segment trajectories and mood words."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from moodnet.core import quadrant_caption
from moodnet.io_utils import atomic_write
from moodnet.predict.moods import label_levels, mood_words

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from moodnet.predict.predictor import Prediction

_QUADRANT_PLACES = {
    "Q1": (0.75, 1.2), "Q2": (-0.75, 1.2), "Q3": (-0.75, -1.25), "Q4": (0.75, -1.25)
}  # fmt: skip
"""Where each quadrant's caption is drawn (data coordinates)."""


def plot_va_plane(
    predictions: Sequence[Prediction],
    *,
    path: str | Path,
    title: str | None = None,
    label_points: bool = True,
    dpi: int = 120,
) -> Path:
    """Draw predictions on the valence/arousal plane and write a PNG.

    Parameters
    ----------
    predictions : sequence of Prediction
        Each is drawn as a point at (valence, arousal) on the [-1, 1] scale: a circle from
        audio alone, a square with lyrics; its segments, if any, as a line from the first
        window to the last. Predictions of the same file share a colour and are joined by a
        dotted line (e.g. with and without lyrics).
    path : where the PNG goes (written atomically; parent folders are created)
    title : figure title; default "Valence / arousal"
    label_points : write each file's stem beside its first point
    dpi : resolution of the PNG

    Returns
    -------
    path : Path of the written PNG
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 7.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    _draw_frame(axes)
    by_file: dict[str, list[Prediction]] = {}
    for prediction in predictions:
        by_file.setdefault(prediction.path, []).append(prediction)
    for index, group in enumerate(by_file.values()):
        colour = f"C{index % 10}"
        if len(group) > 1:
            axes.plot([p.valence for p in group], [p.arousal for p in group], color=colour,
                      linestyle=":", linewidth=1.0)
        for number, prediction in enumerate(group):
            _draw_prediction(axes, prediction, colour=colour, label=label_points and number == 0)
    if any(p.used_lyrics for p in predictions):
        _legend(axes)
    axes.set_title(title or "Valence / arousal")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def _legend(axes: Axes) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", color="0.4", linestyle="", label="audio"),
        Line2D([], [], marker="s", color="0.4", linestyle="", label="audio + lyrics"),
    ]
    axes.legend(handles=handles, loc="upper center", ncol=2, fontsize=8, frameon=False)


def _draw_frame(axes: Axes) -> None:
    from matplotlib.patches import Circle

    axes.set_xlim(-1.3, 1.3)
    axes.set_ylim(-1.3, 1.3)
    axes.set_aspect("equal")
    axes.axhline(0.0, color="0.6", linewidth=0.8)
    axes.axvline(0.0, color="0.6", linewidth=0.8)
    axes.add_patch(Circle((0.0, 0.0), 1.0, fill=False, color="0.85", linewidth=0.8))
    axes.set_xlabel("valence (negative → positive), [-1, 1]")
    axes.set_ylabel("arousal (calm → energetic), [-1, 1]")
    for quadrant, (x, y) in _QUADRANT_PLACES.items():
        axes.text(x, y, quadrant_caption(quadrant), ha="center", va="bottom", fontsize=8,
                  color="0.45")
    levels = label_levels()
    for word in mood_words():
        axes.plot(word.valence, word.arousal, marker=".", color="0.7", markersize=4)
        scale = 1.06 + 0.13 * levels[word.word]
        axes.text(
            word.valence * scale, word.arousal * scale, word.word,
            fontsize=7, color="0.5", ha="left" if word.valence >= 0 else "right", va="center",
        )


def _draw_prediction(axes: Axes, prediction: Prediction, *, colour: str, label: bool) -> None:
    if prediction.segments:
        xs = [segment.valence for segment in prediction.segments]
        ys = [segment.arousal for segment in prediction.segments]
        axes.plot(xs, ys, color=colour, linewidth=1.0, alpha=0.6, marker="o", markersize=2.5)
        axes.annotate(
            "", xy=(xs[-1], ys[-1]), xytext=(xs[max(len(xs) - 2, 0)], ys[max(len(ys) - 2, 0)]),
            arrowprops={"arrowstyle": "->", "color": colour, "alpha": 0.6},
        )
    marker = "s" if prediction.used_lyrics else "o"
    axes.plot(prediction.valence, prediction.arousal, marker=marker, color=colour, markersize=9,
              markeredgecolor="black")
    if label:
        axes.annotate(
            Path(prediction.path).stem, (prediction.valence, prediction.arousal),
            xytext=(6, 6), textcoords="offset points", fontsize=8, color=colour,
        )
