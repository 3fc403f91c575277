"""Predict and tag many files: shared by ``moodnet tag`` and the beets plugin."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from moodnet.errors import TagError
from moodnet.tagging.formats import open_audio, read_mood_tags
from moodnet.tagging.keys import MOODNET_MODEL, model_id, tag_values
from moodnet.tagging.safe import check_writable, write_tags_safely

if TYPE_CHECKING:
    from moodnet.predict import Prediction, Predictor

TAGGED, WOULD_TAG, ALREADY, FAILED = "tagged", "would tag", "already tagged", "failed"


@dataclass(frozen=True)
class TagOutcome:
    """What happened to one file.

    Attributes
    ----------
    path : the audio file, as given
    status : ``tagged``, ``would tag`` (dry run), ``already tagged`` (by this model version:
        skipped) or ``failed``
    values : the tags written or that would be written (empty when skipped or failed)
    problem : why it failed ("" otherwise)
    prediction : the prediction the tags come from, when one was made
    """

    path: str
    status: str
    values: dict[str, str] = field(default_factory=dict)
    problem: str = ""
    prediction: Prediction | None = None


def tag_files(
    predictor: Predictor,
    paths: Sequence[str],
    *,
    write: bool,
    lyrics: Mapping[str, str | Path] | None = None,
    force: bool = False,
    workers: int = 1,
) -> Iterator[TagOutcome]:
    """Predict the mood of ``paths`` and write it into their tags (``write``) or not (dry run).

    Files already tagged by this model version (same :func:`model_id`) are skipped without a
    prediction unless ``force``. Files that cannot be tagged (unknown format, damaged,
    read-only with ``write``) are reported before anything is predicted.

    Parameters
    ----------
    predictor : a loaded model
    paths : audio files
    write : write the tags (:func:`write_tags_safely`); False: only say what would be written
    lyrics : track (as in ``paths``) -> lyrics text or file
    force : tag files already tagged by this model version too
    workers : processes for the predictions (as :meth:`moodnet.Predictor.predict_many`)

    Yields
    ------
    outcome : TagOutcome, one per path: first those settled without a prediction
    """
    model = model_id(predictor)
    todo = []
    for path in paths:
        try:
            tags = read_mood_tags(open_audio(Path(path)))
            if not force and tags.get(MOODNET_MODEL) == model:
                yield TagOutcome(path, ALREADY)
                continue
            if write:
                check_writable(Path(path))
        except TagError as exc:
            yield TagOutcome(path, FAILED, problem=exc.problem)
            continue
        todo.append(path)
    yield from predict_and_tag(predictor, todo, model=model, write=write, lyrics=lyrics,
                               workers=workers)


def predict_and_tag(
    predictor: Predictor,
    paths: Sequence[str],
    *,
    model: str,
    write: bool,
    lyrics: Mapping[str, str | Path] | None = None,
    workers: int = 1,
) -> Iterator[TagOutcome]:
    """Predict ``paths`` and write their tags (``write``), without :func:`tag_files`'s checks.

    Parameters
    ----------
    predictor, lyrics, workers : as in :func:`tag_files`
    paths : audio files
    model : the :func:`model_id` of ``predictor``
    write : write the tags; False: outcomes ``would tag`` with the values

    Yields
    ------
    outcome : TagOutcome, one per path, in order
    """
    from moodnet.predict import PredictionFailure

    for result in predictor.predict_many(paths, lyrics=lyrics, workers=workers):
        if isinstance(result, PredictionFailure):
            yield TagOutcome(result.path, FAILED, problem=result.error)
            continue
        yield _tag_one(result, model=model, write=write)


def _tag_one(prediction: Prediction, *, model: str, write: bool) -> TagOutcome:
    values = tag_values(prediction, model=model)
    if not write:
        return TagOutcome(prediction.path, WOULD_TAG, values, prediction=prediction)
    try:
        write_tags_safely(prediction.path, values)
    except TagError as exc:
        return TagOutcome(prediction.path, FAILED, values, exc.problem, prediction)
    return TagOutcome(prediction.path, TAGGED, values, prediction=prediction)
