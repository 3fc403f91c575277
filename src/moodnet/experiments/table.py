"""The results table of the paper's port: rows = targets, columns = modality x split.

Rows: arousal R², valence R² (one joint VA model per modality, as the paper), then the accuracy
of one classifier per label scheme (``kmeans4/16/64``, ``abs4/16/64`` and the dataset's own
classes, ``given``). Columns: ``audio``, ``lyrics``, ``bimodal`` (mid-level fusion) and
``late`` (late fusion of the audio and lyrics models, weight chosen on validation), and
optionally the classical baselines ``svm_audio`` (SVR/SVC on audio descriptors) and
``svm_lyrics`` (on lexicon, stylistic and TF-IDF lyric features), each on
``train`` and ``test``; every cell is ``value [95% CI]``, and the chance column gives the
train-mean R² / train-majority and uniform accuracy on test. A cell that cannot be computed
(e.g. more k-means clusters than distinct VA points) says why.

:func:`compute_table` trains every needed model with the training loop (normalisation, label
schemes and vocabulary fitted on the train split only); :func:`write_table` writes
``table.md``, ``table.csv`` (every metric, long format), ``results.json`` and
``va_scatter.png`` (test predictions against targets).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.core import json_safe
from moodnet.errors import ConfigError, MoodnetError, ParameterError
from moodnet.evaluation.evaluate import Evaluation, evaluate_arrays, evaluate_predictions
from moodnet.evaluation.metrics import Estimate
from moodnet.io_utils import atomic_write, atomic_write_text

if TYPE_CHECKING:
    from moodnet.models.arrays import ArrayData
    from moodnet.models.checkpoint import Checkpoint
    from moodnet.models.config import ModelConfig
    from moodnet.training.config import TrainConfig
    from moodnet.training.data import Dataset, LabelledData

DEFAULT_SCHEMES = ("va", "kmeans4", "kmeans16", "kmeans64", "abs4", "abs16", "abs64", "given")
MODALITIES = ("audio", "lyrics", "bimodal", "late")
CLASSICAL = ("svm_audio", "svm_lyrics")
ALL_MODALITIES = MODALITIES + CLASSICAL
AUDIO_MODALITIES = frozenset({"audio", "bimodal", "late", "svm_audio"})
"""Columns that read the feature cache; a table without them needs no ``moodnet extract``."""
SPLITS = ("train", "test")
DEFAULT_MODELS = {"audio": "paper_audio", "lyrics": "lyrics_cnn", "bimodal": "mid_fusion"}
"""The model of each trained column when the base config holds none for it."""


@dataclass
class CellResult:
    """The evaluations of one (label scheme, modality) model, or why there is none."""

    scheme: str
    modality: str
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    note: str = ""
    seconds: float = 0.0
    best_epoch: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResultsTable:
    """All cells of a table run, with what it was run on."""

    cells: list[CellResult]
    schemes: tuple[str, ...]
    modalities: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def cell(self, scheme: str, modality: str) -> CellResult | None:
        for cell in self.cells:
            if cell.scheme == scheme and cell.modality == modality:
                return cell
        return None

    def rows(self) -> list[tuple[str, str, str]]:
        """(row label, scheme, metric key) of the main table."""
        rows = []
        for scheme in self.schemes:
            if scheme == "va":
                rows += [("Arousal (R²)", "va", "arousal"), ("Valence (R²)", "va", "valence")]
            else:
                rows.append((f"{scheme} (accuracy)", scheme, "accuracy"))
        return rows

    def value(self, scheme: str, modality: str, split: str, metric: str) -> Estimate | str:
        """The cell's estimate, or the reason it is missing."""
        cell = self.cell(scheme, modality)
        if cell is None:
            return "not run"
        evaluation = cell.evaluations.get(split)
        if evaluation is None:
            return cell.note or "n/a"
        return _metric_of(evaluation, metric)

    def chance(self, scheme: str, metric: str) -> str:
        """The chance level on test of a row, in words."""
        for modality in self.modalities:
            cell = self.cell(scheme, modality)
            evaluation = cell.evaluations.get("test") if cell else None
            if evaluation is None:
                continue
            if evaluation.regression is not None and metric in ("valence", "arousal"):
                return f"{evaluation.regression[metric].chance_r2.value:.3f}"
            if evaluation.classification is not None:
                report = evaluation.classification
                return f"{report.chance_majority.value:.3f} / {report.chance_uniform:.3f}"
        return "n/a"

    def to_markdown(self) -> str:
        header = ["Label"] + [f"{m} {s}" for m in self.modalities for s in SPLITS]
        header.append("chance (test)")
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for label, scheme, metric in self.rows():
            values = [
                _format(self.value(scheme, m, s, metric)) for m in self.modalities for s in SPLITS
            ]
            lines.append(
                f"| {label} | " + " | ".join(values) + f" | {self.chance(scheme, metric)} |"
            )
        notes = [
            "",
            "Cells: value [95% bootstrap CI over tracks]. Chance: R² of predicting the train mean;"
            " accuracy of the train majority class / of uniform guessing (1/K).",
            f"bimodal = mid-level fusion; late = late fusion (audio weight chosen on validation)."
            f" Tracks: {self.meta.get('n_tracks', {})}.",
        ]
        weights = {c.scheme: c.extra["late_weight"] for c in self.cells if "late_weight" in c.extra}
        if weights:
            notes.append(f"Late-fusion audio weights: {weights}.")
        missing = sorted({c.note for c in self.cells if c.note})
        notes += [f"Missing cells: {note}" for note in missing]
        if "command" in self.meta:
            notes.append(f"Made by `{self.meta['command']}` (commit {self.meta.get('commit')}, "
                         f"moodnet {self.meta.get('moodnet_version')}, seed "
                         f"{self.meta.get('seed')}).")
        return "\n".join(lines + notes) + "\n"

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(
            ["scheme", "modality", "split", "metric", "value", "low", "high", "n", "note"]
        )
        for cell in self.cells:
            if not cell.evaluations:
                writer.writerow([cell.scheme, cell.modality, "", "", "", "", "", "", cell.note])
            for split, evaluation in cell.evaluations.items():
                for metric, estimate in _all_metrics(evaluation):
                    writer.writerow(
                        [
                            cell.scheme,
                            cell.modality,
                            split,
                            metric,
                            f"{estimate.value:.6g}",
                            f"{estimate.low:.6g}",
                            f"{estimate.high:.6g}",
                            len(evaluation.ids),
                            cell.note,
                        ]
                    )
        return buffer.getvalue()

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "schemes": list(self.schemes),
            "modalities": list(self.modalities),
            "cells": [
                {
                    "scheme": c.scheme,
                    "modality": c.modality,
                    "note": c.note,
                    "seconds": round(c.seconds, 2),
                    "best_epoch": c.best_epoch,
                    **c.extra,
                    "evaluations": {k: v.to_json() for k, v in c.evaluations.items()},
                }
                for c in self.cells
            ],
        }


def _metric_of(evaluation: Evaluation, metric: str) -> Estimate | str:
    if metric in ("valence", "arousal"):
        return evaluation.regression[metric].r2 if evaluation.regression else "n/a"
    if evaluation.classification is None:
        return "n/a"
    estimate: Estimate = getattr(evaluation.classification, metric)
    return estimate


def _all_metrics(evaluation: Evaluation) -> list[tuple[str, Estimate]]:
    out: list[tuple[str, Estimate]] = []
    if evaluation.regression is not None:
        for dim in evaluation.regression.dimensions:
            for key in ("r2", "rmse", "pearson", "ccc", "chance_r2", "chance_rmse"):
                out.append((f"{dim.name}_{key}", getattr(dim, key)))
    if evaluation.classification is not None:
        report = evaluation.classification
        for key in ("accuracy", "macro_f1", "chance_majority", "chance_majority_f1"):
            out.append((key, getattr(report, key)))
        uniform = report.chance_uniform
        out.append(("chance_uniform", Estimate(uniform, uniform, uniform)))
    return out


def _format(value: Estimate | str) -> str:
    if isinstance(value, str):
        return value if len(value) <= 12 else "n/a"
    return f"{value.value:.3f} [{value.low:.3f}, {value.high:.3f}]"


# -- computing the table ----------------------------------------------------------------------


def compute_table(
    config: TrainConfig,
    *,
    schemes: Sequence[str] = DEFAULT_SCHEMES,
    modalities: Sequence[str] = MODALITIES,
    models: Mapping[str, str | None] | None = None,
    subset: str = "all",
    n_boot: int = 1000,
    runs_dir: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> ResultsTable:
    """Train and evaluate every (label scheme, modality) cell on the config's manifest.

    Parameters
    ----------
    config : base training config (data paths, features, optimiser, epochs, seed)
    schemes : ``va`` and/or class label schemes (``given`` = the manifest's own labels)
    modalities : some of ``audio``, ``lyrics``, ``bimodal``, ``late``, ``svm_audio``,
        ``svm_lyrics``; lyrics columns are dropped when no track has lyrics
    models : registry names per modality (``audio``, ``lyrics``, ``bimodal``) that override the
        base config's models (:func:`column_models`); None or a missing name keeps them
    subset : ``all`` tracks, or only the tracks ``with_lyrics`` (in every column)
    n_boot : bootstrap resamples per metric
    runs_dir : keep every trained cell's checkpoint in ``runs_dir/<scheme>_<modality>``
    log : called with one line per finished cell

    Returns
    -------
    ResultsTable
    """
    from moodnet.training.data import load_dataset

    if subset not in ("all", "with_lyrics"):
        raise ParameterError(f"subset {subset!r}: expected all or with_lyrics")
    unknown = sorted(set(modalities) - set(ALL_MODALITIES))
    if unknown:
        raise ParameterError(f"unknown modalities {unknown}; known: {ALL_MODALITIES}")
    columns = {
        modality: model.with_features(config.features)
        for modality, model in column_models(config.model, names=models or {}).items()
    }
    reads_audio = bool(set(modalities) & AUDIO_MODALITIES)
    dataset = load_dataset(config, audio=True, lyrics=True, mel=reads_audio)  # same tracks
    if not dataset.has_lyrics:
        modalities = [m for m in modalities if m in ("audio", "svm_audio")]
    if subset == "with_lyrics":
        dataset = _with_lyrics_only(dataset)
    dataset = _with_audio_embeddings(dataset, config, columns, modalities)
    say = log or (lambda line: None)
    classical = _classical_features(config, dataset, modalities)
    cells: list[CellResult] = []
    for scheme in schemes:
        cells += _scheme_cells(
            config, dataset, scheme, modalities, columns, n_boot, say, classical, runs_dir
        )
    meta = {
        "manifest": str(config.data.manifest),
        "models": {modality: model.name for modality, model in columns.items()},
        "subset": subset,
        "n_tracks": {split: len(tracks) for split, tracks in dataset.tracks.items()},
        "features": config.features.to_dict(),
        "seed": config.seed,
        "max_epochs": config.max_epochs,
        "patience": config.patience,
    }
    return ResultsTable(
        cells=cells, schemes=tuple(schemes), modalities=tuple(modalities), meta=meta
    )


def column_models(
    base: ModelConfig, *, names: Mapping[str, str | None]
) -> dict[str, ModelConfig]:
    """The model config of each trained column (``audio``, ``lyrics``, ``bimodal``).

    The base config's own models are used: a fusion config gives the bimodal column and its
    branches the audio and lyrics columns; a unimodal config gives its column. A column the
    base config has no model for, or whose name in ``names`` differs from it, gets that
    registered model's defaults (:data:`DEFAULT_MODELS` when unnamed). The bimodal column
    always fuses the audio and lyrics columns' models.

    Raises
    ------
    ConfigError
        A name is unknown, or not of its column's kind (``--bimodal-model lyrics_cnn``).
    """
    from moodnet.models import model_spec
    from moodnet.models.config import AudioConfig, FusionConfig, LyricsConfig

    own: dict[str, ModelConfig] = dict(base.branches())
    if own:
        own["bimodal"] = base
    elif base.uses_audio:
        own["audio"] = base
    else:
        own["lyrics"] = base
    columns: dict[str, ModelConfig] = {}
    for modality, fallback in DEFAULT_MODELS.items():
        kept = own.get(modality)
        wanted = names.get(modality) or (kept.name if kept is not None else fallback)
        keep = kept is not None and kept.name == wanted
        columns[modality] = kept if keep and kept is not None else model_spec(wanted).config()
    audio, lyrics, bimodal = columns["audio"], columns["lyrics"], columns["bimodal"]
    kinds = ((audio, AudioConfig, "audio"), (lyrics, LyricsConfig, "lyrics"),
             (bimodal, FusionConfig, "fusion"))  # fmt: skip
    for model, kind, what in kinds:
        if not isinstance(model, kind):
            raise ConfigError(f"table column model {model.name!r} is not a {what} model")
    assert isinstance(audio, AudioConfig) and isinstance(lyrics, LyricsConfig)
    assert isinstance(bimodal, FusionConfig)
    columns["bimodal"] = replace(bimodal, audio=audio, lyrics=lyrics)
    return columns


def _with_audio_embeddings(
    dataset: Dataset,
    config: TrainConfig,
    columns: Mapping[str, ModelConfig],
    modalities: Sequence[str],
) -> Dataset:
    """Run a frozen audio backbone (``musicnn_head``) once for the whole table instead of once
    per cell, when every trained column that reads audio uses it."""
    from moodnet.models import build_model
    from moodnet.models.arrays import precompute_audio

    audio_columns = [m for m in modalities if m in ("audio", "bimodal")]
    built = [build_model(columns[m]) for m in audio_columns]
    if not built or not all(getattr(model, "precomputes_audio", False) for model in built):
        return dataset
    arrays = {
        split: precompute_audio(
            built[0], data, batch_size=config.eval_batch_size, progress=config.progress
        )
        for split, data in dataset.arrays.items()
    }
    return replace(dataset, arrays=arrays)


def _with_lyrics_only(dataset: Dataset) -> Dataset:
    arrays, tracks = {}, {}
    for split, data in dataset.arrays.items():
        assert data.has_lyrics is not None
        keep = np.flatnonzero(data.has_lyrics)
        arrays[split] = data.subset(keep)
        tracks[split] = [dataset.tracks[split][i] for i in keep]
    return replace(dataset, arrays=arrays, tracks=tracks)


def _scheme_cells(
    config: TrainConfig,
    dataset: Dataset,
    scheme: str,
    modalities: Sequence[str],
    columns: Mapping[str, ModelConfig],
    n_boot: int,
    say: Callable[[str], None],
    classical: dict[str, dict[str, Any]],
    runs_dir: str | Path | None,
) -> list[CellResult]:
    from moodnet.training.data import with_labels

    try:
        data = with_labels(dataset, config, labels=scheme)
    except MoodnetError as exc:
        say(f"{scheme}: skipped ({exc})")
        note = str(exc) if str(exc).startswith(scheme) else f"{scheme}: {exc}"
        return [CellResult(scheme, m, note=note) for m in modalities]
    if data.test is None:
        raise ParameterError("the table needs a test split")
    trained: dict[str, Checkpoint] = {}
    cells = []
    for modality in modalities:
        if modality == "late":
            cell = _late_cell(scheme, data, trained, n_boot)
        elif modality in CLASSICAL:
            cell = _classical_cell(scheme, modality, data, dataset, classical[modality], n_boot)
        else:
            run = None if runs_dir is None else Path(runs_dir) / f"{scheme}_{modality}"
            cell, checkpoint = _trained_cell(
                config, scheme, modality, columns[modality], data, n_boot, run
            )
            if checkpoint is not None:
                trained[modality] = checkpoint
        say(_summary(cell))
        cells.append(cell)
    return cells


def _trained_cell(
    config: TrainConfig,
    scheme: str,
    modality: str,
    model: ModelConfig,
    data: LabelledData,
    n_boot: int,
    run_dir: Path | None,
) -> tuple[CellResult, Checkpoint | None]:
    from moodnet.training.loop import train_arrays

    started = time.perf_counter()
    cell_config = replace(config, model=model, out_dir=None, monitor="loss")
    try:
        result = train_arrays(
            cell_config, data.train, data.validation, info=data.info, run_dir=run_dir
        )
    except MoodnetError as exc:
        return CellResult(scheme, modality, note=f"{scheme}/{modality}: {exc}"), None
    checkpoint = result.checkpoint
    evaluations = {
        split: evaluate_arrays(checkpoint, arrays, name=split, n_boot=n_boot)
        for split, arrays in (("train", data.train), ("test", data.test))
        if arrays is not None
    }
    cell = CellResult(
        scheme,
        modality,
        evaluations=evaluations,
        seconds=time.perf_counter() - started,
        best_epoch=checkpoint.best_epoch,
    )
    return cell, checkpoint


def _late_cell(
    scheme: str, data: LabelledData, trained: dict[str, Checkpoint], n_boot: int
) -> CellResult:
    from moodnet.evaluation.evaluate import train_labels_from_counts
    from moodnet.models.fusion import combine_late, search_late_weight

    if "audio" not in trained or "lyrics" not in trained:
        return CellResult(scheme, "late", note="late fusion needs the audio and lyrics cells")
    audio, lyrics = trained["audio"], trained["lyrics"]

    def outputs(checkpoint: Checkpoint, arrays: ArrayData) -> np.ndarray:
        pred = checkpoint.predict_arrays(
            arrays.mel, arrays.tokens, arrays.has_lyrics, embeddings=arrays.embeddings
        )
        out = pred.va if pred.va is not None else pred.class_probs
        assert out is not None
        return out

    val = data.validation
    target = val.va if val.va is not None else val.classes
    assert target is not None
    weight = search_late_weight(
        outputs(audio, val), outputs(lyrics, val), target, has_lyrics=val.has_lyrics
    )
    evaluations = {}
    for split, arrays in (("train", data.train), ("test", data.test)):
        assert arrays is not None
        fused = combine_late(
            outputs(audio, arrays),
            outputs(lyrics, arrays),
            weight=weight,
            has_lyrics=arrays.has_lyrics,
        )
        is_va = arrays.va is not None
        evaluations[split] = evaluate_predictions(
            arrays,
            va=fused if is_va else None,
            class_probs=None if is_va else fused,
            name=split,
            train_va_mean=audio.va_mean,
            train_labels=train_labels_from_counts(audio.metrics.get("train_class_counts")),
            class_names=audio.class_names,
            n_boot=n_boot,
        )
    return CellResult(scheme, "late", evaluations=evaluations, extra={"late_weight": weight})


def _classical_features(
    config: TrainConfig, dataset: Dataset, modalities: Sequence[str]
) -> dict[str, dict[str, Any]]:
    from moodnet.training.baselines import descriptor_matrix, lyric_matrices

    out: dict[str, dict[str, Any]] = {}
    if "svm_audio" in modalities:
        assert config.data.cache_dir is not None
        out["svm_audio"] = {
            split: descriptor_matrix(
                tracks, cache_dir=config.data.cache_dir, features=config.features
            )
            for split, tracks in dataset.tracks.items()
        }
    if "svm_lyrics" in modalities:
        out["svm_lyrics"] = lyric_matrices(dataset.tracks, lexicon_dir=config.data.lexicon_dir)
    return out


def _classical_cell(
    scheme: str,
    modality: str,
    data: LabelledData,
    dataset: Dataset,
    features: dict[str, Any],
    n_boot: int,
) -> CellResult:
    from moodnet.training.baselines import fit_classification_baseline, fit_regression_baseline

    started = time.perf_counter()
    parts = {"train": data.train, "validation": data.validation, "test": data.test}
    rows = {}
    for split, arrays in parts.items():
        assert arrays is not None
        position = {track_id: i for i, track_id in enumerate(dataset.arrays[split].ids)}
        rows[split] = features[split][[position[i] for i in arrays.ids]]
    train, val = data.train, data.validation
    try:
        if train.va is not None and val.va is not None:
            fit = fit_regression_baseline(rows["train"], train.va, rows["validation"], val.va)
        else:
            assert train.classes is not None and val.classes is not None
            fit = fit_classification_baseline(
                rows["train"], train.classes, rows["validation"], val.classes
            )
    except MoodnetError as exc:
        return CellResult(scheme, modality, note=f"{scheme}/{modality}: {exc}")
    k = len(data.info.class_names)
    evaluations = {}
    for split in SPLITS:
        arrays = parts[split]
        assert arrays is not None
        pred = fit.predict(rows[split])
        is_va = arrays.va is not None
        evaluations[split] = evaluate_predictions(
            arrays,
            va=pred if is_va else None,
            class_probs=None if is_va else np.eye(k)[pred],
            name=split,
            train_va_mean=None if train.va is None else train.va.mean(axis=0),
            train_labels=train.classes,
            class_names=data.info.class_names,
            n_boot=n_boot,
        )
    return CellResult(
        scheme,
        modality,
        evaluations=evaluations,
        seconds=time.perf_counter() - started,
        extra={"baseline_params": fit.params},
    )


def _summary(cell: CellResult) -> str:
    if not cell.evaluations:
        return f"{cell.scheme:9s} {cell.modality:8s} -- {cell.note}"
    test = cell.evaluations.get("test")
    parts = []
    if test is not None and test.regression is not None:
        parts += [f"{d.name} R² {d.r2.value:.3f}" for d in test.regression.dimensions]
    if test is not None and test.classification is not None:
        parts.append(f"acc {test.classification.accuracy.value:.3f}")
    epoch = f" epoch {cell.best_epoch}" if cell.best_epoch else ""
    return (
        f"{cell.scheme:9s} {cell.modality:8s} test {', '.join(parts)} ({cell.seconds:.0f} s{epoch})"
    )


# -- writing ----------------------------------------------------------------------------------


def write_table(table: ResultsTable, out_dir: str | Path) -> list[Path]:
    """Write ``table.md``, ``table.csv``, ``results.json`` and ``va_scatter.png`` to ``out_dir``."""
    out = Path(out_dir)
    written = [
        atomic_write_text(out / "table.md", table.to_markdown()),
        atomic_write_text(out / "table.csv", table.to_csv()),
        atomic_write_text(out / "results.json", json.dumps(json_safe(table.to_json()), indent=1)),
    ]
    scatter = plot_va_scatter(table, out / "va_scatter.png")
    if scatter is not None:
        written.append(scatter)
    return written


def plot_va_scatter(table: ResultsTable, path: str | Path) -> Path | None:
    """Test predictions against targets of the VA models: one panel per (dimension, modality).

    Returns
    -------
    Path, or None when the table has no VA predictions
    """
    panels = []
    for modality in table.modalities:
        cell = table.cell("va", modality)
        evaluation = cell.evaluations.get("test") if cell else None
        if evaluation is not None and evaluation.va is not None and evaluation.regression:
            panels.append((modality, evaluation))
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(2, len(panels), figsize=(3.2 * len(panels), 6.4), squeeze=False)
    for col, (modality, evaluation) in enumerate(panels):
        targets, va = evaluation.va_target, evaluation.va
        assert targets is not None and va is not None and evaluation.regression is not None
        for row, dim in enumerate(("valence", "arousal")):
            ax = axes[row][col]
            ax.scatter(targets[:, row], va[:, row], s=8, alpha=0.5)
            both = np.concatenate([targets[:, row], va[:, row]])
            margin = 0.05 * max(float(np.ptp(both)), 1e-3)
            lims = [float(both.min()) - margin, float(both.max()) + margin]
            ax.plot(lims, lims, color="grey", linewidth=0.8)
            ax.set_xlim(lims)
            ax.set_ylim(lims)
            ax.set_title(
                f"{modality}: {dim} R² {evaluation.regression[dim].r2.value:.2f}", fontsize=9
            )
            ax.set_xlabel("target")
            ax.set_ylabel("prediction")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return atomic_write(path, lambda handle: handle.write(buffer.getvalue()))
