"""musicnn (Pons & Serra, ISMIR 2019 LBD) in PyTorch, with the MSD_musicnn weights shipped.

The network, for one 3 s patch of musicnn's log-mel (187 frames x 96 bands; see
:mod:`moodnet.audio.musicnn_frontend`):

- input batch norm (one channel);
- front-end: two timbral convolutions (7 frames x 38 and x 67 bands, 204 filters each) and
  three temporal ones (128, 64, 32 frames x 1 band, 51 filters each), each conv -> ReLU ->
  batch norm -> max over frequency; concatenated to 561 channels per frame;
- mid-end: three 1-D convolutions over time (7 frames, 64 filters, conv -> ReLU -> batch
  norm), the second and third with residual connections; the front-end and the three mid-end
  outputs are concatenated to 753 channels per frame;
- back-end: max and mean over time (interleaved per channel, 1506), batch norm, dense 200 ->
  ReLU -> batch norm (the 200-d **penultimate** embedding), dense 50 -> tag logits.

Every batch norm is in inference mode with TensorFlow's epsilon (1e-3). The weights were
converted once from musicnn 0.1.0's TensorFlow checkpoint by ``scripts/convert_musicnn.py``
and are stored as float16 in ``moodnet/assets/musicnn/`` (ISC licence, see the NOTICE there).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np
import torch
from torch import nn

from moodnet.audio.musicnn_frontend import (
    MUSICNN_N_MELS,
    MUSICNN_PATCH_FRAMES,
    musicnn_log_mel,
    musicnn_patches,
)
from moodnet.core import DEFAULT_DEVICE, resolve_bf16, resolve_device
from moodnet.errors import CheckpointError, ParameterError
from moodnet.models.arrays import bf16_autocast

TF_BN_EPSILON = 1e-3
MUSICNN_WEIGHTS: dict[str, str] = {
    "msd": "msd_musicnn.safetensors",
    "mtt": "mtt_musicnn.safetensors",
}
"""The shipped musicnn checkpoints by name: MSD_musicnn (Million Song Dataset tags) and
MTT_musicnn (MagnaTagATune tags), both the musicnn architecture with a 200-d penultimate."""

# Million Song Dataset Last.fm tags, in the order of the model's outputs (musicnn 0.1.0).
MSD_TAGS: tuple[str, ...] = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists",
    "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s",
    "chill", "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
    "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock",
    "60s", "rnb", "indie pop", "sad", "House", "happy",
)  # fmt: skip

# MagnaTagATune tags, in the order of MTT_musicnn's outputs (musicnn 0.1.0).
MTT_TAGS: tuple[str, ...] = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice",
    "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
    "weird", "country", "metal", "female voice", "choral",
)  # fmt: skip
MUSICNN_TAGS: dict[str, tuple[str, ...]] = {"msd": MSD_TAGS, "mtt": MTT_TAGS}

Pooling = Literal["mean", "mean_std"]


def _bn1d(channels: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(channels, eps=TF_BN_EPSILON)


class _FrequencyMaxConv(nn.Module):
    """Conv2d over (time, frequency) -> ReLU -> batch norm -> max over frequency.

    Time is zero-padded like TensorFlow's ``"same"`` (the extra frame goes at the end).
    """

    def __init__(self, filters: int, *, time: int, bands: int) -> None:
        super().__init__()
        self.time_pad = ((time - 1) // 2, time // 2)
        self.conv = nn.Conv2d(1, filters, kernel_size=(time, bands))
        self.bn = nn.BatchNorm2d(filters, eps=TF_BN_EPSILON)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 1, T, F) -> (B, filters, T)
        x = nn.functional.pad(x, (0, 0, *self.time_pad))
        x = self.conv(x)  # (B, filters, T, F')
        if self.training:
            return self.bn(torch.relu(x)).amax(dim=3)
        # Inference: ReLU and the per-channel affine batch norm are monotone, so the maximum
        # over frequency can be taken first (the minimum where the norm's scale is negative),
        # and both run on (B, filters, T) instead of (B, filters, T, F'). Same result.
        low, high = torch.aminmax(x, dim=3)  # (B, filters, T) each
        negative = (self.bn.weight < 0).view(1, -1, 1)
        x = torch.where(negative, low, high)
        return self.bn(torch.relu(x).unsqueeze(3)).squeeze(3)


class _TimeConv(nn.Module):
    """Conv1d over time ('same', 7 frames) -> ReLU -> batch norm."""

    def __init__(self, in_channels: int, filters: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, filters, kernel_size=7, padding=3)
        self.bn = _bn1d(filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(torch.relu(self.conv(x)))


@dataclass(frozen=True)
class MusicnnOutput:
    """Outputs for a batch of patches.

    Attributes
    ----------
    logits : torch.Tensor [shape=(B, n_tags)], tag logits (``sigmoid`` gives probabilities)
    penultimate : torch.Tensor [shape=(B, 200)], the embedding (after ReLU and batch norm)
    """

    logits: torch.Tensor
    penultimate: torch.Tensor


class Musicnn(nn.Module):
    """The musicnn tagger (MSD_musicnn sizes by default); see the module docstring.

    Parameters
    ----------
    n_mels : mel bands of the input (96)
    timbral_filters, temporal_filters : front-end filters per convolution (204, 51)
    midend_filters : mid-end filters (64; 512 in MSD_musicnn_big)
    backend_units : penultimate size (200; 500 in MSD_musicnn_big)
    n_tags : outputs (50)
    """

    def __init__(
        self,
        *,
        n_mels: int = MUSICNN_N_MELS,
        timbral_filters: int = 204,
        temporal_filters: int = 51,
        midend_filters: int = 64,
        backend_units: int = 200,
        n_tags: int = 50,
    ) -> None:
        super().__init__()
        self.input_bn = nn.BatchNorm2d(1, eps=TF_BN_EPSILON)
        self.timbral = nn.ModuleList(
            _FrequencyMaxConv(timbral_filters, time=7, bands=int(share * n_mels))
            for share in (0.4, 0.7)
        )
        self.temporal = nn.ModuleList(
            _FrequencyMaxConv(temporal_filters, time=time, bands=1) for time in (128, 64, 32)
        )
        frontend_channels = 2 * timbral_filters + 3 * temporal_filters
        self.midend = nn.ModuleList(
            [
                _TimeConv(frontend_channels, midend_filters),
                _TimeConv(midend_filters, midend_filters),
                _TimeConv(midend_filters, midend_filters),
            ]
        )
        pooled = 2 * (frontend_channels + 3 * midend_filters)
        self.pool_bn = _bn1d(pooled)
        self.dense = nn.Linear(pooled, backend_units)
        self.dense_bn = _bn1d(backend_units)
        self.tags = nn.Linear(backend_units, n_tags)
        self.eval()

    def forward(self, mel: torch.Tensor) -> MusicnnOutput:
        """Tag logits and penultimate embeddings of log-mel patches.

        Parameters
        ----------
        mel : torch.Tensor [shape=(B, n_frames, n_mels)], from
            :func:`~moodnet.audio.musicnn_frontend.musicnn_log_mel` (187 frames in training;
            any length >= 1 works)
        """
        x = self.input_bn(mel.unsqueeze(1))  # (B, 1, T, F)
        frontend = torch.cat([block(x) for block in (*self.timbral, *self.temporal)], dim=1)
        first = self.midend[0](frontend)  # (B, 64, T)
        second = self.midend[1](first) + first
        third = self.midend[2](second) + second
        features = torch.cat([frontend, first, second, third], dim=1)  # (B, 753, T)
        pooled = torch.stack([features.amax(dim=2), features.mean(dim=2)], dim=2)
        pooled = self.pool_bn(pooled.flatten(1))  # (B, 1506): max, mean per channel
        penultimate = self.dense_bn(torch.relu(self.dense(pooled)))  # (B, 200)
        return MusicnnOutput(logits=self.tags(penultimate), penultimate=penultimate)


def load_msd_musicnn() -> Musicnn:
    """The MSD_musicnn model with its shipped weights, in evaluation mode on the CPU (fp32)."""
    return load_musicnn(weights="msd")


def load_musicnn(*, weights: str = "msd") -> Musicnn:
    """A shipped musicnn model (:data:`MUSICNN_WEIGHTS`), in evaluation mode on the CPU (fp32).

    Raises
    ------
    ParameterError
        ``weights`` is not a shipped checkpoint's name.
    CheckpointError
        The weights file is missing from the installed package or does not fit the model.
    """
    from safetensors.torch import load as load_safetensors

    if weights not in MUSICNN_WEIGHTS:
        raise ParameterError(f"musicnn weights {weights!r}: expected one of "
                             f"{sorted(MUSICNN_WEIGHTS)}")
    source = resources.files("moodnet").joinpath("assets", "musicnn", MUSICNN_WEIGHTS[weights])
    try:
        state = load_safetensors(source.read_bytes())
    except (OSError, ValueError) as exc:  # missing file or not safetensors
        raise CheckpointError(f"cannot read musicnn weights {source}: {exc}") from exc
    model = Musicnn()
    try:
        result = model.load_state_dict(
            {name: value.float() for name, value in state.items()}, strict=False
        )
    except RuntimeError as exc:
        raise CheckpointError(f"musicnn weights {source} do not fit the model: {exc}") from exc
    missing = [name for name in result.missing_keys if not name.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise CheckpointError(
            f"musicnn weights {source} do not fit the model: missing {missing}, "
            f"unexpected {result.unexpected_keys}"
        )
    return model.eval()


@dataclass(frozen=True)
class MusicnnTrackOutput:
    """Per-track musicnn outputs.

    Attributes
    ----------
    embedding : np.ndarray [shape=(200,) or (400,)], float32, pooled penultimate layer
    tag_probabilities : np.ndarray [shape=(50,)], float32 in [0, 1], mean over patches;
        names in the embedder's ``tags``
    patch_embeddings : np.ndarray [shape=(n_patches, 200)], float32
    """

    embedding: np.ndarray
    tag_probabilities: np.ndarray
    patch_embeddings: np.ndarray


class MusicnnEmbedder:
    """Track-level musicnn embeddings and tag probabilities from 16 kHz audio.

    Preprocessing (as musicnn): 16 kHz mono -> centred STFT (n_fft 512, hop 256, periodic
    Hann) -> power -> 96-band Slaney mel -> float16 rounding -> ``log10(10000 * mel + 1)``
    -> non-overlapping 187-frame (3 s) patches, the incomplete last one dropped (clips
    shorter than 3 s are repeated to fill one patch). The network runs on every patch; the
    track embedding pools the patches' 200-d penultimate activations.

    Parameters
    ----------
    device : ``"auto"`` (CUDA when present), ``"cpu"`` or a torch device string
    batch_size : patches per forward pass
    bf16 : run under bfloat16 autocast where the device computes it natively
        (:func:`moodnet.core.resolve_bf16`; float32 elsewhere): about 1.7x faster on a CPU
        with BF16 instructions; tag probabilities within about 1e-2 of float32 and patch
        embeddings at cosine similarity > 0.999 (measured on 8 real clips)
    weights : which shipped checkpoint (:data:`MUSICNN_WEIGHTS`): ``"msd"`` or ``"mtt"``
    """

    def __init__(
        self, *, device: str = DEFAULT_DEVICE, batch_size: int = 64, bf16: bool = False,
        weights: str = "msd",
    ) -> None:
        if batch_size <= 0:
            raise ParameterError(f"batch_size={batch_size} must be positive")
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.bf16 = resolve_bf16(self.device, bf16)
        self.model = load_musicnn(weights=weights).to(self.device)
        self.tags = MUSICNN_TAGS[weights]

    @property
    def embedding_size(self) -> int:
        """Size of the penultimate layer (200)."""
        return self.model.dense.out_features

    def forward_patches(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the network on log-mel patches.

        Parameters
        ----------
        patches : np.ndarray [shape=(n_patches, n_frames, 96)], float32

        Returns
        -------
        penultimate : np.ndarray [shape=(n_patches, 200)], float32
        probabilities : np.ndarray [shape=(n_patches, 50)], float32 in [0, 1]
        """
        patches = np.asarray(patches, dtype=np.float32)
        if patches.ndim != 3 or patches.shape[2] != MUSICNN_N_MELS or patches.shape[0] == 0:
            raise ParameterError(
                f"expected (n_patches, n_frames, {MUSICNN_N_MELS}) patches, got {patches.shape}"
            )
        embeddings, probabilities = [], []
        with torch.inference_mode(), bf16_autocast(self.device, enabled=self.bf16):
            for start in range(0, patches.shape[0], self.batch_size):
                batch = torch.from_numpy(patches[start : start + self.batch_size])
                out = self.model(batch.to(self.device))
                embeddings.append(out.penultimate.float().cpu().numpy())
                probabilities.append(torch.sigmoid(out.logits).float().cpu().numpy())
        return np.concatenate(embeddings), np.concatenate(probabilities)

    def analyse(self, y_16k: np.ndarray, *, pooling: Pooling = "mean") -> MusicnnTrackOutput:
        """Embedding, tag probabilities and per-patch embeddings of one track.

        Parameters
        ----------
        y_16k : np.ndarray [shape=(n,)], mono float audio at 16 kHz
            (``moodnet.audio.load_audio(path, sr=16000)``)
        pooling : ``"mean"`` (200-d) or ``"mean_std"`` (400-d: mean then standard deviation
            over patches)
        """
        if pooling not in ("mean", "mean_std"):
            raise ParameterError(f"pooling={pooling!r} must be 'mean' or 'mean_std'")
        patches = musicnn_patches(musicnn_log_mel(y_16k), patch_frames=MUSICNN_PATCH_FRAMES)
        penultimate, probabilities = self.forward_patches(patches)
        pooled = [penultimate.mean(axis=0)]
        if pooling == "mean_std":
            pooled.append(penultimate.std(axis=0))
        return MusicnnTrackOutput(
            embedding=np.concatenate(pooled).astype(np.float32),
            tag_probabilities=probabilities.mean(axis=0).astype(np.float32),
            patch_embeddings=penultimate,
        )

    def embed(self, y_16k: np.ndarray, *, pooling: Pooling = "mean") -> np.ndarray:
        """Track embedding: the penultimate layer pooled over 3 s patches.

        Parameters
        ----------
        y_16k : np.ndarray [shape=(n,)], mono float audio at 16 kHz
        pooling : ``"mean"`` or ``"mean_std"``

        Returns
        -------
        embedding : np.ndarray [shape=(200,) for "mean", (400,) for "mean_std"], float32
        """
        return self.analyse(y_16k, pooling=pooling).embedding

    def tag_probabilities(self, y_16k: np.ndarray) -> dict[str, float]:
        """Mean tag probabilities over the track's patches, by tag name."""
        probabilities = self.analyse(y_16k).tag_probabilities
        return dict(zip(self.tags, probabilities.tolist(), strict=True))
