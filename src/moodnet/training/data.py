"""Glue from manifests and feature caches to :class:`~moodnet.models.arrays.ArrayData`.

:func:`load_dataset` reads a manifest once (log-mel stacks from the feature cache, lyrics
tokens with a vocabulary built on the train split only); :func:`with_labels` then attaches the
targets of one label scheme, fitted on the train split only. :func:`arrays_for_checkpoint`
makes the arrays of any manifest's tracks for a trained checkpoint (its vocabulary and fitted
label scheme), for evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.core import VA_RANGE
from moodnet.data.manifest import by_split, read_manifest
from moodnet.data.validate import check_trainable
from moodnet.errors import ConfigError, DataError, LyricsError
from moodnet.models.arrays import ArrayData
from moodnet.track import SPLITS, Track
from moodnet.training.config import TrainConfig
from moodnet.training.loop import DataInfo

if TYPE_CHECKING:
    from moodnet.audio import FeatureConfig
    from moodnet.labels.schemes import LabelScheme
    from moodnet.lyrics import Vocabulary
    from moodnet.models.checkpoint import Checkpoint


@dataclass
class Dataset:
    """The tracks and input arrays of a manifest's splits, without targets.

    Attributes
    ----------
    tracks : split name -> tracks (those with audio, when audio is loaded)
    arrays : split name -> arrays (mel and/or tokens; no targets)
    vocabulary : built on the train lyrics, or None
    word_vectors : np.ndarray [shape=(vocab_size, dim)], or None
    features : the feature config the mel arrays were made with, or None
    max_tokens : tokens kept per track
    dropped : split name -> ids of tracks left out (no audio file)
    """

    tracks: dict[str, list[Track]]
    arrays: dict[str, ArrayData]
    vocabulary: Vocabulary | None = None
    word_vectors: np.ndarray | None = None
    features: FeatureConfig | None = None
    max_tokens: int | None = None
    dropped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def has_lyrics(self) -> bool:
        return any(
            a.tokens is not None and bool(np.any(a.has_lyrics)) for a in self.arrays.values()
        )


@dataclass
class LabelledData:
    """Arrays with targets for one label scheme, and what a checkpoint must record."""

    train: ArrayData
    validation: ArrayData
    test: ArrayData | None
    info: DataInfo
    scheme: LabelScheme | None


def load_dataset(
    config: TrainConfig,
    *,
    audio: bool = True,
    lyrics: bool = True,
    splits: Sequence[str] = SPLITS,
    mel: bool = True,
) -> Dataset:
    """Read the manifest's splits and their log-mel / lyrics arrays.

    Parameters
    ----------
    config : uses ``data.manifest``, ``data.cache_dir``, ``features``, ``data.max_tokens``,
        ``data.min_count``, ``data.max_vocab``, ``data.word_vectors``, ``seed``
    audio : keep only tracks with an audio file and load their log-mel stacks
    lyrics : tokenise lyrics (tracks without lyrics get all-padding rows)
    splits : which splits to load; ``train`` is needed for the vocabulary
    mel : with ``audio``, read the log-mel stacks from the feature cache; False keeps the
        same tracks without reading the cache (for models that read no audio)

    Returns
    -------
    Dataset
    """
    if config.data.manifest is None:
        raise ConfigError("data.manifest is not set")
    all_tracks = read_manifest(config.data.manifest)
    train = by_split(all_tracks, "train") if "train" in splits else all_tracks
    check_trainable(train, va_range=VA_RANGE if config.data.va_scale == "unit" else None,
                    source=config.data.manifest)
    tracks: dict[str, list[Track]] = {}
    dropped: dict[str, list[str]] = {}
    for split in splits:
        chosen = by_split(all_tracks, split)
        if audio:
            dropped[split] = [t.id for t in chosen if t.audio is None]
            chosen = [t for t in chosen if t.audio is not None]
        if not chosen:
            raise DataError(f"{config.data.manifest}: no usable tracks in split {split!r}")
        tracks[split] = chosen
    arrays = {split: ArrayData(ids=tuple(t.id for t in tracks[split])) for split in splits}
    dataset = Dataset(tracks=tracks, arrays=arrays, dropped=dropped)
    if audio and mel:
        _attach_mel(dataset, config)
    if lyrics:
        _attach_tokens(dataset, config)
    return dataset


def _attach_mel(dataset: Dataset, config: TrainConfig) -> None:
    from moodnet.data.cache import FeatureCache

    if config.data.cache_dir is None:
        raise ConfigError("data.cache_dir is not set (run `moodnet extract` first)")
    cache = FeatureCache(config.data.cache_dir, config.features)
    for split, tracks in dataset.tracks.items():
        mel = cache.load_stack(tracks, mmap=True)
        dataset.arrays[split] = replace(dataset.arrays[split], mel=mel)
    dataset.features = config.features


def track_tokens(track: Track) -> list[str]:
    """The model tokens of a track's lyrics (file or inline text); [] without lyrics."""
    from moodnet.lyrics import lyrics_tokens, read_lyrics

    if track.lyrics is not None:
        try:
            return lyrics_tokens(read_lyrics(track.lyrics))
        except LyricsError as exc:
            raise DataError(f"track {track.id}: {exc}") from exc
    return lyrics_tokens(track.lyrics_text) if track.lyrics_text else []


def _attach_tokens(dataset: Dataset, config: TrainConfig) -> None:
    from moodnet.lyrics import Vocabulary

    tokens = {split: [track_tokens(t) for t in ts] for split, ts in dataset.tracks.items()}
    if "train" not in tokens:
        raise DataError("the vocabulary needs the train split")
    vocab = Vocabulary.build(
        tokens["train"], min_count=config.data.min_count, max_size=config.data.max_vocab
    )
    for split, lists in tokens.items():
        ids = encode_tokens(lists, vocabulary=vocab, max_tokens=config.data.max_tokens)
        has = np.array([len(t) > 0 for t in lists], dtype=bool)
        dataset.arrays[split] = replace(dataset.arrays[split], tokens=ids, has_lyrics=has)
    dataset.vocabulary = vocab
    dataset.max_tokens = config.data.max_tokens
    if config.data.word_vectors == "glove" and any(len(t) for t in tokens["train"]):
        from moodnet.lyrics import glove_matrix

        dataset.word_vectors, _ = glove_matrix(vocab, seed=config.seed)


def encode_tokens(
    token_lists: Sequence[Sequence[str]], *, vocabulary: Vocabulary, max_tokens: int
) -> np.ndarray:
    """Word ids of the first ``max_tokens`` tokens of each list.

    Returns
    -------
    np.ndarray [shape=(N, max_tokens)], int64, padded with 0
    """
    out = np.zeros((len(token_lists), max_tokens), dtype=np.int64)
    for i, tokens in enumerate(token_lists):
        out[i] = vocabulary.encode(list(tokens), max_len=max_tokens)
    return out


def with_labels(
    dataset: Dataset, config: TrainConfig, *, labels: str | None = None
) -> LabelledData:
    """Targets of one label scheme (fitted on the train split) attached to the arrays.

    Parameters
    ----------
    dataset : from :func:`load_dataset` (with ``train`` and ``validation`` splits)
    config : ``data.labels`` (unless ``labels`` is given), ``data.multitask``, ``data.va_scale``
    labels : ``va``, a label scheme name or ``given``

    Returns
    -------
    LabelledData
    """
    from moodnet.labels.schemes import make_scheme

    name = labels if labels is not None else config.data.labels
    for split in ("train", "validation"):
        if split not in dataset.tracks:
            raise DataError(f"training needs the {split!r} split")
    scheme = None if name == "va" else make_scheme(name, **_scheme_options(name, config))
    if scheme is not None:
        scheme.fit_tracks(_usable(dataset.tracks["train"], scheme, name))
    want_va = name == "va" or config.data.multitask
    parts: dict[str, ArrayData] = {}
    for split, tracks in dataset.tracks.items():
        keep = _keep_mask(tracks, want_va=want_va, scheme=scheme)
        kept = [t for t, k in zip(tracks, keep, strict=True) if k]
        if not kept:
            raise DataError(f"no track of split {split!r} has {name} targets")
        arrays = dataset.arrays[split].subset(np.flatnonzero(keep))
        va = _va(kept) if want_va else None
        classes = scheme.assign_tracks(kept) if scheme is not None else None
        parts[split] = replace(arrays, va=va, classes=classes)
    info = DataInfo(
        features=dataset.features.to_dict() if dataset.features is not None else None,
        label_scheme=scheme.to_json() if scheme is not None else None,
        class_names=scheme.class_names if scheme is not None else (),
        vocabulary_json=dataset.vocabulary.to_json() if dataset.vocabulary is not None else None,
        word_vectors=dataset.word_vectors,
        max_tokens=dataset.max_tokens,
        va_scale=config.data.va_scale,
    )
    return LabelledData(
        train=parts["train"],
        validation=parts["validation"],
        test=parts.get("test"),
        info=info,
        scheme=scheme,
    )


def _scheme_options(name: str, config: TrainConfig) -> dict[str, Any]:
    return {"seed": config.seed} if name.startswith("kmeans") else {}


def _uses_label(scheme: LabelScheme) -> bool:
    from moodnet.labels.schemes import GivenLabelScheme

    return isinstance(scheme, GivenLabelScheme)


def _keep_mask(tracks: Sequence[Track], *, want_va: bool, scheme: LabelScheme | None) -> np.ndarray:
    keep = np.ones(len(tracks), dtype=bool)
    for i, track in enumerate(tracks):
        if want_va or (scheme is not None and not _uses_label(scheme)):
            keep[i] &= track.has_va
        if scheme is not None and _uses_label(scheme):
            keep[i] &= track.label is not None
    return keep


def _usable(tracks: Sequence[Track], scheme: LabelScheme, name: str) -> list[Track]:
    usable = [t for t in tracks if (t.label is not None if _uses_label(scheme) else t.has_va)]
    if not usable:
        raise DataError(f"no train track has targets for label scheme {name!r}")
    return usable


def _va(tracks: Sequence[Track]) -> np.ndarray:
    return np.array([[t.valence, t.arousal] for t in tracks], dtype=np.float32).reshape(-1, 2)


def load_training_data(config: TrainConfig) -> LabelledData:
    """:func:`load_dataset` + :func:`with_labels` for the configured model and labels."""
    from moodnet.models import model_spec

    spec = model_spec(config.model.name)
    dataset = load_dataset(config, audio=spec.uses_audio, lyrics=spec.uses_lyrics)
    return with_labels(dataset, config)


# -- evaluation of a checkpoint on any manifest -----------------------------------------------


def arrays_for_checkpoint(
    checkpoint: Checkpoint,
    tracks: Sequence[Track],
    *,
    cache_dir: str | Path | None,
) -> ArrayData:
    """Inputs and targets of ``tracks`` for a trained checkpoint.

    Log-mel comes from the feature cache for the checkpoint's feature config; tokens use the
    checkpoint's vocabulary; class targets use its fitted label scheme. Tracks without the
    needed targets or audio are left out.

    Parameters
    ----------
    checkpoint : a loaded checkpoint
    tracks : the tracks to evaluate
    cache_dir : the feature cache (needed for audio models)

    Returns
    -------
    ArrayData
    """
    from moodnet.labels.schemes import scheme_from_json

    scheme = scheme_from_json(checkpoint.label_scheme) if checkpoint.label_scheme else None
    want_va = checkpoint.model_config.has_va
    keep = _keep_mask(tracks, want_va=want_va, scheme=scheme)
    if checkpoint.uses_audio:
        keep &= np.array([t.audio is not None for t in tracks], dtype=bool)
    kept = [t for t, k in zip(tracks, keep, strict=True) if k]
    if not kept:
        raise DataError("no track has the inputs and targets this checkpoint needs")
    mel = tokens = has = None
    if checkpoint.uses_audio:
        from moodnet.data.cache import FeatureCache

        features = checkpoint.feature_config()
        if cache_dir is None or features is None:
            raise ConfigError("an audio checkpoint needs a feature cache (cache_dir)")
        mel = FeatureCache(cache_dir, features).load_stack(kept, mmap=True)
    vocab = checkpoint.vocabulary()
    if checkpoint.uses_lyrics and vocab is not None:
        lists = [track_tokens(t) for t in kept]
        tokens = encode_tokens(lists, vocabulary=vocab, max_tokens=checkpoint.max_tokens or 50)
        has = np.array([len(t) > 0 for t in lists], dtype=bool)
    return ArrayData(
        mel=mel,
        tokens=tokens,
        has_lyrics=has,
        va=_va(kept) if want_va else None,
        classes=scheme.assign_tracks(kept) if scheme is not None else None,
        ids=tuple(t.id for t in kept),
    )
