"""Tracks as arrays for the models: :class:`ArrayData`, minibatches and batched prediction.

Inference (:mod:`moodnet.models.checkpoint`, :mod:`moodnet.predict`) and training both build on
these; :mod:`moodnet.training.data` builds :class:`ArrayData` from manifests and feature caches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from moodnet.errors import DataError

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass
class ArrayData:
    """N tracks as arrays.

    Attributes
    ----------
    mel : np.ndarray [shape=(N, n_mels, T)], float32 raw log-mel, or None (lyrics-only)
    tokens : np.ndarray [shape=(N, L)], int64 word ids (0 = padding), or None (audio-only)
    has_lyrics : np.ndarray [shape=(N,)], bool
    va : np.ndarray [shape=(N, 2)], float32 (valence, arousal) targets, or None
    classes : np.ndarray [shape=(N,)], int64 class ids, or None
    ids : N track ids
    embeddings : np.ndarray [shape=(N, D)], float32 outputs of a model's frozen audio part
        (:func:`precompute_audio`), used in place of ``mel`` by models that precompute
    """

    mel: np.ndarray | None = None
    tokens: np.ndarray | None = None
    has_lyrics: np.ndarray | None = None
    va: np.ndarray | None = None
    classes: np.ndarray | None = None
    ids: tuple[str, ...] = field(default_factory=tuple)
    embeddings: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self._length()
        if self.has_lyrics is None:
            tokens = self.tokens
            self.has_lyrics = (
                np.any(tokens != 0, axis=1) if tokens is not None else np.zeros(n, dtype=bool)
            )
        if not self.ids:
            self.ids = tuple(str(i) for i in range(n))
        self._check(n)

    def _length(self) -> int:
        arrays = (self.mel, self.embeddings, self.tokens, self.va, self.classes, self.has_lyrics)
        for array in arrays:
            if array is not None:
                return int(array.shape[0])
        return len(self.ids)

    def _check(self, n: int) -> None:
        arrays = {
            "mel": self.mel,
            "tokens": self.tokens,
            "has_lyrics": self.has_lyrics,
            "va": self.va,
            "classes": self.classes,
            "embeddings": self.embeddings,
        }
        for name, array in arrays.items():
            if array is not None and array.shape[0] != n:
                raise DataError(f"ArrayData: {name} has {array.shape[0]} rows, expected {n}")
        if len(self.ids) != n:
            raise DataError(f"ArrayData: {len(self.ids)} ids for {n} tracks")
        if self.mel is not None and self.mel.ndim != 3:
            raise DataError(f"ArrayData: mel must be (N, n_mels, T), got {self.mel.shape}")
        if self.tokens is not None and self.tokens.ndim != 2:
            raise DataError(f"ArrayData: tokens must be (N, L), got {self.tokens.shape}")
        if self.embeddings is not None and self.embeddings.ndim != 2:
            raise DataError(f"ArrayData: embeddings must be (N, D), got {self.embeddings.shape}")
        if self.va is not None and (self.va.ndim != 2 or self.va.shape[1] != 2):
            raise DataError(f"ArrayData: va must be (N, 2), got {self.va.shape}")
        if self.va is not None and not np.all(np.isfinite(self.va)):
            raise DataError("ArrayData: va targets contain NaN or inf")

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index: np.ndarray | Sequence[int]) -> ArrayData:
        """The tracks at ``index`` (a copy)."""
        idx = np.asarray(index, dtype=np.int64)

        def take(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[idx]

        return replace(
            self,
            mel=take(self.mel),
            tokens=take(self.tokens),
            has_lyrics=take(self.has_lyrics),
            va=take(self.va),
            classes=take(self.classes),
            ids=tuple(self.ids[i] for i in idx),
            embeddings=take(self.embeddings),
        )

    @property
    def n_mels(self) -> int:
        if self.mel is None:
            raise DataError("ArrayData: no log-mel arrays")
        return int(self.mel.shape[1])


def minibatches(
    n: int, *, batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[np.ndarray]:
    """Index arrays of consecutive (or, with ``rng``, shuffled) minibatches; none dropped.

    A last batch of a single track is merged into the previous one (batch-norm needs two).
    """
    order = rng.permutation(n) if rng is not None else np.arange(n)
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else n
        yield order[start:end]


def model_inputs(
    model: nn.Module, data: ArrayData, index: np.ndarray, *, device: torch.device
) -> dict[str, torch.Tensor]:
    """The tensors ``model`` reads for the tracks at ``index`` (mel or embeddings, tokens,
    has_lyrics); precomputed ``embeddings`` are used when the model takes them."""
    import torch

    inputs: dict[str, torch.Tensor] = {}
    if data.embeddings is not None and getattr(model, "precomputes_audio", False):
        inputs["embeddings"] = torch.from_numpy(
            np.ascontiguousarray(data.embeddings[index], dtype=np.float32)
        )
    elif getattr(model, "uses_audio", False):
        if data.mel is None:
            raise DataError("this model needs log-mel arrays")
        inputs["mel"] = torch.from_numpy(np.ascontiguousarray(data.mel[index], dtype=np.float32))
    if getattr(model, "uses_lyrics", False):
        if data.tokens is not None:
            inputs["tokens"] = torch.from_numpy(data.tokens[index].astype(np.int64))
        assert data.has_lyrics is not None  # set in __post_init__
        inputs["has_lyrics"] = torch.from_numpy(data.has_lyrics[index].astype(bool))
    return {key: value.to(device) for key, value in inputs.items()}


def precompute_audio(
    model: nn.Module,
    data: ArrayData,
    *,
    batch_size: int = 8,
    device: torch.device | None = None,
    progress: bool = False,
) -> ArrayData:
    """``data`` with ``embeddings`` from the model's frozen audio part instead of ``mel``.

    Models with ``precomputes_audio`` (``musicnn_head``, ``mid_fusion`` over it) run their
    frozen backbone once per track here instead of once per epoch. Other models, and data that
    already has embeddings, are returned unchanged.

    Parameters
    ----------
    model : a model of :data:`moodnet.models.MODELS`
    data : arrays with ``mel`` [shape=(N, n_mels, T)]
    batch_size : tracks per backbone pass
    device : where to run (default: the model's device)
    progress : show a progress bar

    Returns
    -------
    ArrayData : with ``embeddings`` [shape=(N, D)] float32 and ``mel=None``
    """
    import torch
    from tqdm.auto import tqdm

    if not getattr(model, "precomputes_audio", False) or data.embeddings is not None:
        return data
    if data.mel is None:
        raise DataError("this model needs log-mel arrays to compute its audio embeddings")
    device = device if device is not None else next(model.parameters()).device
    parts = []
    batches = list(minibatches(len(data), batch_size=batch_size))
    with torch.no_grad():
        for index in tqdm(batches, desc="embedding", unit="batch", disable=not progress):
            mel = torch.from_numpy(np.ascontiguousarray(data.mel[index], dtype=np.float32))
            embedded = model.precompute(mel.to(device))  # type: ignore[operator]
            parts.append(embedded.float().cpu().numpy())
    return replace(data, embeddings=np.concatenate(parts), mel=None)


def predict_outputs(
    model: nn.Module,
    data: ArrayData,
    *,
    batch_size: int = 64,
    device: torch.device | None = None,
    bf16: bool = False,
) -> dict[str, np.ndarray]:
    """Raw outputs of ``model`` in eval mode: ``{"va": (N, 2), "logits": (N, K)}`` float32."""
    import torch

    device = device if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    try:
        with torch.no_grad(), bf16_autocast(device, enabled=bf16):
            for index in minibatches(len(data), batch_size=batch_size):
                outputs = model(**model_inputs(model, data, index, device=device))
                for key, value in outputs.items():
                    parts.setdefault(key, []).append(value.float().cpu().numpy())
    finally:
        model.train(was_training)
    return {key: np.concatenate(values) for key, values in parts.items()}


def bf16_autocast(device: torch.device, *, enabled: bool) -> torch.autocast:
    """A bfloat16 autocast context on ``device`` (a no-op when not ``enabled``)."""
    import torch

    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)
