"""The worker processes of :meth:`moodnet.Predictor.predict_many` (``workers > 1``).

``"model"`` workers load the model once and predict whole files; ``"decode"`` workers only
decode and compute the log-mel (no torch), the model running in the calling process. Both run
in :func:`moodnet.core.worker_pool`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from moodnet.predict.results import Prediction, PredictionFailure, failure_message
from moodnet.predict.windows import TrackFeatures, track_features

if TYPE_CHECKING:
    from moodnet.predict.predictor import Predictor

_Result = TypeVar("_Result")


_WORKER_STATE: dict[str, Any] = {}
"""The predictor of a model worker process (set by its initializer; empty elsewhere)."""


def _features_job(path: str, feature_config: Any) -> TrackFeatures | PredictionFailure:
    try:
        return track_features(path, feature_config=feature_config)
    except Exception as exc:  # a batch must survive one unreadable file
        return PredictionFailure(path, failure_message(exc))


def _start_model_worker(source: str, device: str, bf16: bool) -> None:
    from moodnet.audio.io import silence_native_stderr
    from moodnet.predict.predictor import Predictor

    silence_native_stderr()  # failures come back as values; decoder chatter is dropped
    try:
        predictor = Predictor.load(source, device=device, bf16=bf16)
        if predictor.runs_on_torch:
            import torch

            torch.set_num_threads(1)
        else:  # one BLAS thread per worker process: the workers are the parallelism
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
            predictor.lyrics_threads = 1
        _WORKER_STATE["predictor"] = predictor
    except Exception as exc:  # reported per track: a pool must not respawn a failing worker
        _WORKER_STATE["error"] = f"the model did not load in a worker: {exc}"


def _model_worker_job(
    path: str, lyrics: str | Path | None, segments: float | None,
) -> Prediction | PredictionFailure:
    predictor: Predictor | None = _WORKER_STATE.get("predictor")
    if predictor is None:
        return PredictionFailure(path, _WORKER_STATE.get("error", "no model in this worker"))
    return predictor._predict_or_fail(path, lyrics, segments)


def _in_order(
    job: Callable[..., _Result], arguments: Sequence[tuple[Any, ...]], *, workers: int,
    initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
    inherit: bool = False,
) -> Generator[_Result, None, None]:
    """``job(*args)`` for every tuple of ``arguments`` in ``workers`` processes of
    :func:`moodnet.core.worker_pool` (``inherit`` as there), yielded in order; closing the
    generator (or an interrupt while it runs) stops the workers at once."""
    from moodnet.core import worker_pool

    with worker_pool(min(workers, len(arguments)), initializer=initializer,
                     initargs=initargs, inherit=inherit) as pool:
        yield from pool.map(job, *zip(*arguments, strict=True))
