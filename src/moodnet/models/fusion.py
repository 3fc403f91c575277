"""Bi-modal models (Delbouys et al., 2018).

- :class:`MidFusion`: the penultimate features of an audio and a lyrics branch, concatenated
  -> dense ``hidden`` (100) -> head, trained jointly. Lyrics are optional: a track
  without them uses the lyrics branch's learned "no lyrics" vector, and ``modality_dropout``
  hides the lyrics of random training tracks so that the model also works from audio alone.
  With a frozen audio branch (``musicnn_head``) it also precomputes and accepts embeddings.
- :class:`LateFusion`: two complete unimodal models whose outputs are averaged with weight
  ``late_weight`` on audio (VA averaged; class probabilities averaged, returned as log-probs).
  Tracks without lyrics get the audio prediction alone. :func:`search_late_weight` picks the
  weight on validation predictions by grid search in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from moodnet.errors import ParameterError
from moodnet.models.config import FusionConfig, LateFusionConfig, MidFusionConfig
from moodnet.models.heads import Head, Outputs


def _branches(config: FusionConfig, *, head: bool) -> tuple[Any, Any]:
    """The audio and lyrics branch models, built from the branch configs (which carry the
    fusion config's task: :class:`FusionConfig`)."""
    from moodnet.models import model_spec

    audio, lyrics = config.audio, config.lyrics
    return model_spec(audio.name)(audio, head=head), model_spec(lyrics.name)(lyrics, head=head)


def lyrics_present(
    tokens: Tensor | None, has_lyrics: Tensor | None, *, batch_size: int, pad_id: int
) -> Tensor:
    """Boolean (B,): the track has lyrics tokens (and ``has_lyrics`` says so when given)."""
    if tokens is None:
        return torch.zeros(batch_size, dtype=torch.bool)
    present = (tokens != pad_id).any(dim=1)
    return present & has_lyrics.bool() if has_lyrics is not None else present


class MidFusion(nn.Module):
    """Audio and lyrics branch features concatenated -> dense -> head, trained jointly."""

    uses_audio = True
    uses_lyrics = True

    def __init__(self, config: MidFusionConfig, *, head: bool = True) -> None:
        super().__init__()
        self.config = config
        self.audio, self.lyrics = _branches(config, head=False)
        width = self.audio.n_features + self.lyrics.n_features
        self.dropout = nn.Dropout(config.dropout)
        self.dense = nn.Linear(width, config.hidden)
        self.n_features = config.hidden
        self.head = Head(self.n_features, config, dropout=config.dropout) if head else None

    @property
    def precomputes_audio(self) -> bool:
        """The audio branch has a frozen part whose output can be computed once."""
        return bool(getattr(self.audio, "precomputes_audio", False))

    def precompute(self, mel: Tensor) -> Tensor:
        """The audio branch's frozen embedding of ``mel`` (see :attr:`precomputes_audio`)."""
        if not self.precomputes_audio:
            raise ParameterError(f"audio model {self.config.audio.name!r} precomputes nothing")
        embeddings: Tensor = self.audio.precompute(mel)
        return embeddings

    def features(
        self,
        mel: Tensor | None,
        tokens: Tensor | None,
        has_lyrics: Tensor | None,
        *,
        embeddings: Tensor | None = None,
    ) -> Tensor:
        audio_input = embeddings if embeddings is not None else mel
        if audio_input is None:
            raise ParameterError("the fusion model needs a log-mel input (mel=...)")
        batch, device = audio_input.shape[0], audio_input.device
        present = lyrics_present(
            tokens, has_lyrics, batch_size=batch, pad_id=self.config.lyrics.pad_id
        )
        present = present.to(device)
        if self.training and self.config.modality_dropout > 0:
            keep = torch.rand(batch, device=device) >= self.config.modality_dropout
            present = present & keep
        if embeddings is not None:
            if not self.precomputes_audio:
                raise ParameterError("embeddings=... needs an audio model that precomputes")
            audio = self.audio.features(None, embeddings=embeddings)  # (B, Fa)
        else:
            audio = self.audio.features(mel)  # (B, Fa)
        lyrics = self.lyrics.features(tokens, present, batch_size=batch)  # (B, Fl)
        joint = torch.cat([audio, lyrics], dim=1)  # (B, Fa + Fl)
        return torch.relu(self.dense(self.dropout(joint)))  # (B, hidden)

    def forward(
        self,
        mel: Tensor | None = None,
        tokens: Tensor | None = None,
        has_lyrics: Tensor | None = None,
        embeddings: Tensor | None = None,
    ) -> Outputs:
        if self.head is None:
            raise ParameterError("a branch built with head=False has no outputs")
        return self.head(self.features(mel, tokens, has_lyrics, embeddings=embeddings))


class LateFusion(nn.Module):
    """Weighted average of a complete audio model and a complete lyrics model."""

    uses_audio = True
    uses_lyrics = True

    def __init__(self, config: LateFusionConfig, *, head: bool = True) -> None:
        super().__init__()
        if not head:
            raise ParameterError("late fusion has no penultimate features to share")
        self.config = config
        self.audio, self.lyrics = _branches(config, head=True)

    def forward(
        self,
        mel: Tensor | None = None,
        tokens: Tensor | None = None,
        has_lyrics: Tensor | None = None,
    ) -> Outputs:
        if mel is None:
            raise ParameterError("late fusion needs a log-mel input (mel=...)")
        present = lyrics_present(
            tokens, has_lyrics, batch_size=mel.shape[0], pad_id=self.config.lyrics.pad_id
        ).to(mel.device)
        audio = self.audio(mel=mel)
        lyrics = self.lyrics(tokens=tokens, has_lyrics=present)
        weight = torch.where(present, self.config.late_weight, 1.0)[:, None]  # (B, 1)
        out: Outputs = {}
        if "va" in audio:
            out["va"] = weight * audio["va"] + (1 - weight) * lyrics["va"]  # (B, 2)
        if "logits" in audio:
            probs = weight * audio["logits"].softmax(1) + (1 - weight) * lyrics["logits"].softmax(1)
            out["logits"] = probs.clamp_min(1e-12).log()  # (B, K)
        return out


def combine_late(
    audio: np.ndarray, lyrics: np.ndarray, *, weight: float, has_lyrics: np.ndarray | None = None
) -> np.ndarray:
    """Late fusion of predictions: ``weight * audio + (1 - weight) * lyrics``.

    Parameters
    ----------
    audio, lyrics : np.ndarray [shape=(N, D)], VA predictions or class probabilities
    weight : float in [0, 1], the audio weight
    has_lyrics : np.ndarray [shape=(N,)], bool; tracks without lyrics keep the audio prediction

    Returns
    -------
    np.ndarray [shape=(N, D)]
    """
    if audio.shape != lyrics.shape:
        raise ParameterError(f"late fusion: shapes differ, {audio.shape} vs {lyrics.shape}")
    if not 0.0 <= weight <= 1.0:
        raise ParameterError(f"late fusion: weight {weight} is not in [0, 1]")
    w = np.full((audio.shape[0], 1), weight)
    if has_lyrics is not None:
        w[~np.asarray(has_lyrics, dtype=bool)] = 1.0
    return (w * audio + (1 - w) * lyrics).astype(audio.dtype)


def search_late_weight(
    audio: np.ndarray,
    lyrics: np.ndarray,
    target: np.ndarray,
    *,
    has_lyrics: np.ndarray | None = None,
    grid: np.ndarray | None = None,
) -> float:
    """The audio weight in ``grid`` (default 0, 0.05, ..., 1) that fits ``target`` best.

    Parameters
    ----------
    audio, lyrics : np.ndarray [shape=(N, 2)] VA predictions, or [shape=(N, K)] class
        probabilities
    target : np.ndarray [shape=(N, 2)] VA targets (scored by mean squared error), or
        [shape=(N,)] class ids (scored by negative log-likelihood)
    has_lyrics : np.ndarray [shape=(N,)], bool, optional
    grid : np.ndarray [shape=(G,)], candidate weights in [0, 1]

    Returns
    -------
    float : the best weight; the smallest one among ties
    """
    candidates = np.linspace(0.0, 1.0, 21) if grid is None else np.asarray(grid, dtype=float)
    score = _late_score(target)
    losses = [
        score(combine_late(audio, lyrics, weight=float(w), has_lyrics=has_lyrics))
        for w in candidates
    ]
    return round(float(candidates[int(np.argmin(losses))]), 6)


def _late_score(target: np.ndarray) -> Callable[[np.ndarray], float]:
    if target.ndim == 2:
        return lambda pred: float(np.mean((pred - target) ** 2))
    ids = np.asarray(target, dtype=np.int64)

    def nll(probs: np.ndarray) -> float:
        return float(-np.mean(np.log(np.clip(probs[np.arange(len(ids)), ids], 1e-12, None))))

    return nll
