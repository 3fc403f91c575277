"""The default model at inference, in numpy: student embedding + descriptors -> linear head.

Per 3 s patch of a track, two feature blocks are concatenated: the patch descriptors of
:mod:`moodnet.audio.patch_descriptors` and the distilled musicnn embedding of
:class:`StudentWeights`. A linear head standardises them and gives two logits, ``z_v`` for
"valence > 0" and ``z_a`` for "arousal > 0". Over any stretch of a track (a segment, the whole
track) the patches' logits are averaged; then

* ``p(V > 0) = sigmoid(z_v)``, ``p(A > 0) = sigmoid(z_a)``, and the quadrant probabilities are
  their products (``p_Q1 = p(V>0) p(A>0)``, ...), so the most probable quadrant is always the
  quadrant of the signs;
* valence and arousal on [-1, 1] are ``tanh(scale * z)`` per axis, with ``scale`` fitted on
  training data so that predictions spread like the targets: the reported point always lies in
  the most probable quadrant.

Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodnet.core import QUADRANTS
from moodnet.errors import CheckpointError

POSITIVE_AXES = {"Q1": (1, 1), "Q2": (0, 1), "Q3": (0, 0), "Q4": (1, 0)}
"""Quadrant -> (valence > 0, arousal > 0), the rule of :func:`moodnet.core.quadrant_of`."""


def stored_student(state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A student state dict as it is stored: weight matrices and kernels (2-D and up) in
    float16, batch norms and biases in float32.

    The stored weights are what every later step reads (the feature cache, the head's fit, the
    shipped checkpoint), so a head is always fitted on the features that inference computes.
    Rounding the shipped 256-channel student so moved predictions by at most 0.0003.
    """
    return {name: np.ascontiguousarray(value, dtype=np.float16 if np.ndim(value) >= 2
                                       else np.float32)
            for name, value in state.items()}


@dataclass(frozen=True)
class StudentWeights:
    """The student CNN's weights, batch norms folded into the convolutions (numpy).

    Attributes
    ----------
    input_scale, input_shift : np.ndarray [shape=(n_mels,)], the input batch norm
    convs : per layer (weight [shape=(in * kernel, out)], bias [shape=(out,)], kernel)
    project, project_bias : the final linear layer, [shape=(2 * channels, 200)], [shape=(200,)]
    """

    input_scale: np.ndarray
    input_shift: np.ndarray
    convs: tuple[tuple[np.ndarray, np.ndarray, int], ...]
    project: np.ndarray
    project_bias: np.ndarray

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], *, eps: float = 1e-5) -> StudentWeights:
        """Fold a :class:`~moodnet.models.student.Student` state dict (as numpy arrays)."""
        try:
            scale, shift = _batch_norm(state, "input_norm", eps)
            convs = []
            layer = 0
            while f"convs.{layer}.weight" in state:
                weight = state[f"convs.{layer}.weight"].astype(np.float32)  # (out, in, k)
                bn_scale, bn_shift = _batch_norm(state, f"convs.{layer + 1}", eps)
                out, width, kernel = weight.shape
                folded = (weight * bn_scale[:, None, None]).reshape(out, width * kernel).T
                convs.append((np.ascontiguousarray(folded), bn_shift, kernel))
                layer += 3
            project = state["project.weight"].astype(np.float32).T
            bias = state["project.bias"].astype(np.float32)
        except KeyError as exc:
            raise CheckpointError(f"student weights: missing tensor {exc}") from exc
        if not convs:
            raise CheckpointError("student weights: no convolution layers")
        return cls(scale, shift, tuple(convs), np.ascontiguousarray(project), bias)

    @classmethod
    def load(cls, path: Path) -> StudentWeights:
        """Read ``student.safetensors`` (weights only)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            return cls.from_state(load_file(str(path)))
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"{path}: unreadable student weights ({exc})") from exc

    def embed(self, patches: np.ndarray) -> np.ndarray:
        """Imitated musicnn embeddings of log-mel patches.

        Parameters
        ----------
        patches : np.ndarray [shape=(n_patches, n_frames, n_mels)], float32, musicnn log-mel

        Returns
        -------
        embeddings : np.ndarray [shape=(n_patches, 200)], float32, the teacher's
            standardised units
        """
        x = np.asarray(patches, dtype=np.float32) * self.input_scale + self.input_shift
        for weight, bias, kernel in self.convs:
            x = _conv_stride2(x, weight, kernel)  # (P, T', C)
            x += bias
            np.maximum(x, 0.0, out=x)
        pooled = np.concatenate([x.mean(axis=1), x.max(axis=1)], axis=1)
        return pooled @ self.project + self.project_bias


def _batch_norm(state: dict[str, np.ndarray], name: str, eps: float) -> tuple[np.ndarray, ...]:
    scale = state[f"{name}.weight"] / np.sqrt(state[f"{name}.running_var"] + eps)
    shift = state[f"{name}.bias"] - state[f"{name}.running_mean"] * scale
    return scale.astype(np.float32), shift.astype(np.float32)


def _conv_stride2(x: np.ndarray, weight: np.ndarray, kernel: int) -> np.ndarray:
    """(P, T, C_in) -> (P, ceil(T / 2), C_out): stride 2, zero "same" padding."""
    n_patches, n_frames, n_in = x.shape
    pad = kernel // 2
    n_out = (n_frames + 2 * pad - kernel) // 2 + 1
    # columns[p, t, :, j] = x[p, 2 t + j - pad] (zero outside): torch's (out, in, kernel)
    # weight order; written one tap at a time, whole channel rows per copy
    columns = np.empty((n_patches, n_out, n_in, kernel), dtype=np.float32)
    for j in range(kernel):
        offset = j - pad
        first = max(0, (1 - offset) // 2)
        last = min(n_out, (n_frames - 1 - offset) // 2 + 1)
        columns[:, :first, :, j] = 0
        columns[:, last:, :, j] = 0
        columns[:, first:last, :, j] = x[:, 2 * first + offset : 2 * last + offset - 1 : 2]
    # one 2-D product over all patches runs faster than a batch of per-patch products
    out = columns.reshape(n_patches * n_out, n_in * kernel) @ weight
    return out.reshape(n_patches, n_out, -1)


@dataclass(frozen=True)
class LinearHead:
    """Standardise patch features, two logits, per-axis output scale.

    Attributes
    ----------
    mean, std : np.ndarray [shape=(n_features,)], feature standardisation (train patches)
    weights : np.ndarray [shape=(n_features, 2)], columns valence, arousal
    bias : np.ndarray [shape=(2,)]
    scale : np.ndarray [shape=(2,)], ``tanh(scale * z)`` maps mean logits onto [-1, 1]
    """

    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    scale: np.ndarray

    def logits(self, features: np.ndarray) -> np.ndarray:
        """(n_patches, n_features) -> (n_patches, 2) logits of valence > 0, arousal > 0."""
        return ((features - self.mean) / self.std) @ self.weights + self.bias


def va_from_logits(logits: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Mean logits (..., 2) -> valence/arousal on [-1, 1] (same signs)."""
    return np.tanh(np.asarray(logits) * scale)


def quadrant_probabilities(logits: np.ndarray) -> dict[str, float]:
    """Mean logits (2,) -> {"Q1": p, ...}, products of the two axes' sigmoids."""
    positive = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))
    out = {}
    for name in QUADRANTS:
        signs = POSITIVE_AXES[name]
        p_v, p_a = (p if sign else 1 - p for p, sign in zip(positive, signs, strict=True))
        out[name] = float(p_v * p_a)
    return out
