"""Pictures of predictions as PNGs: the valence/arousal plane, and valence/arousal over time.

:func:`plot_predictions` (``moodnet predict --plot``) picks the picture by the number of
tracks: one track gets valence and arousal against time beside its path on the plane; up to
:data:`SMALL_MULTIPLES_MAX` tracks get the plane with numbered points and one small
over-time panel per track; more get the plane with numbered points and a numbered list.
:func:`plot_va_plane` draws the plane alone (``moodnet demo``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moodnet.core import QUADRANTS, quadrant_caption
from moodnet.io_utils import atomic_write
from moodnet.predict.moods import label_levels, mood_words

Placements = Mapping[str, Sequence[float]] | None

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation

    from moodnet.predict.results import Prediction

SMALL_MULTIPLES_MAX = 12
"""Up to this many tracks, each gets its own over-time panel; beyond, a numbered list."""
LIST_MAX = 120
"""Tracks named in the numbered list (and numbered on the plane); the rest are dots."""
POINT_LABEL_GID = "point-label"
"""The ``gid`` of the labels naming the points (placed so that they do not overlap)."""
VALENCE_COLOUR, AROUSAL_COLOUR = "tab:blue", "tab:red"

_QUADRANT_PLACES = {
    "Q1": (0.75, 1.2), "Q2": (-0.75, 1.2), "Q3": (-0.75, -1.25), "Q4": (0.75, -1.25)
}  # fmt: skip
"""Where each quadrant's caption is drawn (data coordinates)."""
_LABEL_OFFSETS = tuple(
    (round(r * math.cos(a), 1), round(r * math.sin(a), 1))
    for r in (7.0, 13.0, 20.0, 28.0)
    for a in (math.pi / 4 * k + (math.pi / 8 if r > 10 else 0.0) for k in range(8))
)
"""Candidate label positions around a point (offset points), nearest first."""


def plot_predictions(
    predictions: Sequence[Prediction], *, path: str | Path, title: str | None = None,
    dpi: int = 110, placements: Placements = None,
) -> Path:
    """Write the picture of :func:`build_figure` as a PNG (atomically, parents created).

    Parameters
    ----------
    predictions : as in :func:`build_figure`
    path : where the PNG goes
    title : as in :func:`build_figure`
    dpi : resolution of the PNG
    placements : where the model places the mood words (``Predictor.mood_word_placements``);
        None: Russell's circle

    Returns
    -------
    path : Path of the written PNG
    """
    figure = build_figure(predictions, title=title, placements=placements)
    return _save(figure, path=path, dpi=dpi)


def build_figure(
    predictions: Sequence[Prediction], *, title: str | None = None, placements: Placements = None,
) -> Figure:
    """The picture of one track over time, or of a folder of tracks.

    Parameters
    ----------
    predictions : predictions, valence/arousal on [-1, 1]; those of the same path are one
        track (e.g. with and without lyrics). Segments, when present, are drawn over time.
    title : the figure's title; default names the track(s) and the model id(s)

    Returns
    -------
    figure : matplotlib Figure (Agg canvas), laid out, its point labels placed
    """
    tracks = _by_track(predictions)
    models = sorted({p.model_id for p in predictions if p.model_id})
    suffix = f"  ·  model {', '.join(models)}" if models else ""
    if len(tracks) == 1:
        group = next(iter(tracks.values()))
        default = f"{Path(group[0].path).name}: valence and arousal over time{suffix}"
        return _one_track_figure(group, title=title or default, placements=placements)
    default = f"{len(tracks)} tracks on the valence / arousal plane{suffix}"
    if len(tracks) <= SMALL_MULTIPLES_MAX:
        return _small_multiples_figure(tracks, title=title or default, placements=placements)
    return _listed_figure(tracks, title=title or default, placements=placements)


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
    label_points : write each file's stem beside its first point (labels do not overlap)
    dpi : resolution of the PNG

    Returns
    -------
    path : Path of the written PNG
    """
    figure = _new_figure((7.5, 7.5))
    axes = figure.add_subplot()
    _draw_frame(axes)
    tracks = _by_track(predictions)
    for index, group in enumerate(tracks.values()):
        _draw_track(axes, group, colour=f"C{index % 10}")
    if any(p.used_lyrics for p in predictions):
        _legend(axes)
    axes.set_title(title or "Valence / arousal")
    labels = [(g[0].valence, g[0].arousal, Path(g[0].path).stem, f"C{i % 10}")
              for i, g in enumerate(tracks.values())] if label_points else []
    _finish(figure, {axes: labels})
    return _save(figure, path=path, dpi=dpi)


# --- figures ----------------------------------------------------------------------------------


def _one_track_figure(
    group: list[Prediction], *, title: str, placements: Placements = None
) -> Figure:
    figure = _new_figure((13.5, 5.8))
    grid = figure.add_gridspec(1, 2, width_ratios=(1.45, 1.0))
    timeline, plane = figure.add_subplot(grid[0]), figure.add_subplot(grid[1])
    timed = _with_segments(group)
    if timed is None:
        _no_segments(timeline)
    else:
        _draw_over_time(timeline, timed, legend=True)
    _draw_frame(plane, placements=placements)
    _draw_track(plane, group, colour="C0", time_colours=True)
    if any(p.used_lyrics for p in group):
        _legend(plane)
    plane.set_title("path on the plane (segments coloured by time)", fontsize=10)
    figure.suptitle(title, fontsize=12)
    first = group[0]
    _finish(figure, {plane: [(first.valence, first.arousal, "whole track", "0.15")]})
    return figure


def _small_multiples_figure(
    tracks: dict[str, list[Prediction]], *, title: str, placements: Placements = None
) -> Figure:
    columns = 2 if len(tracks) <= 4 else 3
    rows = math.ceil(len(tracks) / columns)
    figure = _new_figure((7.2 + 3.6 * columns, max(7.4, 2.35 * rows + 1.0)))
    outer = figure.add_gridspec(1, 2, width_ratios=(7.2, 3.6 * columns))
    plane = figure.add_subplot(outer[0])
    _draw_frame(plane, placements=placements)
    labels = _draw_numbered(plane, tracks)
    panels = outer[1].subgridspec(rows, columns, hspace=0.75, wspace=0.3)
    for index, group in enumerate(tracks.values()):
        axes = figure.add_subplot(panels[index // columns, index % columns])
        timed = _with_segments(group)
        if timed is None:
            _no_segments(axes)
        else:
            _draw_over_time(axes, timed, legend=False, compact=True)
        axes.set_title(_short(f"{index + 1}. {Path(group[0].path).name}", 34), fontsize=9,
                       color=f"C{index % 10}", loc="left")
    _over_time_legend(figure)
    figure.suptitle(title, fontsize=12)
    _finish(figure, {plane: labels})
    return figure


def _listed_figure(
    tracks: dict[str, list[Prediction]], *, title: str, placements: Placements = None
) -> Figure:
    shown = min(len(tracks), LIST_MAX)
    per_column = 41 if len(tracks) > shown else 40  # room for the "… and N more" line
    columns = math.ceil(shown / 40)
    figure = _new_figure((7.6 + 3.4 * columns, 8.0))
    grid = figure.add_gridspec(1, 2, width_ratios=(7.6, 3.4 * columns))
    plane, listing = figure.add_subplot(grid[0]), figure.add_subplot(grid[1])
    _draw_frame(plane, placements=placements)
    labels = _draw_numbered(plane, tracks)
    listing.axis("off")
    lines = [f"{i + 1:>3}  {p.quadrant}  {p.valence:+.2f} {p.arousal:+.2f}  "
             f"{_short(Path(p.path).name, 28)}"
             for i, p in enumerate(g[0] for g in list(tracks.values())[:shown])]
    if len(tracks) > shown:
        lines.append(f"… and {len(tracks) - shown} more (dots without numbers)")
    for column in range(columns):
        chunk = lines[column * per_column:(column + 1) * per_column]
        listing.text(column / columns, 1.0, "  #  quad   val   aro  file\n" + "\n".join(chunk),
                     family="monospace", fontsize=7, va="top", ha="left",
                     transform=listing.transAxes)
    figure.suptitle(title, fontsize=12)
    _finish(figure, {plane: labels})
    return figure


# --- parts ------------------------------------------------------------------------------------


def _new_figure(size: tuple[float, float]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, *, path: str | Path, dpi: int) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def _by_track(predictions: Sequence[Prediction]) -> dict[str, list[Prediction]]:
    tracks: dict[str, list[Prediction]] = {}
    for prediction in predictions:
        tracks.setdefault(prediction.path, []).append(prediction)
    return tracks


def _with_segments(group: list[Prediction]) -> Prediction | None:
    return next((p for p in group if p.segments), None)


def _short(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its middle cut out (names differ at the end)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def _legend(axes: Axes) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", color="0.4", linestyle="", label="audio"),
        Line2D([], [], marker="s", color="0.4", linestyle="", label="audio + lyrics"),
    ]
    axes.legend(handles=handles, loc="upper center", ncol=2, fontsize=8, frameon=False)


def _over_time_legend(figure: Figure) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=VALENCE_COLOUR, marker="o", markersize=3, label="valence"),
               Line2D([], [], color=AROUSAL_COLOUR, marker="o", markersize=3, label="arousal")]
    figure.legend(handles=handles, loc="upper right", ncol=2, fontsize=9, frameon=False)


def _draw_frame(axes: Axes, *, placements: Placements = None) -> None:
    from matplotlib.patches import Circle

    axes.set_xlim(-1.3, 1.3)
    axes.set_ylim(-1.3, 1.3)
    axes.set_aspect("equal")
    axes.set_xticks([-1.0, -0.5, 0.0, 0.5, 1.0])
    axes.set_yticks([-1.0, -0.5, 0.0, 0.5, 1.0])
    axes.tick_params(labelsize=8)
    axes.axhline(0.0, color="0.6", linewidth=0.8)
    axes.axvline(0.0, color="0.6", linewidth=0.8)
    axes.add_patch(Circle((0.0, 0.0), 1.0, fill=False, color="0.85", linewidth=0.8))
    axes.set_xlabel("valence (negative → positive), [-1, 1]")
    axes.set_ylabel("arousal (calm → energetic), [-1, 1]")
    for quadrant in QUADRANTS:
        x, y = _QUADRANT_PLACES[quadrant]
        axes.text(x, y, quadrant_caption(quadrant), ha="center", va="bottom", fontsize=8,
                  color="0.45")
    levels = label_levels()
    for word in mood_words(placements):
        axes.plot(word.valence, word.arousal, marker=".", color="0.78", markersize=3)
        scale = 1.06 + 0.13 * levels[word.word]
        axes.text(
            word.valence * scale, word.arousal * scale, word.word,
            fontsize=6.5, color="0.6", ha="left" if word.valence >= 0 else "right", va="center",
        )


def _draw_track(
    axes: Axes, group: list[Prediction], *, colour: str, time_colours: bool = False,
) -> None:
    """The track's points (circle: audio, square: with lyrics), their dotted link and the
    path of its segments (an arrow to the last; dots coloured by time when asked)."""
    if len(group) > 1:
        axes.plot([p.valence for p in group], [p.arousal for p in group], color=colour,
                  linestyle=":", linewidth=1.0)
    for prediction in group:
        if prediction.segments:
            _draw_path(axes, prediction, colour=colour, time_colours=time_colours)
        axes.plot(prediction.valence, prediction.arousal, marker="s" if prediction.used_lyrics
                  else "o", color=colour, markersize=9, markeredgecolor="black", zorder=4)


def _draw_path(axes: Axes, prediction: Prediction, *, colour: str, time_colours: bool) -> None:
    xs = [segment.valence for segment in prediction.segments]
    ys = [segment.arousal for segment in prediction.segments]
    axes.plot(xs, ys, color=colour, linewidth=1.0, alpha=0.5)
    if len(xs) > 1:
        axes.annotate("", xy=(xs[-1], ys[-1]), xytext=(xs[-2], ys[-2]),
                      arrowprops={"arrowstyle": "->", "color": colour, "alpha": 0.7})
    if not time_colours:
        axes.plot(xs, ys, color=colour, linestyle="", marker="o", markersize=2.5, alpha=0.6)
        return
    middles = [(s.start_s + s.end_s) / 2 for s in prediction.segments]
    dots = axes.scatter(xs, ys, c=middles, cmap="viridis", s=28, zorder=3, edgecolors="white",
                        linewidths=0.5)
    bar = axes.figure.colorbar(dots, ax=axes, fraction=0.04, pad=0.02)
    bar.set_label("time (s)", fontsize=8)
    bar.ax.tick_params(labelsize=7)


def _draw_numbered(axes: Axes, tracks: dict[str, list[Prediction]]) -> list[_Label]:
    """Every track as a coloured point (its first prediction); the labels (its number) to
    place for the first :data:`LIST_MAX`."""
    labels: list[_Label] = []
    for index, group in enumerate(tracks.values()):
        colour = f"C{index % 10}"
        big = len(tracks) <= SMALL_MULTIPLES_MAX  # the paths are in the over-time panels
        axes.plot(group[0].valence, group[0].arousal, marker="o", color=colour,
                  markersize=8 if big else 5, markeredgecolor="black",
                  markeredgewidth=0.8 if big else 0.5, zorder=4)
        if index < LIST_MAX:
            labels.append((group[0].valence, group[0].arousal, str(index + 1), colour))
    return labels


def _draw_over_time(
    axes: Axes, prediction: Prediction, *, legend: bool, compact: bool = False,
) -> None:
    """Valence and arousal of each segment at its middle, segment bands shaded, the
    whole-track values as dashed lines."""
    segments = prediction.segments
    for number, segment in enumerate(segments):
        axes.axvspan(segment.start_s, segment.end_s, color="0.92" if number % 2 else "0.97",
                     linewidth=0, zorder=0)
    middles = [(s.start_s + s.end_s) / 2 for s in segments]
    size = 2.5 if compact else 4.5
    for name, colour, values, whole in (
        ("valence", VALENCE_COLOUR, [s.valence for s in segments], prediction.valence),
        ("arousal", AROUSAL_COLOUR, [s.arousal for s in segments], prediction.arousal),
    ):
        axes.plot(middles, values, color=colour, marker="o", markersize=size,
                  linewidth=1.2 if compact else 1.8, label=name)
        axes.axhline(whole, color=colour, linestyle="--", linewidth=0.8, alpha=0.6,
                     label=f"{name} of the whole track")
    axes.axhline(0.0, color="0.5", linewidth=0.7)
    axes.set_xlim(segments[0].start_s, segments[-1].end_s)
    axes.set_ylim(-1.05, 1.05)
    axes.set_yticks([-1.0, 0.0, 1.0] if compact else [-1.0, -0.5, 0.0, 0.5, 1.0])
    axes.tick_params(labelsize=7 if compact else 9)
    axes.set_xlabel("seconds", fontsize=7 if compact else 10)
    if not compact:
        axes.set_ylabel("[-1, 1]: negative / calm → positive / energetic")
        width = segments[0].end_s - segments[0].start_s
        axes.set_title(f"over time: {len(segments)} segments of {width:g} s (shaded bands)",
                       fontsize=10)
    if legend:
        axes.legend(loc="lower left", ncol=2, fontsize=8, frameon=True, framealpha=0.85)


def _no_segments(axes: Axes) -> None:
    axes.axis("off")
    axes.text(0.5, 0.5, "no segments\n(predict with --segments)", ha="center", va="center",
              fontsize=8, color="0.5", transform=axes.transAxes)


# --- labels that do not overlap -----------------------------------------------------------------


_Label = tuple[float, float, str, str]
"""(x, y, text, colour) of a point label, data coordinates."""


def _finish(figure: Figure, labels: dict[Axes, list[_Label]]) -> None:
    """Lay the figure out, then place the labels (the layout must not move them after)."""
    figure.tight_layout()
    figure.canvas.draw()
    for axes, items in labels.items():
        _place_labels(axes, items)


def _place_labels(axes: Axes, labels: list[_Label]) -> None:
    """Greedy placement: each label takes the nearest candidate position that overlaps no
    label placed before it and no point, else the least crowded one."""
    renderer: Any = axes.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    obstacles = [text.get_window_extent(renderer) for text in axes.texts]
    points = [axes.transData.transform((x, y)) for x, y, _, _ in labels]
    placed: list[Any] = []
    for x, y, text, colour in labels:
        best: tuple[float, Annotation] | None = None
        for dx, dy in _LABEL_OFFSETS:
            label = axes.annotate(
                text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=8,
                fontweight="bold", color=colour, gid=POINT_LABEL_GID, zorder=6,
                ha="left" if dx >= 0 else "right", va="bottom" if dy >= 0 else "top",
            )
            box = label.get_window_extent(renderer)
            cost = _overlap_cost(box, placed=placed, points=points, words=obstacles)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, label)
            else:
                label.remove()
            if cost == 0:
                break
        if best is not None:
            placed.append(best[1].get_window_extent(renderer))


def _overlap_cost(box: Any, *, placed: list[Any], points: list[Any], words: list[Any]) -> float:
    cost = 10.0 * sum(box.overlaps(other) for other in placed)
    cost += 5.0 * sum(box.padded(4).contains(px, py) for px, py in points)
    return cost + sum(box.overlaps(word) for word in words)
