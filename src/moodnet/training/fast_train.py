"""Train the default (fast) model on a manifest: ``moodnet train default``.

Steps: (with ``distill: true``) musicnn's (MSD) embeddings of the training tracks' audio, and
of augmented copies (:mod:`moodnet.training.teacher`), and a new student distilled on them
(:mod:`moodnet.training.distill`); every track's patch features (descriptors + the student's
embedding, cached per track and keyed by the student's weights); the sign targets (the
quadrant label where the manifest gives one, else the signs of the tag-derived
valence/arousal); the linear head fitted on the train and validation splits with its
strength and output scale chosen by an artist-grouped inner cross-validation
(:func:`moodnet.training.fast.fit_head`); metrics on the
test split; a ``moodnet-fast/1`` checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.core import QUADRANTS
from moodnet.errors import ConfigError, DataError
from moodnet.models.fast_head import POSITIVE_AXES
from moodnet.models.fast_model import LYRICS_BRANCHES, LyricsBranches
from moodnet.track import Track
from moodnet.version import __version__

if TYPE_CHECKING:
    from moodnet.lyrics.embeddings import SentenceEncoder


@dataclass
class FastTrainConfig:
    """The default model's recipe (``configs/default.yaml``).

    Attributes
    ----------
    recipe : must be ``"fast"`` (tells ``moodnet train`` which trainer reads the file)
    manifest : JSONL manifest with splits (``moodnet data manifest``)
    cache_dir : folder for the per-track patch features
    student_dir : folder with ``student.safetensors`` or a fast checkpoint (None: the student
        inside the shipped default model, or the one ``distill`` makes)
    distill : distil a new student from musicnn (MSD) on the audio of the training tracks
        (``fit_splits``) and of ``distill_manifests`` (no labels needed), cached in
        ``cache_dir/teacher-v1*`` and written to ``OUT/student``; instead of ``student_dir``
    distill_manifests : manifests of more unlabelled audio for the distillation
    distill_copies : augmented copies of every distillation track (time stretch, band shift,
        EQ; :func:`moodnet.training.augment.augment_log_mel`)
    distill_epochs, distill_channels : the student's training length and width
    descriptor_groups : let the inner CV drop groups of patch descriptors that do not help
        (:func:`moodnet.audio.patch_descriptors.descriptor_groups`); the dropped ones are reported
    model_id : stored in the checkpoint and written beside every prediction
    inner_folds : artist-grouped folds for choosing C and the output scale
    workers : processes for the features (0: one per core)
    max_seconds : seconds decoded per track
    fit_splits : splits the head is fitted on; the other tracks are the test set (the
        shipped model is fitted on all three, its estimate coming from ``bench/kfold_default``)
    lyrics_manifest : tracks with audio and lyrics for the lyrics branch (all-MiniLM-L6-v2
        embeddings -> logistic head) and the weight lyrics get against audio per axis, fitted
        on out-of-fold lyrics logits with the audio logits as offset; None: audio only
    lyrics_sentiment : add a second lyrics branch, word-valence statistics from the VADER
        lexicon (:func:`moodnet.lyrics.features.sentiment_features`), with its own weight
    lexicons : folder with the Warriner (and NRC-VAD) lexicons: Russell's mood words are then
        placed on the plane through the same tag -> VA pipeline as the targets, and stored
    """

    recipe: str = "fast"
    manifest: str | None = None
    cache_dir: str | None = None
    student_dir: str | None = None
    model_id: str = "moodnet-fast"
    inner_folds: int = 3
    workers: int = 0
    max_seconds: float = 600.0
    fit_splits: list[str] = field(default_factory=lambda: ["train", "validation"])
    lyrics_manifest: str | None = None
    lexicons: str | None = None
    lyrics_sentiment: bool = True
    distill: bool = False
    distill_manifests: list[str] = field(default_factory=list)
    distill_copies: int = 1
    distill_epochs: int = 10
    distill_channels: list[int] = field(default_factory=lambda: [256, 256, 256])
    descriptor_groups: bool = True

    def __post_init__(self) -> None:
        if self.recipe != "fast":
            raise ConfigError(f"recipe={self.recipe!r}: this trainer reads recipe: fast")
        if not 2 <= self.inner_folds <= 20:
            raise ConfigError(f"inner_folds={self.inner_folds} must be in 2..20")
        if not 1.0 <= self.max_seconds <= 7200.0:
            raise ConfigError(f"max_seconds={self.max_seconds} must be in 1..7200")
        if self.workers < 0:
            raise ConfigError(f"workers={self.workers} must be >= 0")
        if self.distill and self.student_dir:
            raise ConfigError("set either student_dir or distill: true, not both")
        if not 0 <= self.distill_copies <= 10 or not 1 <= self.distill_epochs <= 1000:
            raise ConfigError(f"distill_copies={self.distill_copies} must be in 0..10 and "
                              f"distill_epochs={self.distill_epochs} in 1..1000")
        if len(self.distill_channels) != 3:
            raise ConfigError(f"distill_channels={self.distill_channels} needs three widths")


def shipped_student_dir() -> Path:
    """The shipped default model's folder: its checkpoint carries the distilled student."""
    from importlib.resources import files

    return Path(str(files("moodnet").joinpath("assets/models/default")))


def sign_targets(tracks: list[Track]) -> np.ndarray:
    """(n, 2) 0/1: valence > 0, arousal > 0, from a quadrant label or from the VA targets."""
    out = np.zeros((len(tracks), 2), dtype=int)
    for i, track in enumerate(tracks):
        if isinstance(track.label, str) and track.label in QUADRANTS:
            out[i] = POSITIVE_AXES[track.label]
        elif track.valence is not None and track.arousal is not None:
            out[i] = (track.valence > 0, track.arousal > 0)
        else:
            raise DataError(f"track {track.id}: no quadrant label and no valence/arousal")
    return out


def va_targets(tracks: list[Track], signs: np.ndarray) -> np.ndarray:
    """(n, 2) valence/arousal targets; a track without them gets +-0.5 from its signs."""
    return np.array([
        [t.valence, t.arousal] if t.valence is not None and t.arousal is not None
        else [s[0] - 0.5, s[1] - 0.5]
        for t, s in zip(tracks, signs, strict=True)
    ], dtype=np.float64)


def student_key(student_dir: Path) -> str:
    """Hash of the student's weights and the descriptor version (the feature cache key)."""
    from moodnet.audio.patch_descriptors import PATCH_DESCRIPTOR_VERSION
    from moodnet.models.fast_model import load_student_state

    digest = hashlib.blake2b(digest_size=8)
    for name, tensor in sorted(load_student_state(student_dir).items()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensor).tobytes())
    digest.update(str(PATCH_DESCRIPTOR_VERSION).encode())
    return digest.hexdigest()


_WORKER: dict[str, Any] = {}


def _start_worker(student_dir: str) -> None:
    from moodnet.models.fast_head import StudentWeights
    from moodnet.models.fast_model import load_student_state

    _WORKER["student"] = StudentWeights.from_state(load_student_state(Path(student_dir)))


def _features_job(job: tuple[str, str, str, float]) -> str | None:
    from moodnet.audio.io import load_audio
    from moodnet.audio.patch_descriptors import PATCH_SAMPLE_RATE
    from moodnet.models.fast_model import patch_features

    _track_id, audio, target, max_seconds = job
    if Path(target).exists():
        return None
    try:
        y = load_audio(audio, sr=PATCH_SAMPLE_RATE, duration=max_seconds)
        features, _ = patch_features(y, student=_WORKER["student"])
    except Exception as exc:  # reported, the others go on
        return f"{audio}: {exc}"
    tmp = f"{target}.{os.getpid()}.tmp.npy"
    np.save(tmp, features)
    os.replace(tmp, target)
    return None


def track_features(
    tracks: list[Track], *, cache_dir: Path, student_dir: Path, workers: int = 0,
    max_seconds: float = 600.0,
) -> tuple[list[np.ndarray], list[str]]:
    """Patch features of every track (cached); returns them and the problems met."""
    from moodnet.core import worker_pool

    folder = cache_dir / f"fastfeat-{student_key(student_dir)}"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(t.id, str(t.audio), str(folder / f"{t.id}.npy"), max_seconds) for t in tracks]
    n_workers = workers or os.cpu_count() or 1
    with worker_pool(n_workers, initializer=_start_worker, initargs=(str(student_dir),)) as pool:
        problems = [p for p in pool.map(_features_job, jobs, chunksize=4) if p]
    missing = [t.id for t in tracks if not (folder / f"{t.id}.npy").exists()]
    if missing:
        raise DataError(f"{len(missing)} tracks have no features: " + "; ".join(problems[:5]))
    return [np.load(folder / f"{t.id}.npy") for t in tracks], problems


def train_fast(config: FastTrainConfig, *, out_dir: Path) -> dict[str, Any]:
    """Fit the head on the manifest's train + validation tracks; write the checkpoint.

    Returns
    -------
    report : dict: the head's choices, test metrics, counts
    """
    from moodnet.audio.patch_descriptors import descriptor_groups
    from moodnet.data.manifest import read_manifest
    from moodnet.models.fast_model import load_student_state, save_fast_checkpoint
    from moodnet.training.fast import fit_head, track_matrix

    if not config.manifest or not config.cache_dir:
        raise ConfigError("set manifest and cache_dir (e.g. --set manifest=all.jsonl)")
    tracks = [t for t in read_manifest(Path(config.manifest)) if t.audio]
    fit_tracks = [t for t in tracks if t.split is None or t.split in config.fit_splits]
    test_tracks = [t for t in tracks if t.split is not None and t.split not in config.fit_splits]
    if len(fit_tracks) < 2 * config.inner_folds:
        raise DataError(f"{config.manifest}: {len(fit_tracks)} training tracks are too few")
    if config.distill:
        student_dir = distill_student(config, fit_tracks, out_dir=out_dir / "student")
    else:
        student_dir = Path(config.student_dir) if config.student_dir else shipped_student_dir()
    features, problems = track_features(
        fit_tracks + test_tracks, cache_dir=Path(config.cache_dir), student_dir=student_dir,
        workers=config.workers, max_seconds=config.max_seconds,
    )
    x = track_matrix(features)
    signs = sign_targets(fit_tracks + test_tracks)
    targets = va_targets(fit_tracks + test_tracks, signs)
    n_fit = len(fit_tracks)
    groups = np.array([t.artist or t.id for t in fit_tracks])
    head, choices = fit_head(
        x[:n_fit], signs[:n_fit], targets[:n_fit], groups=groups, inner_folds=config.inner_folds,
        feature_groups=descriptor_groups() if config.descriptor_groups else None)
    report: dict[str, Any] = {
        "head": asdict(choices), "n_train": n_fit, "n_test": len(test_tracks),
        "feature_problems": problems,
    }
    if test_tracks:
        report["test"] = evaluate_head(head, x[n_fit:], signs[n_fit:], targets[n_fit:])
    branches = None
    if config.lyrics_manifest:
        branches, report["lyrics"] = fit_lyrics_branch(
            Path(config.lyrics_manifest), audio_head=head, config=config, student_dir=student_dir)
    student_state = load_student_state(student_dir)
    save_fast_checkpoint(out_dir, head=head, student_state=student_state, meta={
        "model_id": config.model_id, "moodnet_version": __version__,
        "train_config": asdict(config), "report": report,
        "lyrics_encoder": lyrics_encoder().recipe if branches is not None else None,
        "mood_words": mood_word_placements(Path(config.lexicons)) if config.lexicons else None,
        "student_report": student_report(student_dir),
    }, lyrics=branches)
    return report


def distill_student(config: FastTrainConfig, tracks: list[Track], *, out_dir: Path) -> Path:
    """Teacher targets for ``tracks`` and ``config.distill_manifests`` (cached), then a new
    student in ``out_dir``; returns ``out_dir``."""
    from moodnet.data.manifest import read_manifest
    from moodnet.models.student import StudentConfig
    from moodnet.training.distill import DistillConfig, distill
    from moodnet.training.teacher import cache_teacher

    extra = [t for m in config.distill_manifests for t in read_manifest(Path(m)) if t.audio]
    unique = list({t.id: t for t in [*extra, *tracks]}.values())
    teacher = cache_teacher(unique, cache=Path(str(config.cache_dir)),
                            workers=config.workers, augment=config.distill_copies)
    distill(teacher.files(), out_dir=out_dir,
            config=DistillConfig(epochs=config.distill_epochs),
            student=StudentConfig(channels=tuple(config.distill_channels)))  # type: ignore[arg-type]
    return out_dir


def student_report(student_dir: Path) -> dict[str, Any] | None:
    """How the student was distilled (its ``student.json`` without the teacher statistics,
    or what a fast checkpoint recorded of it)."""
    report = student_dir / "student.json"
    if report.is_file():
        data = json.loads(report.read_text())
        return {k: v for k, v in data.items() if not k.startswith("teacher_")}
    checkpoint = student_dir / "checkpoint.json"
    if checkpoint.is_file():
        return json.loads(checkpoint.read_text()).get("student_report")
    return None


def mood_word_placements(lexicons: Path) -> dict[str, list[float]]:
    """Russell's (1980) mood words -> their VA through the tag pipeline (words not found are
    left out)."""
    from moodnet.core import RUSSELL_1980_ANGLES
    from moodnet.labels.lexicon import load_lexicons
    from moodnet.labels.tags import tag_va

    loaded = load_lexicons(lexicons)
    out = {}
    for word in RUSSELL_1980_ANGLES:
        found = tag_va(word, lexicons=loaded)
        if found.valence is not None and found.arousal is not None:
            out[word] = [round(found.valence, 4), round(found.arousal, 4)]
    return out


def lyrics_encoder() -> SentenceEncoder:
    """The sentence encoder the lyrics branches are trained with; its recipe is what the
    checkpoint records."""
    from moodnet.lyrics.embeddings import SentenceEncoder

    return SentenceEncoder(device="cpu")


def lyrics_embeddings(texts: list[str], *, cache_dir: Path) -> np.ndarray:
    """all-MiniLM-L6-v2 embeddings (n, 384) of lyrics by :func:`lyrics_encoder`, cached by
    its recipe and the text's hash."""
    encoder = lyrics_encoder()
    folder = cache_dir / f"minilm-v1-{encoder.chunk_words}w{encoder.max_chunks}c"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{hashlib.blake2b(t.encode(), digest_size=12).hexdigest()}.npy"
             for t in texts]
    todo = [i for i, p in enumerate(paths) if not p.exists()]
    if todo:
        encoded = encoder.encode([texts[i] for i in todo])
        for i, row in zip(todo, encoded, strict=True):
            np.save(paths[i], row)
    return np.stack([np.load(p) for p in paths])


def lyrics_branch_inputs(
    texts: list[str], *, cache_dir: Path, sentiment: bool = True,
) -> list[np.ndarray]:
    """What the lyrics branches read, in :data:`LYRICS_BRANCHES` order: the MiniLM embeddings
    (n, 384), then (``sentiment``) the VADER statistics (n, 9)."""
    from moodnet.lyrics.features import sentiment_features

    inputs = [lyrics_embeddings(texts, cache_dir=cache_dir)]
    if sentiment:
        inputs.append(np.stack([sentiment_features(text) for text in texts]))
    return inputs


def lyrics_branch_groups() -> tuple[Mapping[str, np.ndarray] | None, ...]:
    """Per lyrics branch (:data:`LYRICS_BRANCHES` order), the column groups its head's inner CV
    may drop: none for MiniLM, the line scores for the sentiment branch."""
    from moodnet.lyrics.features import SENTIMENT_GROUPS

    return None, SENTIMENT_GROUPS


def fit_lyrics_branch(
    manifest: Path, *, audio_head: Any, config: FastTrainConfig, student_dir: Path,
) -> tuple[LyricsBranches, dict[str, Any]]:
    """The lyrics heads and their fusion weights (see :class:`FastTrainConfig`)."""
    from moodnet.data.manifest import read_manifest
    from moodnet.lyrics import read_lyrics
    from moodnet.lyrics.usable import lyrics_problem
    from moodnet.training.fast import (
        LYRICS_C_GRID,
        fit_fusion,
        fit_head,
        out_of_fold_logits,
        track_matrix,
    )

    tracks, texts = [], []
    for track in read_manifest(manifest):
        text = track.lyrics_text or (read_lyrics(track.lyrics) if track.lyrics else None)
        if track.audio and text and lyrics_problem(text) is None:
            tracks.append(track)
            texts.append(text)
    if len(tracks) < 20:
        raise DataError(f"{manifest}: {len(tracks)} tracks with usable lyrics are too few")
    inputs = lyrics_branch_inputs(texts, cache_dir=Path(str(config.cache_dir)),
                                  sentiment=config.lyrics_sentiment)
    signs = sign_targets(tracks)
    groups = np.array([t.artist or t.id for t in tracks])
    choices = lyrics_branch_groups()
    oof = [out_of_fold_logits(x, signs, groups=groups, feature_groups=g, c_grid=LYRICS_C_GRID)
           for x, g in zip(inputs, choices, strict=False)]
    features, _ = track_features(tracks, cache_dir=Path(str(config.cache_dir)),
                                 student_dir=student_dir, workers=config.workers,
                                 max_seconds=config.max_seconds)
    audio_logits = audio_head.logits(track_matrix(features))
    weights, biases = fit_fusion(audio_logits, oof, signs)
    fitted = [fit_head(x, signs, np.zeros((len(tracks), 2)), groups=groups, feature_groups=g,
                       c_grid=LYRICS_C_GRID) for x, g in zip(inputs, choices, strict=False)]
    # The fitted bias also absorbs how this set's labels differ from the audio head's (MIREX
    # tags vs 4Q quadrants); shipping it would move every prediction that has lyrics. The
    # shipped offset is centred instead: lyrics move the answer by how they differ from the
    # average lyrics of the set.
    centre = -sum(w * z.mean(axis=0) for w, z in zip(weights, oof, strict=True))
    names = LYRICS_BRANCHES[: len(inputs)]
    report = {"n_tracks": len(tracks), "branches": list(names),
              "c": {n: list(c.c) for n, (_, c) in zip(names, fitted, strict=True)},
              "inner_auc": {n: list(c.inner_auc) for n, (_, c) in zip(names, fitted, strict=True)},
              "dropped_groups": {n: list(c.dropped_groups)
                                 for n, (_, c) in zip(names, fitted, strict=True)},
              "fusion_weight": {n: w.tolist() for n, w in zip(names, weights, strict=True)},
              "fitted_bias": biases.tolist(), "shipped_bias": centre.tolist()}
    heads = [head for head, _ in fitted]
    return LyricsBranches(
        embedding=heads[0], sentiment=heads[1] if len(heads) > 1 else None,
        fusion=np.vstack([weights, centre]).astype(np.float32)), report


def evaluate_head(
    head: Any, x: np.ndarray, signs: np.ndarray, targets: np.ndarray
) -> dict[str, float]:
    """AUC per axis, quadrant accuracy, CCC and std ratio per axis of a head on track rows."""
    from sklearn.metrics import roc_auc_score

    from moodnet.models.fast_head import va_from_logits
    from moodnet.training.fast import concordance

    logits = head.logits(x)
    va = va_from_logits(logits, head.scale)
    out: dict[str, float] = {}
    for axis, name in enumerate(("valence", "arousal")):
        if len(np.unique(signs[:, axis])) == 2:
            out[f"auc_{name}"] = float(roc_auc_score(signs[:, axis], logits[:, axis]))
        out[f"ccc_{name}"] = concordance(va[:, axis], targets[:, axis])
        out[f"std_ratio_{name}"] = float(va[:, axis].std() / max(targets[:, axis].std(), 1e-9))
    out["quadrant_accuracy"] = float(((logits > 0).astype(int) == signs).all(axis=1).mean())
    return out
