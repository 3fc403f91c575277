"""Seeded, artist-disjoint, label-stratified splits and k-folds, saved so every run reuses them.

Artists are grouped by :func:`normalise_artist` ("Brown, Ruth" = "Ruth Brown", "The Coasters" =
"Coasters", "&" = "and", case and accents ignored, "feat. ..." dropped), so no artist appears
in two splits. Stratification (:func:`stratify_labels`) uses the track's ``label`` when every
track has one, else its VA quadrant when every track has VA, else none, crossed with lyric
presence when only some tracks have lyrics. Splits given by a dataset (Deezer) are kept.

A split on disk is JSON: ``{"method": ..., "seed": ..., "fractions": [...], "splits": {id:
split}}``; folds: ``{"method": ..., "seed": ..., "n_folds": K, "folds": {id: fold}}``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodnet.core import quadrant_of
from moodnet.errors import DataError, ParameterError
from moodnet.io_utils import atomic_write_text
from moodnet.track import SPLITS, Track

_FEATURING = re.compile(r"\s+(feat\.?|ft\.?|featuring)\s+.*$")
_NOT_WORD = re.compile(r"[^\w]+")


def normalise_artist(name: str) -> str:
    """A grouping key for an artist name.

    >>> normalise_artist("Brown, Ruth") == normalise_artist("Ruth Brown")
    True
    >>> normalise_artist("The Coasters") == normalise_artist("Coasters")
    True
    >>> normalise_artist("Blakey, Art & the Jazz Messengers")
    'art blakey and the jazz messengers'
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().strip()
    text = _FEATURING.sub("", text)
    if text.count(",") == 1:
        last, rest = (part.strip() for part in text.split(","))
        first, _, remainder = rest.partition(" ")
        text = " ".join(p for p in (first, last, remainder) if p)
    text = text.replace("&", " and ").replace("+", " and ")
    words = _NOT_WORD.sub(" ", text).split()
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    return " ".join(words) or name.strip().lower()


def stratify_labels(tracks: Sequence[Track]) -> list[str]:
    """One stratum per track.

    The class is the track's ``label`` if all have one, else its VA quadrant if all have VA,
    else none; when only some tracks have lyrics, lyric presence is crossed with the class so
    that every split gets its share of tracks with lyrics.
    """
    if tracks and all(t.label is not None for t in tracks):
        classes = [str(t.label) for t in tracks]
    elif tracks and all(t.has_va for t in tracks):
        classes = [quadrant_of(t.valence or 0.0, t.arousal or 0.0) for t in tracks]
    else:
        classes = [""] * len(tracks)
    if len({t.has_lyrics for t in tracks}) > 1:
        return [
            f"{c}|{'lyrics' if t.has_lyrics else '-'}" for c, t in zip(classes, tracks, strict=True)
        ]
    return classes


def _groups(tracks: Sequence[Track]) -> list[str]:
    return [normalise_artist(t.artist) if t.artist else f"\0{t.id}" for t in tracks]


def _group_folds(tracks: Sequence[Track], *, n_folds: int, seed: int) -> np.ndarray:
    """Fold index (0..n_folds-1) per track: artist-disjoint, stratified, seeded (sklearn)."""
    from sklearn.model_selection import StratifiedGroupKFold

    groups = _groups(tracks)
    n_groups = len(set(groups))
    if n_folds < 2 or n_folds > n_groups:
        raise ParameterError(f"cannot make {n_folds} artist-disjoint folds from {n_groups} artists")
    folds = np.full(len(tracks), -1, dtype=np.int64)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    x = np.zeros((len(tracks), 1))
    try:
        for fold, (_, held_out) in enumerate(splitter.split(x, stratify_labels(tracks), groups)):
            folds[held_out] = fold
    except ValueError as exc:
        raise ParameterError(f"cannot make {n_folds} stratified folds: {exc}") from exc
    return folds


def _greedy_split(
    groups: Sequence[str], strata: Sequence[str], fractions: np.ndarray, seed: int
) -> np.ndarray:
    """Part index per item; whole groups go to the part whose label counts need them most."""
    _, group_of = np.unique(np.asarray(groups, dtype=object), return_inverse=True)
    _, stratum_of = np.unique(np.asarray(strata, dtype=object), return_inverse=True)
    counts = np.zeros((group_of.max() + 1, stratum_of.max() + 1))
    np.add.at(counts, (group_of, stratum_of), 1.0)
    scale = 1.0 / counts.sum(axis=0)
    target = np.outer(fractions, counts.sum(axis=0)) * scale
    current = np.zeros_like(target)
    order = np.random.default_rng(seed).permutation(len(counts))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]
    part_of_group = np.empty(len(counts), dtype=np.int64)
    for group in order:
        added = counts[group] * scale
        gain = ((current + added - target) ** 2).sum(axis=1) - ((current - target) ** 2).sum(axis=1)
        part = int(np.argmin(gain))
        current[part] += added
        part_of_group[group] = part
    return part_of_group[group_of]


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    values = np.asarray(fractions, dtype=np.float64)
    if values.shape != (3,) or (values <= 0).any() or abs(values.sum() - 1.0) > 1e-6:
        raise ParameterError(
            f"split fractions {list(fractions)} must be 3 positive shares summing to 1"
        )
    return values


def artist_split(
    tracks: Sequence[Track],
    *,
    fractions: Sequence[float] = (0.70, 0.15, 0.15),
    seed: int = 0,
) -> dict[str, str]:
    """Assign train/validation/test, artist-disjoint and stratified by label.

    Artist groups are visited largest first (groups of equal size in a seeded random order);
    each whole group goes to the split where adding it most reduces the squared relative
    deviation of the per-label counts from their targets (``fraction * label count``).

    Parameters
    ----------
    tracks : tracks with ``artist`` (an empty artist is its own group)
    fractions : train, validation, test shares (summing to 1)
    seed : random seed; the same tracks and seed always give the same split

    Returns
    -------
    splits : track id -> ``train`` / ``validation`` / ``test``
    """
    shares = _check_fractions(fractions)
    if not tracks:
        return {}
    parts = _greedy_split(_groups(tracks), stratify_labels(tracks), shares, seed)
    return {t.id: SPLITS[p] for t, p in zip(tracks, parts, strict=True)}


def artist_folds(tracks: Sequence[Track], *, n_folds: int, seed: int = 0) -> dict[str, int]:
    """Artist-disjoint, label-stratified k-fold: track id -> fold (0..n_folds-1)."""
    folds = _group_folds(tracks, n_folds=n_folds, seed=seed)
    return {t.id: int(f) for t, f in zip(tracks, folds, strict=True)}


def fold_split(
    folds: dict[str, int], *, test_fold: int, validation_fold: int | None = None
) -> dict[str, str]:
    """A train/validation/test assignment from k folds.

    ``test_fold`` is test, ``validation_fold`` (default: the next fold, cyclically) is
    validation, the rest train.
    """
    n_folds = max(folds.values()) + 1 if folds else 0
    if not 0 <= test_fold < n_folds:
        raise ParameterError(f"test_fold {test_fold} is not in 0..{n_folds - 1}")
    validation = (test_fold + 1) % n_folds if validation_fold is None else validation_fold
    if validation == test_fold or not 0 <= validation < n_folds:
        raise ParameterError(
            f"validation_fold {validation} must differ from test_fold, < {n_folds}"
        )
    return {
        i: "test" if f == test_fold else "validation" if f == validation else "train"
        for i, f in folds.items()
    }


def given_split(tracks: Sequence[Track]) -> dict[str, str]:
    """The splits a dataset provides (Deezer); DataError when a track has none."""
    missing = [t.id for t in tracks if t.split is None]
    if missing:
        raise DataError(f"{len(missing)} tracks have no given split (e.g. {missing[:5]})")
    return {t.id: str(t.split) for t in tracks}


def apply_split(
    tracks: Sequence[Track], splits: dict[str, str], *, strict: bool = True
) -> list[Track]:
    """Copies of ``tracks`` with ``split`` set from ``splits`` (id -> split).

    With ``strict``, a track absent from ``splits`` is a DataError; otherwise its split is None.
    """
    unknown = sorted(set(splits.values()) - set(SPLITS))
    if unknown:
        raise DataError(f"unknown split names {unknown}")
    absent = [t.id for t in tracks if t.id not in splits]
    if strict and absent:
        raise DataError(f"{len(absent)} tracks are not in the split (e.g. {absent[:5]})")
    return [t.with_(split=splits.get(t.id)) for t in tracks]


def check_artist_disjoint(tracks: Sequence[Track]) -> dict[str, list[str]]:
    """Normalised artists found in more than one split -> their splits (empty when disjoint)."""
    seen: dict[str, set[str]] = {}
    for t in tracks:
        if t.split is not None and t.artist:
            seen.setdefault(normalise_artist(t.artist), set()).add(t.split)
    return {a: sorted(s) for a, s in sorted(seen.items()) if len(s) > 1}


def save_splits(
    splits: dict[str, str],
    path: str | Path,
    *,
    method: str,
    seed: int | None = None,
    fractions: Sequence[float] | None = None,
) -> Path:
    """Write ``splits`` (id -> split) as JSON, atomically."""
    data: dict[str, Any] = {"method": method, "seed": seed, "splits": splits}
    if fractions is not None:
        data["fractions"] = list(fractions)
    return atomic_write_text(path, json.dumps(data, indent=1, sort_keys=False) + "\n")


def save_folds(folds: dict[str, int], path: str | Path, *, seed: int) -> Path:
    """Write ``folds`` (id -> fold) as JSON, atomically."""
    n_folds = max(folds.values()) + 1 if folds else 0
    data = {"method": "artist_kfold", "seed": seed, "n_folds": n_folds, "folds": folds}
    return atomic_write_text(path, json.dumps(data, indent=1) + "\n")


def _read_json(path: str | Path, key: str) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise DataError(f"{path}: no {key!r} object")
    return data


def load_splits(path: str | Path) -> dict[str, str]:
    """Read a split written by :func:`save_splits`: id -> split."""
    splits = {str(k): str(v) for k, v in _read_json(path, "splits")["splits"].items()}
    unknown = sorted(set(splits.values()) - set(SPLITS))
    if unknown:
        raise DataError(f"{path}: unknown split names {unknown}")
    return splits


def load_folds(path: str | Path) -> dict[str, int]:
    """Read folds written by :func:`save_folds`: id -> fold."""
    return {str(k): int(v) for k, v in _read_json(path, "folds")["folds"].items()}
