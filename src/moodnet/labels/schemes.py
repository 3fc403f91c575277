"""Label schemes: how valence/arousal (or a given class) becomes a training target.

One registry, :data:`SCHEMES`, maps names to constructors:

``va``
    regression on (valence, arousal) as given.
``quadrant``
    Q1 = V>0, A>0; Q2 = V<=0, A>0; Q3 = V<=0, A<=0; Q4 = V>0, A<=0 (class ids 0..3).
``kmeans4`` / ``kmeans16`` / ``kmeans64``
    k-means clusters of the *training* VA points (sklearn, seeded, ``n_init=10``). Duplicated
    points are collapsed to the distinct points weighted by their counts (``sample_weight``),
    which has the same objective as k-means on all points but is exact about ties and fast on
    heavily tied labels (Deezer: 2,720 distinct pairs for 11,267 training tracks). Asking for
    more clusters than distinct points raises :class:`moodnet.errors.ParameterError`. Centres
    are sorted by (valence, arousal); a point is assigned to its nearest centre (equal
    distances go to the lower id).
``abs4`` / ``abs16`` / ``abs64``
    an equal n x n grid (n = 2, 4, 8) over the square ``[low, high]^2``. ``bounds`` is
    ``"unit"`` ([-1, 1], the moodnet scale), ``"zscore"`` ([-2.5, 2.5], for z-scored labels
    such as Deezer's), ``"train"`` (the smallest and largest training value over both
    dimensions), ``(low, high)``, or ``"auto"`` (the default: ``unit`` when every training
    value lies in [-1, 1], else ``zscore``); ``auto`` and ``train`` are resolved by ``fit``,
    and the bounds used are stored. Cells are
    left-open, right-closed like the quadrants (a value on an inner edge goes to the lower
    cell); values outside the square go to the edge cells. Class id = ``a_bin * n + v_bin``,
    named ``v{v_bin}a{a_bin}``.
``given`` / ``mirex5``
    the categorical ``Track.label`` as given (``mirex5``: ``cluster1``..``cluster5``; ``given``:
    the sorted labels seen in training).

Every scheme has ``fit(va_train) -> self``, ``assign(va) -> labels``, ``class_names``,
``centres`` (K, 2), ``to_json()`` / :func:`scheme_from_json`, and track-level
``fit_tracks`` / ``assign_tracks``. :func:`chance_levels` gives majority and uniform chance.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Self

import numpy as np

from moodnet.core import MIREX_CLUSTERS, QUADRANTS, VA_RANGE, as_va, quadrant_ids
from moodnet.errors import DataError, ParameterError
from moodnet.track import Track

ZSCORE_BOUNDS = (-2.5, 2.5)


def va_of(tracks: Sequence[Track]) -> np.ndarray:
    """(valence, arousal) of tracks: ``np.ndarray [shape=(n, 2)]``; DataError when one lacks VA."""
    missing = [t.id for t in tracks if not t.has_va]
    if missing:
        raise DataError(f"{len(missing)} tracks have no valence/arousal (e.g. {missing[:5]})")
    return np.array([[t.valence, t.arousal] for t in tracks], dtype=np.float64).reshape(-1, 2)


class LabelScheme:
    """Base class. Subclasses set ``kind`` and implement ``fit`` / ``assign``."""

    kind: ClassVar[str] = "classification"

    def __init__(self, name: str) -> None:
        self.name = name
        self.centres: np.ndarray | None = None
        self._class_names: tuple[str, ...] = ()

    @property
    def class_names(self) -> tuple[str, ...]:
        return self._class_names

    @property
    def n_classes(self) -> int:
        return len(self._class_names)

    def options(self) -> dict[str, Any]:
        """Constructor keyword arguments (stored in JSON)."""
        return {}

    def state(self) -> dict[str, Any]:
        """Fitted state (stored in JSON)."""
        centres = None if self.centres is None else self.centres.tolist()
        return {"class_names": list(self._class_names), "centres": centres}

    def load_state(self, state: dict[str, Any]) -> None:
        self._class_names = tuple(state.get("class_names") or ())
        centres = state.get("centres")
        self.centres = None if centres is None else as_va(centres, name="centres")

    def fit(self, va_train: np.ndarray) -> Self:
        """Fit on training VA ``[shape=(n, 2)]``; returns self."""
        return self

    def assign(self, va: np.ndarray) -> np.ndarray:
        """Class ids ``np.ndarray [shape=(n,)], int64`` of VA points ``[shape=(n, 2)]``."""
        raise NotImplementedError

    def fit_tracks(self, tracks: Sequence[Track]) -> Self:
        """Fit on the (training) tracks."""
        return self.fit(va_of(tracks))

    def assign_tracks(self, tracks: Sequence[Track]) -> np.ndarray:
        """Targets of tracks: class ids ``(n,)``, or VA ``(n, 2)`` for regression."""
        return self.assign(va_of(tracks))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "options": self.options(),
            "state": self.state(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabelScheme:
        return scheme_from_json(data)

    def _require_fitted(self) -> np.ndarray:
        if self.centres is None:
            raise ParameterError(f"label scheme {self.name!r} is not fitted yet (call fit first)")
        return self.centres


class VAScheme(LabelScheme):
    """Regression on valence/arousal: the target is the VA itself."""

    kind: ClassVar[str] = "regression"

    def __init__(self, name: str = "va") -> None:
        super().__init__(name)

    def assign(self, va: np.ndarray) -> np.ndarray:
        """The VA points themselves, ``[shape=(n, 2)], float32``."""
        return as_va(va).astype(np.float32)


def _class_means(va: np.ndarray, ids: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    centres = fallback.astype(np.float64).copy()
    for k in range(len(centres)):
        if np.any(ids == k):
            centres[k] = va[ids == k].mean(axis=0)
    return centres


class QuadrantScheme(LabelScheme):
    """Russell quadrants Q1..Q4 from the signs of valence and arousal.

    ``centres`` are the mean training VA of each quadrant after ``fit`` (the nominal
    (+-0.5, +-0.5) before, or for a quadrant without training points).
    """

    NOMINAL = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]])

    def __init__(self, name: str = "quadrant") -> None:
        super().__init__(name)
        self._class_names = QUADRANTS
        self.centres = self.NOMINAL.copy()

    def fit(self, va_train: np.ndarray) -> Self:
        va = as_va(va_train, name="va_train")
        self.centres = _class_means(va, quadrant_ids(va), self.NOMINAL)
        return self

    def assign(self, va: np.ndarray) -> np.ndarray:
        return quadrant_ids(va)


class KMeansScheme(LabelScheme):
    """K-means clusters of the training VA (see the module docstring for tie handling).

    Parameters
    ----------
    k : number of clusters
    seed : random state of sklearn's KMeans
    n_init : k-means restarts (>= 10)
    """

    def __init__(self, name: str = "", *, k: int, seed: int = 0, n_init: int = 10) -> None:
        if k < 2:
            raise ParameterError(f"k-means needs k >= 2, got {k}")
        if n_init < 10:
            raise ParameterError(f"n_init must be >= 10, got {n_init}")
        super().__init__(name or f"kmeans{k}")
        self.k, self.seed, self.n_init = k, seed, n_init
        self.inertia: float | None = None
        self.n_distinct: int | None = None

    def options(self) -> dict[str, Any]:
        return {"k": self.k, "seed": self.seed, "n_init": self.n_init}

    def state(self) -> dict[str, Any]:
        return {**super().state(), "inertia": self.inertia, "n_distinct": self.n_distinct}

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.inertia, self.n_distinct = state.get("inertia"), state.get("n_distinct")
        if self.centres is not None and len(self.centres) != self.k:
            raise DataError(f"{self.name}: {len(self.centres)} centres stored, expected {self.k}")

    def fit(self, va_train: np.ndarray) -> Self:
        from sklearn.cluster import KMeans

        va = as_va(va_train, name="va_train")
        points, counts = np.unique(va, axis=0, return_counts=True)
        if len(points) < self.k:
            raise ParameterError(
                f"{self.name}: only {len(points)} distinct training VA points for k={self.k}"
            )
        model = KMeans(n_clusters=self.k, n_init=self.n_init, random_state=self.seed)
        model.fit(points, sample_weight=counts.astype(np.float64))
        centres = np.asarray(model.cluster_centers_, dtype=np.float64)
        self.centres = centres[np.lexsort((centres[:, 1], centres[:, 0]))]
        self._class_names = tuple(f"k{i}" for i in range(self.k))
        self.inertia = float(model.inertia_)
        self.n_distinct = len(points)
        return self

    def assign(self, va: np.ndarray) -> np.ndarray:
        centres = self._require_fitted()
        points = as_va(va)
        distances = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        return distances.argmin(axis=1).astype(np.int64)


class GridScheme(LabelScheme):
    """An equal ``n x n`` grid over ``[low, high]^2`` (``k = n * n``); see the module docstring.

    Parameters
    ----------
    k : number of cells, a perfect square (4, 16, 64)
    bounds : ``"auto"``, ``"unit"``, ``"zscore"``, ``"train"`` or ``(low, high)``
    """

    def __init__(self, name: str = "", *, k: int, bounds: str | Sequence[float] = "auto") -> None:
        side = math.isqrt(k)
        if k < 4 or side * side != k:
            raise ParameterError(f"an abs grid needs a square number of cells >= 4, got {k}")
        super().__init__(name or f"abs{k}")
        self.k, self.side = k, side
        self.bounds_option: str | tuple[float, float] = _check_bounds(bounds)
        self.bounds: tuple[float, float] | None = None
        self._class_names = tuple(f"v{i % side}a{i // side}" for i in range(k))
        if not isinstance(self.bounds_option, str):
            self._set_bounds(self.bounds_option)
        elif self.bounds_option in ("unit", "zscore"):
            self._set_bounds(VA_RANGE if self.bounds_option == "unit" else ZSCORE_BOUNDS)

    def options(self) -> dict[str, Any]:
        option = self.bounds_option
        return {"k": self.k, "bounds": option if isinstance(option, str) else list(option)}

    def state(self) -> dict[str, Any]:
        return {**super().state(), "bounds": None if self.bounds is None else list(self.bounds)}

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        bounds = _check_bounds(state["bounds"]) if state.get("bounds") is not None else None
        if isinstance(bounds, tuple):
            self._set_bounds(bounds)

    def _set_bounds(self, bounds: tuple[float, float]) -> None:
        self.bounds = bounds
        low, high = bounds
        width = (high - low) / self.side
        middles = low + width * (np.arange(self.side) + 0.5)
        self.centres = np.array(
            [[middles[i % self.side], middles[i // self.side]] for i in range(self.k)]
        )

    def fit(self, va_train: np.ndarray) -> Self:
        va = as_va(va_train, name="va_train")
        if self.bounds_option == "auto":
            inside = va.size > 0 and np.abs(va).max() <= 1.0
            self._set_bounds(VA_RANGE if inside else ZSCORE_BOUNDS)
        elif self.bounds_option == "train":
            if va.size == 0 or va.min() == va.max():
                raise ParameterError(f"{self.name}: bounds 'train' need distinct training values")
            self._set_bounds((float(va.min()), float(va.max())))
        return self

    def edges(self) -> np.ndarray:
        """The ``n - 1`` inner cell edges, ``[shape=(n - 1,)]``."""
        if self.bounds is None:
            raise ParameterError(f"{self.name}: bounds are resolved by fit; call fit first")
        low, high = self.bounds
        return np.linspace(low, high, self.side + 1)[1:-1]

    def assign(self, va: np.ndarray) -> np.ndarray:
        edges = self.edges()
        points = as_va(va)
        v_bin = np.searchsorted(edges, points[:, 0], side="left")
        a_bin = np.searchsorted(edges, points[:, 1], side="left")
        return (a_bin * self.side + v_bin).astype(np.int64)


def _check_bounds(bounds: Any) -> str | tuple[float, float]:
    if isinstance(bounds, str):
        if bounds not in ("auto", "unit", "zscore", "train"):
            raise ParameterError(
                f"bounds {bounds!r}: expected auto, unit, zscore, train or (low, high)"
            )
        return bounds
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ParameterError(f"bounds {bounds!r}: expected (low, high)") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ParameterError(f"bounds {bounds!r}: need finite low < high")
    return (low, high)


class GivenLabelScheme(LabelScheme):
    """Uses ``Track.label`` directly (MIREX clusters, given quadrants).

    Parameters
    ----------
    classes : the class names in id order; None learns the sorted training labels in ``fit``
    """

    def __init__(self, name: str = "given", *, classes: Sequence[str] | None = None) -> None:
        super().__init__(name)
        self.fixed = tuple(classes) if classes is not None else None
        self._class_names = self.fixed or ()

    def options(self) -> dict[str, Any]:
        return {"classes": list(self.fixed) if self.fixed is not None else None}

    def fit(self, va_train: np.ndarray) -> Self:
        raise ParameterError(f"{self.name} uses Track.label: call fit_tracks / assign_tracks")

    def assign(self, va: np.ndarray) -> np.ndarray:
        raise ParameterError(f"{self.name} uses Track.label: call fit_tracks / assign_tracks")

    def fit_tracks(self, tracks: Sequence[Track]) -> Self:
        labels = [t.label for t in tracks]
        if any(label is None for label in labels):
            raise DataError(f"{self.name}: {labels.count(None)} training tracks have no label")
        if self.fixed is None:
            self._class_names = tuple(sorted({str(label) for label in labels}))
        ids = self.assign_tracks(tracks)
        if all(t.has_va for t in tracks) and tracks:
            fallback = np.zeros((self.n_classes, 2))
            self.centres = _class_means(va_of(tracks), ids, fallback)
        return self

    def assign_tracks(self, tracks: Sequence[Track]) -> np.ndarray:
        if not self._class_names:
            raise ParameterError(f"{self.name} has no classes yet (call fit_tracks first)")
        index = {name: i for i, name in enumerate(self._class_names)}
        unknown = sorted({str(t.label) for t in tracks if t.label not in index})
        if unknown:
            raise DataError(f"{self.name}: labels {unknown} are not among {self._class_names}")
        return np.array([index[str(t.label)] for t in tracks], dtype=np.int64)


SCHEMES: dict[str, Callable[..., LabelScheme]] = {
    "va": VAScheme,
    "quadrant": QuadrantScheme,
    **{f"kmeans{k}": partial(KMeansScheme, f"kmeans{k}", k=k) for k in (4, 16, 64)},
    **{f"abs{k}": partial(GridScheme, f"abs{k}", k=k) for k in (4, 16, 64)},
    "given": GivenLabelScheme,
    "mirex5": partial(GivenLabelScheme, "mirex5", classes=MIREX_CLUSTERS),
}

_PARAMETRIC = re.compile(r"^(kmeans|abs)(\d+)$")


def make_scheme(name: str, **options: Any) -> LabelScheme:
    """A new (unfitted) scheme by name; ``kmeansK`` / ``absK`` work for any K.

    Parameters
    ----------
    name : a key of :data:`SCHEMES`, or ``kmeans<K>`` / ``abs<K>``
    **options : constructor options (``seed``, ``n_init`` for k-means; ``bounds`` for abs)
    """
    if name in SCHEMES:
        return SCHEMES[name](**options)
    match = _PARAMETRIC.match(name)
    if match is None:
        raise ParameterError(f"unknown label scheme {name!r}; known: {', '.join(SCHEMES)}")
    family, k = match.group(1), int(match.group(2))
    options.pop("k", None)
    if family == "kmeans":
        return KMeansScheme(name, k=k, **options)
    return GridScheme(name, k=k, **options)


def scheme_from_json(data: dict[str, Any]) -> LabelScheme:
    """Rebuild a scheme (fitted state included) from :meth:`LabelScheme.to_json`."""
    if not isinstance(data, dict) or "name" not in data:
        raise DataError(f"not a label scheme: {str(data)[:80]}")
    options = dict(data.get("options") or {})
    if data["name"] in SCHEMES:
        options.pop("k", None)
    if isinstance(options.get("bounds"), list):
        options["bounds"] = tuple(options["bounds"])
    scheme = make_scheme(data["name"], **options)
    scheme.load_state(dict(data.get("state") or {}))
    return scheme


@dataclass(frozen=True)
class ChanceLevels:
    """Chance accuracies on an evaluation set.

    majority : accuracy of always predicting the most frequent *training* class
    majority_class : that class id
    uniform : 1 / K (expected accuracy of a uniform random guess)
    eval_majority : accuracy of the most frequent *evaluation* class (an upper bound on a
        constant predictor, for reference only)
    """

    majority: float
    majority_class: int
    uniform: float
    eval_majority: float


def chance_levels(train_labels: Any, eval_labels: Any, k: int) -> ChanceLevels:
    """Majority-class (train majority applied to eval) and uniform (1/K) accuracy.

    Parameters
    ----------
    train_labels : class ids of the training set, ``[shape=(n_train,)]``
    eval_labels : class ids of the evaluation set, ``[shape=(n_eval,)]``
    k : number of classes
    """
    train = np.asarray(train_labels, dtype=np.int64).ravel()
    evaluation = np.asarray(eval_labels, dtype=np.int64).ravel()
    if k < 1:
        raise ParameterError(f"k must be >= 1, got {k}")
    if train.size == 0 or evaluation.size == 0:
        raise ParameterError("chance levels need non-empty train and eval labels")
    for name, labels in (("train_labels", train), ("eval_labels", evaluation)):
        if labels.min() < 0 or labels.max() >= k:
            raise ParameterError(f"{name} must lie in 0..{k - 1}")
    majority = int(np.bincount(train, minlength=k).argmax())
    eval_counts = np.bincount(evaluation, minlength=k)
    return ChanceLevels(
        majority=float(np.mean(evaluation == majority)),
        majority_class=majority,
        uniform=1.0 / k,
        eval_majority=float(eval_counts.max() / evaluation.size),
    )
