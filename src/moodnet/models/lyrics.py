"""Lyrics models over word ids (B, L), padded with ``pad_id``.

- :class:`LyricsCNN`: Delbouys et al. (2018): word vectors -> Conv1d 16x2 -> max-pool 2 ->
  LSTM 40 -> head (the LSTM's last state is the penultimate feature).
- :class:`LyricsBag`: bag of embeddings: masked mean and max of the word vectors -> dense ->
  head. With lexicon columns appended to the word vectors (e.g. Warriner valence/arousal per
  word) it is a lexicon MLP.

Tracks without lyrics (``has_lyrics`` False, or no non-pad token) get a learned "no lyrics"
feature vector instead of their encoding, so every track gets a prediction.
The embedding rows are set from a given matrix with :func:`set_word_vectors`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from moodnet.errors import ParameterError
from moodnet.models.config import LyricsBagConfig, LyricsCNNConfig, LyricsConfig
from moodnet.models.heads import Head, Outputs


class _LyricsModel(nn.Module):
    uses_audio = False
    uses_lyrics = True
    n_features: int

    def __init__(self, config: LyricsConfig, n_features: int, *, head: bool) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(
            config.vocab_size, config.embed_dim, padding_idx=config.pad_id
        )
        self.embedding.weight.requires_grad_(not config.freeze_embedding)
        self.no_lyrics = nn.Parameter(torch.zeros(n_features))
        self.n_features = n_features
        self.head = Head(n_features, config, dropout=config.dropout) if head else None

    def encode(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        raise NotImplementedError

    def features(
        self, tokens: Tensor | None, has_lyrics: Tensor | None, *, batch_size: int
    ) -> Tensor:
        """Penultimate features (B, n_features); the "no lyrics" vector where lyrics are absent."""
        if tokens is None:
            return self.no_lyrics.expand(batch_size, -1)
        if tokens.ndim != 2 or tokens.shape[0] != batch_size:
            raise ParameterError(
                f"tokens: expected shape ({batch_size}, L), got {tuple(tokens.shape)}"
            )
        lengths = (tokens != self.config.pad_id).sum(dim=1)  # (B,)
        present = lengths > 0
        if has_lyrics is not None:
            present = present & has_lyrics.bool()
        encoded = self.encode(tokens, lengths)  # (B, F)
        return torch.where(present[:, None], encoded, self.no_lyrics.expand_as(encoded))

    def forward(
        self,
        mel: Tensor | None = None,
        tokens: Tensor | None = None,
        has_lyrics: Tensor | None = None,
    ) -> Outputs:
        if self.head is None:
            raise ParameterError("a branch built with head=False has no outputs")
        batch_size = _batch_size(mel, tokens, has_lyrics)
        return self.head(self.features(tokens, has_lyrics, batch_size=batch_size))


class LyricsCNN(_LyricsModel):
    """Word vectors -> Conv1d -> max-pool -> LSTM; features = the LSTM's last hidden state."""

    config: LyricsCNNConfig

    def __init__(self, config: LyricsCNNConfig, *, head: bool = True) -> None:
        super().__init__(config, config.hidden, head=head)
        self.conv = nn.Conv1d(config.embed_dim, config.channels, config.kernel)
        self.pool = nn.MaxPool1d(config.pool)
        self.lstm = nn.LSTM(config.channels, config.hidden, batch_first=True)

    def encode(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        kernel, pool = self.config.kernel, self.config.pool
        shortest = kernel + pool - 1
        if tokens.shape[1] < shortest:
            tokens = nn.functional.pad(
                tokens, (0, shortest - tokens.shape[1]), value=self.config.pad_id
            )
        x = self.embedding(tokens).transpose(1, 2)  # (B, E, L)
        x = self.pool(torch.relu(self.conv(x))).transpose(1, 2)  # (B, L', C)
        steps = ((lengths - kernel + 1) // pool).clamp(1, x.shape[1])  # (B,)
        packed = pack_padded_sequence(x, steps.cpu(), batch_first=True, enforce_sorted=False)
        _, (hidden, _) = self.lstm(packed)  # (1, B, H)
        return hidden[-1]  # (B, H)


class LyricsBag(_LyricsModel):
    """Masked mean and max of the word vectors -> dense ``hidden`` (a lexicon/BoE MLP)."""

    def __init__(self, config: LyricsBagConfig, *, head: bool = True) -> None:
        super().__init__(config, config.hidden, head=head)
        self.dropout = nn.Dropout(config.dropout)
        self.dense = nn.Linear(2 * config.embed_dim, config.hidden)

    def encode(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        vectors = self.embedding(tokens)  # (B, L, E)
        mask = (tokens != self.config.pad_id).unsqueeze(-1)  # (B, L, 1)
        mean = (vectors * mask).sum(1) / lengths.clamp(min=1).unsqueeze(-1)  # (B, E)
        peak = vectors.masked_fill(~mask, float("-inf")).amax(1)  # (B, E)
        peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
        pooled = torch.cat([mean, peak], dim=1)  # (B, 2E)
        return torch.relu(self.dense(self.dropout(pooled)))  # (B, F)


def _batch_size(mel: Tensor | None, tokens: Tensor | None, has_lyrics: Tensor | None) -> int:
    for tensor in (tokens, mel, has_lyrics):
        if tensor is not None:
            return int(tensor.shape[0])
    raise ParameterError("no input given: pass tokens, mel or has_lyrics")


def set_word_vectors(model: nn.Module, matrix: np.ndarray) -> None:
    """Copy word vectors into every lyrics embedding of ``model``.

    Parameters
    ----------
    model : a model of :data:`moodnet.models.MODELS`
    matrix : np.ndarray [shape=(vocab_size, embed_dim)], row ``i`` is the vector of word id
        ``i`` (the padding row is zeroed)
    """
    found = False
    for module in model.modules():
        if isinstance(module, _LyricsModel):
            weight = module.embedding.weight
            array = np.asarray(matrix, dtype=np.float32)
            if array.shape != tuple(weight.shape):
                raise ParameterError(
                    f"word vectors: shape {array.shape}, the model expects {tuple(weight.shape)}"
                )
            with torch.no_grad():
                weight.copy_(torch.from_numpy(array))
                weight[module.config.pad_id].zero_()
            found = True
    if not found:
        raise ParameterError("this model has no lyrics embedding")
