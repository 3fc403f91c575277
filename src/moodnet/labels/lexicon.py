"""Valence/arousal word norms: Warriner et al. 2013 and NRC-VAD v1, on the moodnet VA scale.

Both lexicons are read from a path the caller gives (they are never bundled). Values are mapped
onto the moodnet scale [-1, 1]:

- Warriner means (1..9): ``(x - 5) / 4``.
- NRC-VAD v1 scores (0..1) are rescaled *onto Warriner* by an ordinary least-squares line per
  dimension, fitted on the words both lexicons share: ``v = slope_v * nrc_v + intercept_v``
  (same for arousal). :class:`LinearFit` records the coefficients, the number of shared words
  and the correlation; the fitted values are clipped to [-1, 1].
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodnet.core import VA_RANGE
from moodnet.errors import DataError, FileProblem

WARRINER_FILE = "Ratings_Warriner_et_al.csv"
NRC_VAD_FILE = "NRC-VAD-Lexicon.txt"

VA = tuple[float, float]


class Lexicon(Mapping[str, VA]):
    """A read-only mapping ``word -> (valence, arousal)`` on the moodnet scale [-1, 1].

    Parameters
    ----------
    name : short name (``warriner``, ``nrc``)
    entries : lower-case word -> (valence, arousal)
    """

    def __init__(self, name: str, entries: Mapping[str, VA]) -> None:
        self.name = name
        self._entries = dict(entries)

    def __getitem__(self, word: str) -> VA:
        return self._entries[word]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Lexicon({self.name!r}, {len(self)} words)"

    def as_array(self, words: list[str]) -> np.ndarray:
        """Valence/arousal of ``words``: ``np.ndarray [shape=(len(words), 2)], float64``."""
        return np.array([self._entries[w] for w in words], dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class LinearFit:
    """The per-dimension least-squares line mapping NRC-VAD (0..1) onto Warriner's [-1, 1].

    ``valence = slope_valence * nrc_valence + intercept_valence``; likewise for arousal.
    ``r_*`` are Pearson correlations between the two lexicons on the ``n_shared`` words.
    """

    slope_valence: float
    intercept_valence: float
    slope_arousal: float
    intercept_arousal: float
    n_shared: int
    r_valence: float
    r_arousal: float

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Map ``values [shape=(n, 2)]`` (NRC 0..1) to ``[shape=(n, 2)]`` in [-1, 1]."""
        slope = np.array([self.slope_valence, self.slope_arousal])
        intercept = np.array([self.intercept_valence, self.intercept_arousal])
        return np.clip(values * slope + intercept, *VA_RANGE)

    def describe(self) -> str:
        return (
            f"NRC-VAD -> Warriner fit on {self.n_shared} shared words: "
            f"valence = {self.slope_valence:.4f} * nrc + {self.intercept_valence:+.4f} "
            f"(r = {self.r_valence:.3f}); "
            f"arousal = {self.slope_arousal:.4f} * nrc + {self.intercept_arousal:+.4f} "
            f"(r = {self.r_arousal:.3f})"
        )


@dataclass(frozen=True)
class Lexicons:
    """Warriner (primary) and, optionally, NRC-VAD rescaled onto it, with the fit used."""

    warriner: Lexicon
    nrc: Lexicon | None = None
    fit: LinearFit | None = None

    def in_order(self) -> list[Lexicon]:
        """The lexicons in look-up order (Warriner first)."""
        return [self.warriner] + ([self.nrc] if self.nrc is not None else [])

    def lookup(self, word: str) -> WordMatch | None:
        """Find ``word``: Warriner as written, Warriner lemma, NRC as written, NRC lemma."""
        word = word.lower()
        forms = dict.fromkeys([word, lemma(word)])
        for lexicon in self.in_order():
            for number, form in enumerate(forms):
                if form in lexicon:
                    source = lexicon.name + ("_lemma" if number else "")
                    valence, arousal = lexicon[form]
                    return WordMatch(word, form, source, valence, arousal)
        return None


@dataclass(frozen=True)
class WordMatch:
    """One word found in a lexicon.

    ``source`` is ``warriner``, ``warriner_lemma``, ``nrc`` or ``nrc_lemma``; ``form`` is the
    spelling found (the word itself or its lemma); valence/arousal are on [-1, 1].
    """

    word: str
    form: str
    source: str
    valence: float
    arousal: float


def lemma(word: str) -> str:
    """The English lemma of ``word`` (simplemma, offline), lower-cased."""
    import simplemma

    return str(simplemma.lemmatize(word.lower(), lang="en")).lower()


def _find_file(path: str | Path, name: str) -> Path:
    path = Path(path).expanduser()
    if path.is_file():
        return path.resolve()
    if path.is_dir():
        found = sorted(path.rglob(name))
        if found:
            return found[0].resolve()
        raise FileProblem(path, f"no {name} in this folder or below")
    raise FileProblem(path, "no such file or folder")


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path}:{line}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{path}:{line}: {column} is not finite")
    return value


def load_warriner(path: str | Path) -> Lexicon:
    """Read the Warriner et al. (2013) norms and map their means onto [-1, 1].

    Parameters
    ----------
    path : the ``Ratings_Warriner_et_al.csv`` file, or a folder holding it (searched below)

    Returns
    -------
    Lexicon named ``warriner``: word -> ((V.Mean.Sum - 5) / 4, (A.Mean.Sum - 5) / 4)
    """
    file = _find_file(path, WARRINER_FILE)
    entries: dict[str, VA] = {}
    with file.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"Word", "V.Mean.Sum", "A.Mean.Sum"} - set(reader.fieldnames or ())
        if missing:
            raise FileProblem(file, f"missing columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            written = (row["Word"] or "").strip()
            word = written.lower()
            if not word or (word in entries and written != word):
                continue  # a capitalised duplicate ("Pope") never replaces the lower-case row
            valence = _number(row["V.Mean.Sum"], file, line, "V.Mean.Sum")
            arousal = _number(row["A.Mean.Sum"], file, line, "A.Mean.Sum")
            entries[word] = ((valence - 5.0) / 4.0, (arousal - 5.0) / 4.0)
    if not entries:
        raise FileProblem(file, "no words")
    return Lexicon("warriner", entries)


def read_nrc_vad(path: str | Path) -> dict[str, VA]:
    """Read NRC-VAD v1 as published: word -> (valence, arousal), both in 0..1.

    Parameters
    ----------
    path : the ``NRC-VAD-Lexicon.txt`` file (tab-separated, with a header), or a folder holding it
    """
    file = _find_file(path, NRC_VAD_FILE)
    entries: dict[str, VA] = {}
    with file.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            parts = text.rstrip("\n").split("\t")
            if line == 1 and parts[:3] == ["Word", "Valence", "Arousal"]:
                continue
            if len(parts) < 3 or not parts[0].strip():
                if text.strip():
                    raise DataError(f"{file}:{line}: expected Word<TAB>Valence<TAB>Arousal")
                continue
            word = parts[0].strip().lower()
            entries[word] = (
                _number(parts[1], file, line, "Valence"),
                _number(parts[2], file, line, "Arousal"),
            )
    if not entries:
        raise FileProblem(file, "no words")
    return entries


def fit_onto(raw: Mapping[str, VA], reference: Lexicon) -> LinearFit:
    """Least-squares lines from ``raw`` values onto ``reference`` values over shared words."""
    shared = sorted(set(raw) & set(reference))
    if len(shared) < 3:
        raise DataError(
            f"only {len(shared)} words shared with {reference.name}: cannot fit a rescaling"
        )
    x = np.array([raw[w] for w in shared], dtype=np.float64)
    y = reference.as_array(shared)
    coefficients = []
    for dim in range(2):
        slope, intercept = np.polyfit(x[:, dim], y[:, dim], deg=1)
        r = float(np.corrcoef(x[:, dim], y[:, dim])[0, 1])
        coefficients.append((float(slope), float(intercept), r))
    (sv, iv, rv), (sa, ia, ra) = coefficients
    return LinearFit(sv, iv, sa, ia, len(shared), rv, ra)


def load_nrc_vad(path: str | Path, *, onto: Lexicon) -> tuple[Lexicon, LinearFit]:
    """Read NRC-VAD v1 and rescale it onto ``onto`` (normally Warriner) by a linear fit.

    Parameters
    ----------
    path : the ``NRC-VAD-Lexicon.txt`` file or a folder holding it
    onto : the reference lexicon (moodnet scale) whose shared words define the fit

    Returns
    -------
    lexicon : Lexicon named ``nrc`` on the moodnet scale, clipped to [-1, 1]
    fit : the coefficients used
    """
    raw = read_nrc_vad(path)
    fit = fit_onto(raw, onto)
    words = list(raw)
    values = fit.apply(np.array([raw[w] for w in words], dtype=np.float64))
    entries = {w: (float(v), float(a)) for w, (v, a) in zip(words, values, strict=True)}
    return Lexicon("nrc", entries), fit


def load_lexicons(path: str | Path, *, nrc: bool = True) -> Lexicons:
    """Load Warriner and (if ``nrc`` and present) NRC-VAD rescaled onto it.

    Parameters
    ----------
    path : a folder holding ``Ratings_Warriner_et_al.csv`` and optionally
        ``NRC-VAD-Lexicon.txt`` anywhere below it (e.g. ``$MOODNET_DATA/lexicons``)
    nrc : also load NRC-VAD; when True and the file is absent, only Warriner is used
    """
    warriner = load_warriner(path)
    if not nrc:
        return Lexicons(warriner)
    try:
        nrc_file = _find_file(path, NRC_VAD_FILE)
    except FileProblem:
        return Lexicons(warriner)
    nrc_lexicon, fit = load_nrc_vad(nrc_file, onto=warriner)
    return Lexicons(warriner, nrc_lexicon, fit)
