"""The Python API: :class:`Predictor` predicts the mood of tracks and lyrics with a model.

The default model (``moodnet-fast/1``) scores every 3 s patch of a track
(:mod:`moodnet.predict.fast_predict`); a torch checkpoint reads the track's log-mel in windows
as long as its training clips and averages its outputs (:mod:`moodnet.predict.windows`).
``segments=S`` adds the valence/arousal of every ``S``-second stretch of the track. Model
names: :mod:`moodnet.predict.models`; worker processes: :mod:`moodnet.predict.workers`.

Valence and arousal are on the [-1, 1] scale of ``docs/DESIGN.md``; quadrants are Q1 = V>0,A>0;
Q2 = V<=0,A>0; Q3 = V<=0,A<=0; Q4 = V>0,A<=0.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.audio.patch_descriptors import PATCH_SECONDS
from moodnet.core import AUDIO_EXTENSIONS, DEFAULT_DEVICE, QUADRANTS, quadrant_of, resolve_bf16
from moodnet.errors import (
    CheckpointError,
    LyricsError,
    LyricsWarning,
    MoodnetError,
    ParameterError,
)
from moodnet.predict.fast_predict import DecodedAudio
from moodnet.predict.models import resolve_model_dir
from moodnet.predict.moods import nearest_mood_words
from moodnet.predict.results import Prediction, PredictionFailure, Segment, failure_message
from moodnet.predict.windows import (
    MAX_DURATION_S,
    TrackFeatures,
    _window,
    _window_plans,
    track_features,
)
from moodnet.predict.workers import (
    _features_job,
    _in_order,
    _model_worker_job,
    _start_model_worker,
)

if TYPE_CHECKING:
    from moodnet.audio import FeatureConfig
    from moodnet.models.checkpoint import Checkpoint
    from moodnet.models.fast_model import FastModel

MIN_SEGMENT_S = 1.0

POOLS = ("auto", "model", "decode")
_BATCH_WINDOWS = 32
_EMBEDDING_CACHE = 256


def is_audio_file(path: str | Path) -> bool:
    """Whether a file name has one of :data:`AUDIO_EXTENSIONS` (case-insensitive)."""
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


class Predictor:
    """A loaded model that predicts the mood of audio files (and their lyrics).

    Build it with :meth:`load`. It is safe to call :meth:`predict` from several threads.

    Attributes
    ----------
    lyrics_threads : int > 0 or None
        Threads of the default model's sentence encoder, read when the first lyrics load it
        (None: one per physical core; a worker of :meth:`predict_many` sets 1).
    """

    _checkpoint: Checkpoint

    def __init__(
        self, checkpoint: Checkpoint | FastModel, *, source: Path, bf16: bool = False,
    ) -> None:
        from moodnet.models.fast_model import FastModel

        self.source = source
        self.lyrics_threads: int | None = None
        self._encoder: Any = None
        self._encoder_lock = threading.Lock()
        self._embeddings: dict[str, np.ndarray] = {}
        self._fast: FastModel | None = None
        if isinstance(checkpoint, FastModel):  # the default model: numpy only
            self._fast = checkpoint
            self._device, self._bf16, self._vocabulary, self._features = "cpu", False, None, None
            return
        features = checkpoint.feature_config() if checkpoint.uses_audio else None
        if checkpoint.uses_audio and features is None:
            raise CheckpointError(f"{source}: the checkpoint records no feature config")
        self._checkpoint = checkpoint
        self._features = features
        self._vocabulary = checkpoint.vocabulary() if checkpoint.uses_lyrics else None
        if self._vocabulary is not None and not checkpoint.max_tokens:
            raise CheckpointError(f"{source}: a lyrics model without max_tokens")
        self._device = str(checkpoint.device)
        self._bf16 = resolve_bf16(checkpoint.device, bf16)

    @classmethod
    def load(
        cls, name_or_dir: str | Path | None = None, *, device: str = DEFAULT_DEVICE,
        bf16: bool = False,
    ) -> Predictor:
        """Load a shipped model by name (None: the default one) or a training run directory.

        Parameters
        ----------
        name_or_dir : one of :data:`MODELS`, a run directory, or None for ``"default"``
        device : "auto" (CUDA when present, else CPU), "cpu", "cuda", ...
        bf16 : predict under bfloat16 autocast: faster on CPUs with AMX / AVX-512 BF16, outputs
            within about 1 % of float32; ignored, with a warning, where the device has no
            native bfloat16 (:func:`moodnet.core.resolve_bf16`)

        Raises
        ------
        CheckpointError
            The name is unknown, or the folder is missing parts.
        """
        from moodnet.models.fast_model import FastModel, is_fast_checkpoint

        folder = resolve_model_dir(name_or_dir)
        if is_fast_checkpoint(folder):
            return cls(FastModel.load(folder), source=folder)
        from moodnet.models.checkpoint import load_checkpoint

        return cls(load_checkpoint(folder, device=device), source=folder, bf16=bf16)

    @property
    def mood_word_placements(self) -> dict[str, list[float]] | None:
        """Where the model places Russell's mood words on its VA scale (None: on Russell's
        circle, :func:`moodnet.predict.moods.mood_words`)."""
        return self._fast.meta.get("mood_words") if self._fast is not None else None

    @property
    def model_id(self) -> str:
        """The id written beside every prediction: the checkpoint's ``model_id``, or
        ``<architecture>:<run folder name>`` for checkpoints that have none."""
        if self._fast is not None:
            return self._fast.model_id
        stored = getattr(self._checkpoint, "model_id", None)
        return str(stored or f"{self._checkpoint.model_config.name}:{self.source.name}")

    @property
    def class_names(self) -> tuple[str, ...]:
        """Names of the classes of the model's class head (empty when it has none)."""
        if self._fast is not None:
            return QUADRANTS
        return tuple(self._checkpoint.class_names or ())

    @property
    def runs_on_torch(self) -> bool:
        """Whether the audio model is a torch network (False for the numpy default model)."""
        return self._fast is None

    @property
    def uses_audio(self) -> bool:
        """Whether the model reads audio (False for a lyrics-only model)."""
        return self._fast is not None or self._checkpoint.uses_audio

    @property
    def uses_lyrics(self) -> bool:
        """Whether the model reads lyrics."""
        if self._fast is not None:
            return self._fast.lyrics is not None
        return self._vocabulary is not None

    @property
    def feature_config(self) -> FeatureConfig:
        """The checkpoint's :class:`moodnet.audio.FeatureConfig` (audio models)."""
        if self._features is None:
            raise ParameterError(f"{self.source}: a lyrics-only model has no audio features")
        return self._features

    @property
    def window_s(self) -> float:
        """Seconds of audio the model sees at once (its training clip length); 0 without audio."""
        if self._fast is not None:
            return PATCH_SECONDS
        return float(self._features.clip_seconds) if self._features is not None else 0.0

    @property
    def va_scale(self) -> str:
        """Scale of valence/arousal: ``unit`` is [-1, 1] (DESIGN.md); ``zscore`` otherwise."""
        if self._fast is not None:
            return "unit"
        return self._checkpoint.va_scale or "unit"

    def describe(self) -> dict[str, Any]:
        """What the model is: source folder, name, classes, inputs, window length, VA scale."""
        return {
            "source": str(self.source),
            "model_id": self.model_id,
            "name": "fast" if self._fast is not None else self._checkpoint.model_config.name,
            "class_names": list(self.class_names),
            "uses_audio": self.uses_audio,
            "uses_lyrics": self.uses_lyrics,
            "window_s": round(self.window_s, 3),
            "va_scale": self.va_scale,
        }

    def predict(
        self,
        audio_path: str | Path,
        *,
        lyrics: str | Path | None = None,
        segments: float | None = None,
    ) -> Prediction:
        """Predict the mood of one track.

        Parameters
        ----------
        audio_path : an audio file (anything :func:`moodnet.audio.load_audio` decodes)
        lyrics : the lyrics as text (``str``), a lyrics file (``Path``), or None
        segments : also give valence/arousal for every ``segments``-second stretch
            (>= 1 s); None for the whole-track prediction only. The model always sees
            windows of its training clip length: a stretch longer than that averages the
            windows tiling it, a shorter one gets the window centred on it (a moving
            average), so a track shorter than one window gives the same value everywhere

        Returns
        -------
        prediction : Prediction

        Raises
        ------
        AudioError
            The file is missing, does not decode, or is empty, silent or too short.
        LyricsError
            The lyrics file cannot be read.
        ParameterError
            ``segments`` is below 1 s or not finite.
        """
        _check_segments(segments)
        if not self.uses_audio:
            return self._predict_lyrics_only(str(audio_path), lyrics)
        return self.predict_decoded(self.decode(audio_path), lyrics=lyrics, segments=segments)

    def decode(self, audio_path: str | Path) -> DecodedAudio | TrackFeatures:
        """The model-free first half of :meth:`predict`: decode a track (its first
        :data:`MAX_DURATION_S` seconds) into what :meth:`predict_decoded` reads. Torch-free,
        so it can run apart from the model (the decode pool, the Ray engine's CPU tasks).

        Returns
        -------
        decoded : DecodedAudio (the default model: 16 kHz mono samples) or TrackFeatures
            (torch checkpoints: the log-mel of the checkpoint's feature config)

        Raises
        ------
        AudioError
            As :func:`moodnet.audio.load_audio`.
        """
        return self.decoder()(audio_path)

    def decoder(self) -> Callable[[str | Path], DecodedAudio | TrackFeatures]:
        """:meth:`decode` as a picklable function that holds no model (for processes or
        cluster tasks that never load it)."""
        if self._fast is not None:
            from moodnet.predict.fast_predict import decode_fast

            return functools.partial(decode_fast, max_duration=MAX_DURATION_S)
        return functools.partial(track_features, feature_config=self.feature_config,
                                 max_duration=MAX_DURATION_S)

    def predict_decoded(
        self,
        decoded: DecodedAudio | TrackFeatures,
        *,
        lyrics: str | Path | None = None,
        segments: float | None = None,
    ) -> Prediction:
        """The model half of :meth:`predict`, on what :meth:`decode` returned.

        Raises
        ------
        LyricsError
            The lyrics file cannot be read.
        ParameterError
            ``segments`` is below 1 s, or ``decoded`` is not of this model's kind.
        """
        _check_segments(segments)
        if self._fast is not None:
            from moodnet.predict.fast_predict import predict_fast_decoded

            if not isinstance(decoded, DecodedAudio):
                raise ParameterError(f"{decoded.path}: the default model reads DecodedAudio, "
                                     f"got {type(decoded).__name__}")
            offset, note = self._fast_lyrics_offset(lyrics)
            return predict_fast_decoded(self._fast, decoded, segments=segments,
                                        lyrics_offset=offset, lyrics_note=note)
        if not isinstance(decoded, TrackFeatures):
            raise ParameterError(f"{decoded.path}: this model reads TrackFeatures, "
                                 f"got {type(decoded).__name__}")
        return self.predict_features(decoded, lyrics=lyrics, segments=segments)

    def predict_lyrics(self, lyrics: str | Path, *, name: str | None = None) -> Prediction:
        """Mood from lyrics alone (the default model's lyrics branch, no audio).

        Parameters
        ----------
        lyrics : the lyrics as text (``str``) or a lyrics file (``Path``)
        name : the result's ``path`` (default: the file, or ``"<lyrics>"`` for text)

        Raises
        ------
        LyricsError
            The file cannot be read, the text is unusable (too short, not English), or the
            model has no lyrics branch.
        """
        source = name or (str(lyrics) if isinstance(lyrics, Path) else "<lyrics>")
        if self._fast is None:
            return self._predict_lyrics_only(source, lyrics)
        offset, note = self._fast_lyrics_offset(lyrics)
        if offset is None:
            raise LyricsError(source, note or "this model has no lyrics branch")
        from moodnet.models.fast_model import PatchLogits
        from moodnet.predict.fast_predict import prediction_from_logits

        empty = PatchLogits(np.zeros((1, 2)), np.array([[0.0, 1.0]]), 0.0)
        return prediction_from_logits(self._fast, source, empty, None, lyrics_offset=offset)

    def _fast_lyrics_offset(self, lyrics: str | Path | None) -> tuple[np.ndarray | None, str]:
        """The default model's lyrics logit offset, or None and why not."""
        if lyrics is None or self._fast is None or self._fast.lyrics is None:
            return None, ""
        from moodnet.lyrics import read_lyrics
        from moodnet.lyrics.usable import lyrics_problem

        _warn_if_file_name(lyrics)
        text = read_lyrics(lyrics) if isinstance(lyrics, Path) else lyrics
        problem = lyrics_problem(text)
        if problem is not None:
            return None, problem
        return self._fast.lyrics_offset(self._sentence_embedding(text), text=text), ""

    def _sentence_embedding(self, text: str) -> np.ndarray:
        """all-MiniLM-L6-v2 embedding of lyrics; the encoder loads on first use, and the last
        texts' embeddings are kept (keyed by the text)."""
        with self._encoder_lock:
            if self._encoder is None:
                from moodnet.lyrics.embeddings import SENTENCE_MODEL, SentenceEncoder

                recipe = self._fast.meta.get("lyrics_encoder") if self._fast else None
                self._encoder = SentenceEncoder.from_recipe(
                    recipe or SENTENCE_MODEL, device="cpu", threads=self.lyrics_threads)
            cached = self._embeddings.get(text)
            if cached is None:
                cached = self._encoder.encode([text])[0]
                if len(self._embeddings) >= _EMBEDDING_CACHE:
                    self._embeddings.pop(next(iter(self._embeddings)))
                self._embeddings[text] = cached
            return cached

    def predict_features(
        self,
        features: TrackFeatures,
        *,
        lyrics: str | Path | None = None,
        segments: float | None = None,
    ) -> Prediction:
        """Predict from features made by :func:`track_features` (see :meth:`predict`)."""
        _check_segments(segments)
        tokens = self._encode_lyrics(lyrics)
        window_frames = self.feature_config.n_frames
        whole, spans, segment_plans = _window_plans(
            features, window_frames=window_frames,
            frames_per_s=1.0 / self.feature_config.frame_seconds, segments=segments,
        )
        starts = sorted({start for plan in [whole, *segment_plans] for start in plan})
        va, probs = self._run_windows(features.mel, starts, window_frames, tokens)
        row = {start: i for i, start in enumerate(starts)}

        def mean_of(plan: list[int]) -> tuple[np.ndarray, np.ndarray | None]:
            idx = [row[s] for s in plan]
            return va[idx].mean(axis=0), None if probs is None else probs[idx].mean(axis=0)

        track_va, track_probs = mean_of(whole)
        segment_list = []
        for (a_s, b_s), plan in zip(spans, segment_plans, strict=True):
            seg_va, _ = mean_of(plan)
            segment_list.append(Segment(a_s, b_s, float(seg_va[0]), float(seg_va[1])))
        return self._prediction(features.path, track_va, track_probs,
                                used_lyrics=tokens is not None, segments=segment_list)

    def predict_many(
        self,
        paths: Iterable[str | Path],
        *,
        lyrics_dir: str | Path | None = None,
        lyrics: Mapping[str, str | Path] | None = None,
        segments: float | None = None,
        workers: int = 1,
        pool: str = "auto",
    ) -> Iterator[Prediction | PredictionFailure]:
        """Predict many tracks, yielding results in the order of ``paths``.

        A track that fails yields a :class:`PredictionFailure` and the batch goes on.

        Parameters
        ----------
        paths : audio files
        lyrics_dir : folder of ``<audio stem>.txt`` lyrics files (a missing file: no lyrics)
        lyrics : audio path (as given in ``paths``) -> lyrics text or file; wins over
            ``lyrics_dir``
        segments : as in :meth:`predict`
        workers : processes; 1 does everything in this process
        pool : how ``workers`` > 1 processes are used. ``"model"``: each loads the model once
            and predicts whole files (one torch thread each); ``"decode"``: they decode and
            compute the log-mel (torch-free) and the model runs in this process; ``"auto"``:
            ``"decode"`` when the model is on a GPU, else ``"model"`` (see
            ``bench/bench_predict.py``)

        Yields
        ------
        result : Prediction or PredictionFailure, one per path, in order

        Notes
        -----
        With ``workers`` > 1, exhaust or ``close()`` the iterator (``contextlib.closing``)
        when stopping early, so that the worker processes end at once.
        """
        _check_segments(segments)
        if workers < 1:
            raise ParameterError(f"workers must be >= 1, got {workers}")
        if pool not in POOLS:
            raise ParameterError(f"pool must be one of {POOLS}, got {pool!r}")
        jobs = [(str(p), _lyrics_for(str(p), lyrics=lyrics, lyrics_dir=lyrics_dir)) for p in paths]
        if workers == 1 or len(jobs) <= 1 or not self.uses_audio:
            for path, track_lyrics in jobs:
                yield self._predict_or_fail(path, track_lyrics, segments)
        elif pool == "decode" or (pool == "auto" and self._device.startswith("cuda")):
            yield from self._predict_decode_pool(jobs, segments=segments, workers=workers)
        else:
            yield from _in_order(
                _model_worker_job, [(path, text, segments) for path, text in jobs],
                workers=workers, initializer=_start_model_worker,
                initargs=(str(self.source), self._device, self._bf16),
                inherit=not self.runs_on_torch,
            )

    def _predict_or_fail(
        self, path: str, lyrics: str | Path | None, segments: float | None,
    ) -> Prediction | PredictionFailure:
        try:
            return self.predict(path, lyrics=lyrics, segments=segments)
        except Exception as exc:  # a batch must survive one unreadable file
            return PredictionFailure(path, failure_message(exc))

    def _predict_decode_pool(
        self, jobs: list[tuple[str, str | Path | None]], *, segments: float | None, workers: int,
    ) -> Iterator[Prediction | PredictionFailure]:
        features_jobs = [(path, self.feature_config) for path, _ in jobs]
        results = _in_order(_features_job, features_jobs, workers=workers)
        try:
            for (path, track_lyrics), features in zip(jobs, results, strict=True):
                if isinstance(features, PredictionFailure):
                    yield features
                    continue
                try:
                    yield self.predict_features(features, lyrics=track_lyrics, segments=segments)
                except MoodnetError as exc:
                    yield PredictionFailure(path, failure_message(exc))
        finally:
            results.close()

    def _encode_lyrics(self, lyrics: str | Path | None) -> np.ndarray | None:
        """Token ids (L,) of the lyrics, or None when absent, empty or unused by the model."""
        if lyrics is None or self._vocabulary is None:
            return None
        from moodnet.lyrics import lyrics_tokens, read_lyrics

        _warn_if_file_name(lyrics)
        text = read_lyrics(lyrics) if isinstance(lyrics, Path) else lyrics
        tokens = lyrics_tokens(text)
        if not tokens:
            return None
        return self._vocabulary.encode(tokens, max_len=int(self._checkpoint.max_tokens or 0))

    def _predict_lyrics_only(self, path: str, lyrics: str | Path | None) -> Prediction:
        tokens = self._encode_lyrics(lyrics)
        if tokens is None:
            raise LyricsError(path, "this model reads lyrics only, and none were given")
        out = self._checkpoint.predict_arrays(None, tokens[np.newaxis], np.ones(1, dtype=bool),
                                              bf16=self._bf16)
        va = _va_of(out, self._checkpoint)[0]
        probs = None if out.class_probs is None else np.asarray(out.class_probs[0])
        return self._prediction(path, va, probs, used_lyrics=True, segments=())

    def _prediction(
        self, path: str, va: np.ndarray, probs: np.ndarray | None, *, used_lyrics: bool,
        segments: Sequence[Segment],
    ) -> Prediction:
        valence, arousal = float(va[0]), float(va[1])
        class_probs = {} if probs is None else {
            name: float(p) for name, p in zip(self.class_names, probs, strict=True)
        }
        return Prediction(
            path=path,
            valence=valence,
            arousal=arousal,
            quadrant=quadrant_of(valence, arousal),
            class_probs=class_probs,
            mood_words=tuple(nearest_mood_words(valence, arousal, k=3)),
            used_lyrics=used_lyrics,
            segments=tuple(segments),
            model_id=self.model_id,
        )

    def _run_windows(
        self, mel: np.ndarray, starts: Sequence[int], window_frames: int,
        tokens: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Model outputs for the windows starting at ``starts``: VA (N, 2), probs (N, K)."""
        va_parts, prob_parts = [], []
        for first in range(0, len(starts), _BATCH_WINDOWS):
            batch_starts = starts[first : first + _BATCH_WINDOWS]
            batch = np.stack([
                _window(mel, s, window_frames, pad_value=self.feature_config.pad_value)
                for s in batch_starts
            ])
            n = len(batch_starts)
            batch_tokens = None if tokens is None else np.tile(tokens, (n, 1))
            has_lyrics = None if tokens is None else np.ones(n, dtype=bool)
            out = self._checkpoint.predict_arrays(batch, batch_tokens, has_lyrics,
                                                  bf16=self._bf16)
            va_parts.append(_va_of(out, self._checkpoint))
            if out.class_probs is not None:
                prob_parts.append(np.asarray(out.class_probs, dtype=np.float64))
        va = np.concatenate(va_parts)
        return va, (np.concatenate(prob_parts) if prob_parts else None)


def _va_of(out: Any, checkpoint: Checkpoint) -> np.ndarray:
    """VA (B, 2) of model outputs; a class-only model gives the probability-weighted mean of
    its classes' VA centres (recorded in the label scheme)."""
    if out.va is not None:
        return np.asarray(out.va, dtype=np.float64)
    centres = _class_centres(checkpoint)
    if centres is None or out.class_probs is None:
        raise CheckpointError(
            f"{checkpoint.model_config.name}: the model gives no valence/arousal and its "
            "label scheme records no class centres"
        )
    return np.asarray(out.class_probs, dtype=np.float64) @ centres


def _warn_if_file_name(lyrics: str | Path) -> None:
    """``lyrics="song.txt"`` is read as the text "song.txt": say so (pass a ``Path``)."""
    if isinstance(lyrics, str) and "\n" not in lyrics and (
        lyrics.lower().endswith((".txt", ".lrc")) or _is_file(lyrics)
    ):
        warnings.warn(
            f"lyrics={lyrics!r} is taken as the lyrics' text; to read the file, pass "
            f"pathlib.Path({lyrics!r})", LyricsWarning, stacklevel=4,
        )


def _is_file(name: str) -> bool:
    try:
        return Path(name).is_file()
    except (OSError, ValueError):  # too long for a file name, NUL bytes: text, not a path
        return False


def _check_segments(segments: float | None) -> None:
    if segments is not None and not (math.isfinite(segments) and segments >= MIN_SEGMENT_S):
        raise ParameterError(f"segments must be at least {MIN_SEGMENT_S} s, got {segments}")


def _lyrics_for(
    path: str, *, lyrics: Mapping[str, str | Path] | None, lyrics_dir: str | Path | None,
) -> str | Path | None:
    if lyrics is not None and path in lyrics:
        return lyrics[path]
    if lyrics_dir is not None:
        candidate = Path(lyrics_dir) / f"{Path(path).stem}.txt"
        if candidate.is_file():
            return candidate
    return None


def _class_centres(checkpoint: Checkpoint) -> np.ndarray | None:
    """VA centres (K, 2) of the classes, from the label scheme stored in the checkpoint."""
    state = (checkpoint.label_scheme or {}).get("state") or {}
    centres = state.get("centres")
    if centres is None:
        return None
    array = np.asarray(centres, dtype=np.float64)
    if array.shape != (len(checkpoint.class_names), 2) or not np.isfinite(array).all():
        return None
    return array
