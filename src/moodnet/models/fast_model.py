"""The default model as a whole: checkpoint format, loading, and per-patch logits (no torch).

A fast checkpoint folder holds ``checkpoint.json`` (``"format": "moodnet-fast/1"``, the model
id, what it was trained on, the head's choices and metrics) and ``model.safetensors``
(``student.*`` tensors of :class:`~moodnet.models.student.Student` and ``head.*`` arrays of
:class:`~moodnet.models.fast_head.LinearHead`). See :mod:`moodnet.models.fast_head` for how
logits become valence, arousal and quadrant probabilities.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodnet.audio.musicnn_frontend import MUSICNN_PATCH_FRAMES, musicnn_log_compress
from moodnet.audio.patch_descriptors import (
    PATCH_DESCRIPTOR_VERSION,
    PATCH_SAMPLE_RATE,
    PATCH_SECONDS,
    SKIPPABLE_GROUPS,
    analyse_patches,
    descriptor_groups,
    normalise_level,
    patch_descriptor_names,
)
from moodnet.errors import CheckpointError
from moodnet.models.fast_head import LinearHead, StudentWeights, stored_student

FAST_FORMAT = "moodnet-fast/1"
LYRICS_BRANCHES = ("minilm", "sentiment")
"""The lyrics branches, in the order of the fusion weights' rows."""
_HEAD_KEYS = ("mean", "std", "weights", "bias", "scale")
_MAX_FEATURES = 100_000


def is_fast_checkpoint(folder: Path) -> bool:
    """Whether ``folder/checkpoint.json`` declares the fast format."""
    try:
        meta = json.loads((folder / "checkpoint.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FAST_FORMAT


@dataclass(frozen=True)
class PatchLogits:
    """Per-patch logits of one track.

    Attributes
    ----------
    logits : np.ndarray [shape=(n_patches, 2)], valence > 0 and arousal > 0 log-odds
    bounds_s : np.ndarray [shape=(n_patches, 2)], start and end of each patch in seconds
    analysed_s : seconds of audio analysed
    """

    logits: np.ndarray
    bounds_s: np.ndarray
    analysed_s: float


@dataclass(frozen=True)
class LyricsBranches:
    """The lyrics side of a fast model: logistic heads whose logits shift the audio's.

    Attributes
    ----------
    embedding : head on the lyrics' all-MiniLM-L6-v2 embedding [shape=(384,)]
    sentiment : head on :func:`moodnet.lyrics.features.sentiment_features` [shape=(9,)] (or
        on its first 5, the word statistics, in checkpoints made before the line scores), or
        None (checkpoints made before it existed)
    fusion : np.ndarray [shape=(n_branches + 1, 2)]: per axis (columns valence, arousal) the
        weight of each branch's logit (rows in :data:`LYRICS_BRANCHES` order) and, last, the
        bias added with them, which centres the offset on the average training lyrics
    """

    embedding: LinearHead
    sentiment: LinearHead | None
    fusion: np.ndarray

    def offset(self, embedding: np.ndarray, *, text: str | None) -> np.ndarray:
        """What the lyrics add to every patch's logits: (2,).

        Parameters
        ----------
        embedding : np.ndarray [shape=(384,)], the lyrics' sentence embedding
        text : the lyrics (needed by the sentiment branch)
        """
        logits = [self.embedding.logits(np.asarray(embedding, dtype=np.float32)[np.newaxis])[0]]
        if self.sentiment is not None:
            if text is None:
                raise CheckpointError("this model's sentiment branch needs the lyrics' text")
            from moodnet.lyrics.features import SENTIMENT_GROUPS, sentiment_features

            # the line scores come after the word statistics: a head fitted before they
            # existed reads the first columns only
            weights = self.sentiment.weights
            lines = SENTIMENT_GROUPS["lines"]
            read_lines = weights.shape[0] > lines.max() and bool(weights[lines].any())
            features = sentiment_features(text, line_scores=read_lines)[:weights.shape[0]]
            features = features.astype(np.float32)[np.newaxis]
            logits.append(self.sentiment.logits(features)[0])
        weights = self.fusion[:-1]
        return (weights * np.stack(logits)).sum(axis=0) + self.fusion[-1]


@dataclass(frozen=True)
class FastModel:
    """Student embedding + patch descriptors -> linear head; see the module docstring."""

    student: StudentWeights | None
    head: LinearHead
    meta: dict[str, Any] = field(default_factory=dict)
    lyrics: LyricsBranches | None = None

    def lyrics_offset(self, embedding: np.ndarray, *, text: str | None = None) -> np.ndarray:
        """What lyrics add to every patch's logits: (2,) (see :meth:`LyricsBranches.offset`)."""
        if self.lyrics is None:
            raise CheckpointError(f"{self.model_id}: this model has no lyrics branch")
        return self.lyrics.offset(embedding, text=text)

    @property
    def model_id(self) -> str:
        """The checkpoint's id (e.g. ``moodnet-default-3``)."""
        return str(self.meta.get("model_id", "unnamed"))

    @classmethod
    def load(cls, folder: Path) -> FastModel:
        """Read a fast checkpoint folder.

        Raises
        ------
        CheckpointError
            Wrong format, missing or inconsistent tensors.
        """
        meta = _read_meta(folder)
        arrays = _read_arrays(folder / "model.safetensors")
        head = _head_from(arrays, folder)
        student = None
        if meta.get("student"):
            student = StudentWeights.from_state(_student_tensors(arrays))
        model = cls(student, head, meta, _lyrics_from(arrays, folder))
        expected = len(patch_descriptor_names()) + (
            student.project.shape[1] if student is not None else 0
        )
        if head.mean.shape[0] != expected:
            raise CheckpointError(
                f"{folder}: the head reads {head.mean.shape[0]} features, the model makes "
                f"{expected}"
            )
        return model

    def features(self, y_16k: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Patch features (n_patches, n_features) of a 16 kHz mono signal, and patch frames.
        Descriptor groups that the head gives no weight are not computed (their columns
        hold 0; the logits are the same)."""
        return patch_features(y_16k, student=self.student, skip=self._unread_groups)

    @functools.cached_property
    def _unread_groups(self) -> frozenset[str]:
        return unread_groups(self.head)  # once per model, not per track (0.3 ms)

    def patch_logits(self, y_16k: np.ndarray) -> PatchLogits:
        """Logits of every 3 s patch of a 16 kHz mono signal."""
        features, bounds = self.features(y_16k)
        frame_s = PATCH_SECONDS / MUSICNN_PATCH_FRAMES
        bounds_s = np.array(bounds, dtype=np.float64) * frame_s
        bounds_s[-1, 1] = y_16k.size / PATCH_SAMPLE_RATE
        return PatchLogits(self.head.logits(features), bounds_s, y_16k.size / PATCH_SAMPLE_RATE)


def unread_groups(head: LinearHead) -> frozenset[str]:
    """The :data:`~moodnet.audio.patch_descriptors.SKIPPABLE_GROUPS` whose columns have zero
    weight on both axes of ``head``."""
    weights = np.asarray(head.weights)
    unread = {name for name, columns in descriptor_groups().items()
              if columns.max() < weights.shape[0] and not weights[columns].any()}
    return frozenset(skip for skip, covered in SKIPPABLE_GROUPS.items()
                     if unread.issuperset(covered))


def patch_features(
    y_16k: np.ndarray, *, student: StudentWeights | None, skip: Collection[str] = ()
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The head's input for every 3 s patch of a 16 kHz mono signal.

    Parameters
    ----------
    y_16k : np.ndarray [shape=(n,)], 16 kHz mono
    student : the student CNN, or None for descriptors only
    skip : descriptor groups left uncomputed (:func:`analyse_patches`)

    Returns
    -------
    features : np.ndarray [shape=(n_patches, n_descriptors + 200)], float32: patch
        descriptors, then the student's embedding (absent without a student)
    bounds : frame ranges of the patches
    """
    analysis = analyse_patches(normalise_level(y_16k), skip=skip)
    blocks = [analysis.rows]
    if student is not None:
        blocks.append(student.embed(_student_patches(analysis.mel, analysis.bounds)))
    return np.concatenate(blocks, axis=1).astype(np.float32), analysis.bounds


def _student_patches(mel: np.ndarray, bounds: list[tuple[int, int]]) -> np.ndarray:
    """musicnn log-mel patches (n_patches, 187, 96), one per descriptor patch."""
    log_mel = musicnn_log_compress(mel)
    if log_mel.shape[0] < MUSICNN_PATCH_FRAMES:
        log_mel = np.tile(log_mel, (-(-MUSICNN_PATCH_FRAMES // log_mel.shape[0]), 1))
    n = log_mel.shape[0]
    starts = [min(start, n - MUSICNN_PATCH_FRAMES) for start, _ in bounds]
    return np.stack([log_mel[s : s + MUSICNN_PATCH_FRAMES] for s in starts])


def load_student_state(folder: Path) -> dict[str, np.ndarray]:
    """The student's tensors: a distillation run's ``student.safetensors``, or the
    ``student.*`` tensors of a fast checkpoint (the shipped default model carries its own).

    Raises
    ------
    CheckpointError
        Neither is there, or the weights are unreadable.
    """
    single = folder / "student.safetensors"
    if single.is_file():
        return _read_arrays(single)
    state = _student_tensors(_read_arrays(folder / "model.safetensors"))
    if not state:
        raise CheckpointError(f"{folder}: no student weights in model.safetensors")
    return state


def _student_tensors(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k.removeprefix("student."): v for k, v in arrays.items() if k.startswith("student.")}


def _read_meta(folder: Path) -> dict[str, Any]:
    path = folder / "checkpoint.json"
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FAST_FORMAT:
        raise CheckpointError(f"{path}: not a {FAST_FORMAT} checkpoint")
    if meta.get("patch_descriptor_version") != PATCH_DESCRIPTOR_VERSION:
        raise CheckpointError(
            f"{path}: made with patch descriptors v{meta.get('patch_descriptor_version')}, "
            f"this moodnet computes v{PATCH_DESCRIPTOR_VERSION}"
        )
    return meta


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable weights ({exc})") from exc


def _lyrics_from(arrays: Mapping[str, np.ndarray], folder: Path) -> LyricsBranches | None:
    if "lyrics.mean" not in arrays:
        return None
    embedding = _head_from(arrays, folder, prefix="lyrics")
    sentiment = _head_from(arrays, folder, prefix="sentiment") if "sentiment.mean" in arrays \
        else None
    fusion = np.asarray(arrays.get("fusion"), dtype=np.float32)
    if sentiment is not None:
        from moodnet.lyrics.features import SENTIMENT_FEATURE_NAMES, SENTIMENT_WORD_FEATURES

        widths = (SENTIMENT_WORD_FEATURES, len(SENTIMENT_FEATURE_NAMES))
        if sentiment.mean.shape[0] not in widths:
            raise CheckpointError(f"{folder}: the sentiment head reads "
                                  f"{sentiment.mean.shape[0]} features, not one of {widths}")
    n_branches = 1 + (sentiment is not None)
    if fusion.shape != (n_branches + 1, 2) or not np.isfinite(fusion).all():
        raise CheckpointError(f"{folder}: the lyrics fusion weights are missing or malformed")
    return LyricsBranches(embedding, sentiment, fusion)


def _head_from(
    arrays: Mapping[str, np.ndarray], folder: Path, *, prefix: str = "head"
) -> LinearHead:
    try:
        parts = {k: np.asarray(arrays[f"{prefix}.{k}"], dtype=np.float32) for k in _HEAD_KEYS}
    except KeyError as exc:
        raise CheckpointError(f"{folder}: weights lack {exc}") from exc
    n = parts["mean"].shape[0] if parts["mean"].ndim == 1 else -1
    shapes_ok = (
        0 < n <= _MAX_FEATURES and parts["std"].shape == (n,)
        and parts["weights"].shape == (n, 2) and parts["bias"].shape == (2,)
        and parts["scale"].shape == (2,)
    )
    if not shapes_ok or not all(np.isfinite(v).all() for v in parts.values()):
        raise CheckpointError(f"{folder}: head arrays have wrong shapes or non-finite values")
    if (parts["std"] <= 0).any() or (parts["scale"] <= 0).any():
        raise CheckpointError(f"{folder}: head std and scale must be positive")
    return LinearHead(**parts)


def save_fast_checkpoint(
    folder: Path, *, head: LinearHead, student_state: Mapping[str, np.ndarray] | None,
    meta: Mapping[str, Any], lyrics: LyricsBranches | None = None,
) -> None:
    """Write ``checkpoint.json`` and ``model.safetensors`` (atomically each)."""
    from safetensors.numpy import save

    from moodnet.io_utils import atomic_write, atomic_write_text

    tensors = {f"head.{k}": np.ascontiguousarray(getattr(head, k), dtype=np.float32)
               for k in _HEAD_KEYS}
    if lyrics is not None:
        for prefix, branch in (("lyrics", lyrics.embedding), ("sentiment", lyrics.sentiment)):
            if branch is not None:
                tensors.update({f"{prefix}.{k}": np.ascontiguousarray(getattr(branch, k),
                                                                      dtype=np.float32)
                                for k in _HEAD_KEYS})
        tensors["fusion"] = np.ascontiguousarray(lyrics.fusion, dtype=np.float32)
    for key, value in stored_student(student_state or {}).items():
        tensors[f"student.{key}"] = value
    folder.mkdir(parents=True, exist_ok=True)
    full = {"format": FAST_FORMAT, "patch_descriptor_version": PATCH_DESCRIPTOR_VERSION,
            "student": student_state is not None, **meta}
    payload = save(tensors)
    atomic_write(folder / "model.safetensors", lambda handle: handle.write(payload))
    atomic_write_text(folder / "checkpoint.json", json.dumps(full, indent=1) + "\n")
