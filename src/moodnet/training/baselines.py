"""Classical baselines (scikit-learn): SVR / ridge regression and SVC classification.

Features are standardised (fitted on train), the regularisation (``C`` or ``alpha``) is chosen
on the validation split, and the chosen model is kept. Inputs are plain feature matrices:
audio descriptors (:mod:`moodnet.audio.descriptors`, cached by ``moodnet extract``) and lyric
features (lexicon valence/arousal statistics, stylistic counts, TF-IDF) from
:mod:`moodnet.lyrics`; :func:`descriptor_matrix` and :func:`lyric_matrices` fetch them for
manifest tracks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import scipy.sparse

from moodnet.errors import DataError, ParameterError

if TYPE_CHECKING:
    from moodnet.audio import FeatureConfig
    from moodnet.track import Track

REGRESSORS = ("svr", "ridge")
DEFAULT_GRIDS: dict[str, tuple[float, ...]] = {
    "svr": (0.01, 0.1, 1.0, 10.0),
    "ridge": (0.1, 1.0, 10.0, 100.0, 1000.0),
    "svc": (0.01, 0.1, 1.0, 10.0),
}

Matrix: TypeAlias = Any  # np.ndarray or a scipy.sparse matrix


@dataclass
class BaselineFit:
    """Fitted baseline: one pipeline per target column (regression) or one (classification).

    Attributes
    ----------
    kind : ``svr``, ``ridge`` or ``svc``
    models : scikit-learn pipelines (scaler + estimator)
    params : the chosen regularisation value per pipeline
    val_scores : validation R² (regression, per column) or accuracy (classification)
    """

    kind: str
    models: list[Any]
    params: list[float] = field(default_factory=list)
    val_scores: list[float] = field(default_factory=list)

    def predict(self, features: Matrix) -> np.ndarray:
        """(N, D) regression outputs, or (N,) class ids."""
        if self.kind == "svc":
            return np.asarray(self.models[0].predict(features), dtype=np.int64)
        return np.stack([m.predict(features) for m in self.models], axis=1).astype(np.float32)


def _pipeline(kind: str, value: float, *, sparse: bool, class_weight: str | None) -> Any:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, SVR

    scaler = StandardScaler(with_mean=not sparse)
    if kind == "svr":
        return make_pipeline(scaler, SVR(C=value))
    if kind == "ridge":
        return make_pipeline(scaler, Ridge(alpha=value))
    return make_pipeline(scaler, SVC(C=value, class_weight=class_weight))


def _check(x_train: Matrix, y_train: np.ndarray, x_val: Matrix, y_val: np.ndarray) -> None:
    if x_train.shape[0] != len(y_train) or x_val.shape[0] != len(y_val):
        raise ParameterError("baseline: feature and target rows differ")
    if x_train.shape[1] != x_val.shape[1]:
        raise ParameterError("baseline: train and validation features differ in width")
    if x_train.shape[0] < 2 or x_val.shape[0] < 1:
        raise DataError("baseline: too few tracks")


def fit_regression_baseline(
    x_train: Matrix,
    y_train: np.ndarray,
    x_val: Matrix,
    y_val: np.ndarray,
    *,
    kind: str = "svr",
    grid: Sequence[float] | None = None,
) -> BaselineFit:
    """Standardise + SVR (RBF, ``C``) or ridge (``alpha``), chosen per column on validation R².

    Parameters
    ----------
    x_train, x_val : [shape=(N, F)] feature matrices (dense or sparse)
    y_train, y_val : np.ndarray [shape=(N, D)], targets (e.g. valence, arousal)
    kind : ``svr`` or ``ridge``
    grid : candidate ``C`` / ``alpha`` values

    Returns
    -------
    BaselineFit
    """
    from moodnet.evaluation.metrics import r2

    if kind not in REGRESSORS:
        raise ParameterError(f"baseline kind {kind!r}: expected one of {REGRESSORS}")
    y_train, y_val = np.asarray(y_train, dtype=np.float64), np.asarray(y_val, dtype=np.float64)
    _check(x_train, y_train, x_val, y_val)
    sparse = scipy.sparse.issparse(x_train)
    fit = BaselineFit(kind=kind, models=[])
    for column in range(y_train.shape[1]):
        best: tuple[float, float, Any] | None = None
        for value in grid or DEFAULT_GRIDS[kind]:
            model = _pipeline(kind, value, sparse=sparse, class_weight=None)
            model.fit(x_train, y_train[:, column])
            score = float(r2(y_val[:, column], model.predict(x_val)))
            if best is None or score > best[0]:
                best = (score, value, model)
        assert best is not None
        fit.val_scores.append(best[0])
        fit.params.append(best[1])
        fit.models.append(best[2])
    return fit


def fit_classification_baseline(
    x_train: Matrix,
    y_train: np.ndarray,
    x_val: Matrix,
    y_val: np.ndarray,
    *,
    grid: Sequence[float] | None = None,
    balanced: bool = False,
) -> BaselineFit:
    """Standardise + SVC (RBF), ``C`` chosen on validation accuracy.

    Parameters
    ----------
    x_train, x_val : [shape=(N, F)] feature matrices
    y_train, y_val : np.ndarray [shape=(N,)], class ids
    grid : candidate ``C`` values
    balanced : weight classes by inverse frequency

    Returns
    -------
    BaselineFit
    """
    y_train, y_val = np.asarray(y_train), np.asarray(y_val)
    _check(x_train, y_train, x_val, y_val)
    if len(np.unique(y_train)) < 2:
        raise DataError("baseline: the train split has a single class")
    sparse = scipy.sparse.issparse(x_train)
    best: tuple[float, float, Any] | None = None
    for value in grid or DEFAULT_GRIDS["svc"]:
        model = _pipeline(
            "svc", value, sparse=sparse, class_weight="balanced" if balanced else None
        )
        model.fit(x_train, y_train)
        score = float(np.mean(model.predict(x_val) == y_val))
        if best is None or score > best[0]:
            best = (score, value, model)
    assert best is not None
    return BaselineFit(kind="svc", models=[best[2]], params=[best[1]], val_scores=[best[0]])


# -- feature matrices for manifest tracks -----------------------------------------------------


def descriptor_matrix(
    tracks: Sequence[Track], *, cache_dir: str | Path, features: FeatureConfig
) -> np.ndarray:
    """Cached audio descriptors of tracks: np.ndarray [shape=(N, n_descriptors)], float32."""
    from moodnet.data.cache import FeatureCache

    matrix = FeatureCache(cache_dir, features).load_stack(tracks, kind="descriptors")
    return np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0)


def lyric_texts(tracks: Sequence[Track]) -> list[str]:
    """Raw lyrics of tracks ("" when a track has none)."""
    from moodnet.lyrics import read_lyrics

    texts = []
    for track in tracks:
        if track.lyrics is not None:
            texts.append(read_lyrics(track.lyrics))
        else:
            texts.append(track.lyrics_text or "")
    return texts


def lyric_matrices(
    splits: Mapping[str, Sequence[Track]],
    *,
    lexicon_dir: str | Path | None = None,
    tfidf: bool = True,
    max_terms: int = 2000,
    min_df: int = 2,
) -> dict[str, scipy.sparse.csr_matrix]:
    """Lyric features per split: stylistic (+ Warriner lexicon statistics) (+ TF-IDF).

    The TF-IDF vocabulary is fitted on the ``train`` split only.

    Parameters
    ----------
    splits : split name -> tracks (must include ``train``)
    lexicon_dir : folder (or file) of the Warriner norms; None leaves the lexicon features out
    tfidf : append TF-IDF columns
    max_terms : TF-IDF vocabulary size
    min_df : TF-IDF terms must occur in this many train songs

    Returns
    -------
    dict split -> scipy.sparse.csr_matrix [shape=(N, F)]
    """
    from moodnet.lyrics import fit_tfidf, lyric_feature_matrix

    if "train" not in splits:
        raise DataError("lyric features need the train split")
    lexicon = None
    if lexicon_dir is not None:
        from moodnet.labels.lexicon import load_warriner

        lexicon = load_warriner(lexicon_dir)
    texts = {split: lyric_texts(tracks) for split, tracks in splits.items()}
    vectoriser = None
    if tfidf and any(t.strip() for t in texts["train"]):
        vectoriser = fit_tfidf(texts["train"], max_features=max_terms, min_df=min_df)
    out = {}
    for split, items in texts.items():
        dense, _ = lyric_feature_matrix(items, lexicon=lexicon)
        parts = [scipy.sparse.csr_matrix(dense)]
        if vectoriser is not None:
            parts.append(scipy.sparse.csr_matrix(vectoriser.transform(items)))
        out[split] = scipy.sparse.hstack(parts).tocsr()
    return out
