"""``moodnet predict --engine ray``: the same predictions as the local engine, on a Ray cluster.

A Ray Data pipeline over the local engine's own functions::

    file list -> decode (CPU tasks: Predictor.decoder(), no model)
              -> model (an actor pool: Predictor.load once per actor, Predictor.predict_decoded;
                 one GPU per actor for torch checkpoints when the cluster has GPUs)
              -> rows streamed back to the caller, who writes them (moodnet predict's writers)

The decode stage is the model-free half of :meth:`Predictor.predict`: for the default model the
16 kHz mono samples (its patch descriptors and student CNN are the model's and run in the
actors); for torch checkpoints the log-mel. Where the two stages ask for the same resources
(CPU only), Ray Data fuses them into one operator, which saves moving the decoded audio
through the object store. A file that fails becomes a :class:`PredictionFailure` with the local
engine's message; no file fails the job. Ray is imported only here, when the engine is chosen.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodnet.core import DEFAULT_DEVICE, keep_heap_for_arrays
from moodnet.predict.models import MODELS
from moodnet.predict.results import Prediction, PredictionFailure, failure_message

DEFAULT_BATCH = 8
"""Files per Ray Data batch: a few hundred milliseconds of work for 30 s clips."""


def predict_on_ray(
    paths: Sequence[str],
    *,
    model: str | Path | None = None,
    lyrics: Mapping[str, str | Path] | None = None,
    segments: float | None = None,
    device: str = DEFAULT_DEVICE,
    bf16: bool = False,
    address: str | None = None,
    num_cpus: int | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> Iterator[Prediction | PredictionFailure]:
    """Predict ``paths`` on Ray; one result per path, in the order they finish.

    Parameters
    ----------
    paths : audio files, readable under the same path on every node (a shared file system)
    model : a shipped model name (each node loads its own installed copy), a run directory
        (on shared storage), or None for the default model
    lyrics : audio path (as given in ``paths``) -> lyrics text (``str``) or file (``Path``)
    segments : as in :meth:`moodnet.Predictor.predict`
    device : ``auto`` puts torch checkpoints on GPU actors when the cluster has GPUs; ``cpu``
        never does; the default model is numpy-only and always runs on CPUs
    bf16 : as in :meth:`moodnet.Predictor.load`
    address : a running Ray cluster; None starts a local instance (``num_cpus`` CPUs, default
        every core) for the duration of the run
    num_cpus : CPUs of the local instance
    batch_size : files per Ray Data batch

    Yields
    ------
    result : Prediction or PredictionFailure (the local engine's failure messages)

    Raises
    ------
    RayMissing
        Ray Data is not installed (``pip install 'moodnet[ray]'``).
    """
    from moodnet.predict.predictor import Predictor, _check_segments
    from moodnet.ray_support import ray_session

    _check_segments(segments)
    if not paths:
        return
    source = _model_reference(model)
    local = Predictor.load(source, device="cpu" if device == "auto" else device, bf16=bf16)
    if not local.uses_audio:
        from moodnet.errors import ParameterError

        raise ParameterError(f"{local.source}: a lyrics-only model; predict it on the local "
                             "engine (moodnet predict --lyrics-only)")
    uses_torch = local.runs_on_torch
    with ray_session(address=address, num_cpus=num_cpus) as cluster:
        gpu = uses_torch and device != "cpu" and cluster.gpus > 0
        actors = cluster.gpus if gpu else cluster.cpus
        dataset = _pipeline(
            [_item(str(p), lyrics) for p in paths], decoder=local.decoder(),
            model=str(source) if source is not None else None,
            device=("cuda" if gpu else "cpu") if device == "auto" else device,
            bf16=bf16, segments=segments, gpu=gpu, actors=max(1, actors), batch_size=batch_size,
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            yield from _results_of(batch)


def _model_reference(model: str | Path | None) -> str | Path | None:
    """What the actors load: a shipped name as it is (each node has its own copy), else the
    run directory resolved to an absolute path."""
    if model is None or str(model) in MODELS:
        return model
    return Path(model).expanduser().resolve()


def _item(path: str, lyrics: Mapping[str, str | Path] | None) -> dict[str, Any]:
    """One row of the file list. Absent values are empty strings, never None: a column of
    None alone would reach the tasks as floats (NaN)."""
    given = None if lyrics is None else lyrics.get(path)
    kind = "" if given is None else "file" if isinstance(given, Path) else "text"
    return {"path": path, "lyrics": "" if given is None else str(given), "lyrics_kind": kind}


def _pipeline(
    items: list[dict[str, Any]], *, decoder: Callable[[str], Any], model: str | None,
    device: str, bf16: bool, segments: float | None, gpu: bool, actors: int, batch_size: int,
) -> Any:
    import ray.data

    data: Any = ray.data  # typed loosely: Ray's stubs are not this module's contract
    blocks = max(1, min(len(items) // batch_size + 1, 4 * actors * 8))
    dataset = data.from_items(items, override_num_blocks=blocks)
    dataset = dataset.map_batches(
        decode_batch, fn_kwargs={"decoder": decoder}, batch_size=batch_size,
        batch_format="numpy", num_cpus=1,
    )
    return dataset.map_batches(
        ModelActor, fn_constructor_kwargs={"model": model, "device": device, "bf16": bf16},
        fn_kwargs={"segments": segments}, batch_size=batch_size, batch_format="numpy",
        compute=data.ActorPoolStrategy(min_size=1, max_size=actors),
        num_cpus=1, num_gpus=1 if gpu else 0,
    )


def decode_batch(batch: dict[str, np.ndarray], *, decoder: Callable[[str], Any],
                 ) -> dict[str, np.ndarray]:
    """Ray task: decode every file of a batch; a failure is kept as its row's ``error``.

    Parameters
    ----------
    batch : columns ``path``, ``lyrics`` (text, a file name or empty) and ``lyrics_kind``
        (``text``, ``file`` or empty)
    decoder : :meth:`moodnet.Predictor.decoder` of the model

    Returns
    -------
    batch : the same columns plus ``decoded`` (the pickled decoder output; empty bytes when it
        failed) and ``error`` (the failure message; empty when none)
    """
    from moodnet.audio.io import silence_native_stderr

    silence_native_stderr()  # failures come back as values; decoder chatter is dropped
    keep_heap_for_arrays()  # as the local engine's workers
    decoded: list[bytes] = []
    errors: list[str] = []
    for path in batch["path"]:
        try:
            decoded.append(pickle.dumps(decoder(str(path)), protocol=pickle.HIGHEST_PROTOCOL))
            errors.append("")
        except Exception as exc:  # a batch must survive one unreadable file
            decoded.append(b"")
            errors.append(failure_message(exc))
    return {**batch, "decoded": _objects(decoded), "error": _objects(errors)}


class ModelActor:
    """Ray actor: loads the model once, predicts decoded tracks.

    Parameters
    ----------
    model : as :meth:`moodnet.Predictor.load` takes it (None: the default model)
    device, bf16 : as :meth:`moodnet.Predictor.load` takes them
    """

    def __init__(self, *, model: str | None, device: str, bf16: bool) -> None:
        from moodnet.predict.predictor import Predictor

        keep_heap_for_arrays()
        self.predictor = Predictor.load(model, device=device, bf16=bf16)
        if self.predictor.runs_on_torch:  # as the local engine's model workers
            import torch

            torch.set_num_threads(1)
        else:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)

    def __call__(self, batch: dict[str, np.ndarray], *, segments: float | None,
                 ) -> dict[str, np.ndarray]:
        """Predict a batch of :func:`decode_batch`'s rows.

        Returns
        -------
        batch : columns ``path``, ``prediction`` (``Prediction.to_dict()`` as JSON; empty for
            a failure) and ``error`` (the failure message; empty when none)
        """
        predictions: list[str] = []
        errors: list[str] = []
        for decoded, error, given, kind in zip(
            batch["decoded"], batch["error"], batch["lyrics"], batch["lyrics_kind"],
            strict=True,
        ):
            prediction = ""
            if not error:
                lyrics = Path(given) if kind == "file" else given if kind == "text" else None
                try:
                    result = self.predictor.predict_decoded(
                        pickle.loads(decoded), lyrics=lyrics, segments=segments)
                    prediction = json.dumps(result.to_dict())
                except Exception as exc:  # a batch must survive one unreadable file
                    error = failure_message(exc)
            predictions.append(prediction)
            errors.append(error)
        return {"path": batch["path"], "prediction": _objects(predictions),
                "error": _objects(errors)}


def _objects(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _results_of(batch: dict[str, np.ndarray]) -> Iterator[Prediction | PredictionFailure]:
    for path, prediction, error in zip(batch["path"], batch["prediction"], batch["error"],
                                       strict=True):
        if error:
            yield PredictionFailure(str(path), str(error))
        else:
            yield Prediction.from_dict(json.loads(prediction))
