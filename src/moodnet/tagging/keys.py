"""What ``moodnet tag`` writes: the tag keys, their values, and the model id.

The keys are documented for users in ``docs/tags.md``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from moodnet.core import QUADRANT_WORDS, QUADRANTS
from moodnet.errors import ParameterError

if TYPE_CHECKING:
    from moodnet.predict import Prediction, Predictor

MOOD = "MOOD"
VALENCE = "VALENCE"
AROUSAL = "AROUSAL"
MOOD_QUADRANT = "MOOD_QUADRANT"
MOODNET_MODEL = "MOODNET_MODEL"
TAG_KEYS: tuple[str, ...] = (MOOD, VALENCE, AROUSAL, MOOD_QUADRANT, MOODNET_MODEL)
"""Every key ``moodnet tag`` writes, in the order it writes them."""

_DIGEST_CHARS = 12
_CHUNK = 1 << 20


def model_id(predictor: Predictor) -> str:
    """The ``MOODNET_MODEL`` value of a loaded model: which model and version tagged a file.

    ``<the model's id>@<sha256 of checkpoint.json and weights, 12 hex> (moodnet
    <package version>)``, e.g. ``moodnet-default-3@1a2b3c4d5e6f (moodnet 0.1.0)``; the id is
    :attr:`moodnet.Predictor.model_id`, the one every prediction carries. Two runs give the same
    id exactly when the checkpoint files and the moodnet version are the same, which is what
    makes a rerun of ``moodnet tag`` skip files it already tagged.

    Parameters
    ----------
    predictor : a loaded :class:`moodnet.Predictor`

    Returns
    -------
    model_id : str
    """
    from moodnet.version import __version__

    source = Path(predictor.source)
    return f"{predictor.model_id}@{checkpoint_digest(source)} (moodnet {__version__})"


def checkpoint_digest(run_dir: Path) -> str:
    """The first 12 hex digits of the SHA-256 of a checkpoint's ``checkpoint.json`` and weights.

    Parameters
    ----------
    run_dir : a checkpoint folder (``docs/DESIGN.md``)

    Returns
    -------
    digest : str, 12 lowercase hex digits
    """
    from moodnet.models.checkpoint import CHECKPOINT_JSON, WEIGHTS, WEIGHTS_TORCH

    digest = hashlib.sha256()
    for name in (CHECKPOINT_JSON, WEIGHTS, WEIGHTS_TORCH):
        path = run_dir / name
        if path.is_file():
            digest.update(name.encode() + b"\0")
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
    return digest.hexdigest()[:_DIGEST_CHARS]


def tag_values(prediction: Prediction, *, model: str) -> dict[str, str]:
    """The tags for one prediction, key -> text, in the order of :data:`TAG_KEYS`.

    Parameters
    ----------
    prediction : the track's :class:`moodnet.Prediction`
    model : the :func:`model_id` of the model that made it

    Returns
    -------
    values : dict[str, str]
        ``MOOD`` the quadrant's word (:func:`mood_word`), ``VALENCE`` and ``AROUSAL`` on the
        [-1, 1] scale with 3 decimals, ``MOOD_QUADRANT`` "Q1".."Q4", ``MOODNET_MODEL`` = ``model``
    """
    return {
        MOOD: mood_word(prediction.quadrant),
        VALENCE: f"{prediction.valence:.3f}",
        AROUSAL: f"{prediction.arousal:.3f}",
        MOOD_QUADRANT: prediction.quadrant,
        MOODNET_MODEL: model,
    }


def mood_word(quadrant: str) -> str:
    """The ``MOOD`` value of a quadrant: the first of its words in
    :data:`moodnet.core.QUADRANT_WORDS` (Q1 happy, Q2 tense, Q3 sad, Q4 calm).

    Raises
    ------
    ParameterError
        ``quadrant`` is not one of Q1..Q4.
    """
    if quadrant not in QUADRANT_WORDS:
        raise ParameterError(f"quadrant {quadrant!r} is not one of {QUADRANTS}")
    return QUADRANT_WORDS[quadrant][0]
