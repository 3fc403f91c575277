"""Dataset adapters: one module per dataset, each turning its own layout into ``list[Track]``.

``ADAPTERS`` is the only place that maps dataset names to loaders. Each entry is an
:class:`Adapter`: calling it loads the dataset; its attributes say what valid labels look like.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from moodnet.core import MIREX_CLUSTERS, QUADRANTS, VA_RANGE
from moodnet.data.adapters import deezer, fourq, generic_csv, mirex, pmemo
from moodnet.errors import ParameterError

if TYPE_CHECKING:
    from moodnet.labels.lexicon import Lexicons
    from moodnet.track import Track

class Loader(Protocol):
    def __call__(
        self,
        root: str | Path,
        *,
        lexicons: Lexicons | None = None,
        audio_dir: str | Path | None = None,
        lyrics_dir: str | Path | None = None,
    ) -> list[Track]: ...


@dataclass(frozen=True)
class Adapter:
    """A dataset loader and what its labels look like.

    Attributes
    ----------
    name : registry name, also written as ``Track.dataset``
    load : the loader (see :class:`Loader`)
    va_range : inclusive bounds of valence/arousal, None when unbounded (z-scores)
    classes : the categorical labels a track may carry, None when free
    gives_split : the dataset defines train/validation/test itself
    citation : whom to cite
    """

    name: str
    load: Loader
    va_range: tuple[float, float] | None = VA_RANGE
    classes: tuple[str, ...] | None = None
    gives_split: bool = False
    citation: str = ""

    def __call__(
        self,
        root: str | Path,
        *,
        lexicons: Lexicons | None = None,
        audio_dir: str | Path | None = None,
        lyrics_dir: str | Path | None = None,
    ) -> list[Track]:
        return self.load(root, lexicons=lexicons, audio_dir=audio_dir, lyrics_dir=lyrics_dir)


ADAPTERS: dict[str, Adapter] = {
    generic_csv.NAME: Adapter(generic_csv.NAME, generic_csv.load, va_range=None),
    deezer.NAME: Adapter(
        deezer.NAME, deezer.load, va_range=None, gives_split=True, citation=deezer.CITATION
    ),
    mirex.NAME: Adapter(mirex.NAME, mirex.load, classes=MIREX_CLUSTERS, citation=mirex.CITATION),
    fourq.NAME: Adapter(fourq.NAME, fourq.load, classes=QUADRANTS, citation=fourq.CITATION),
    pmemo.NAME: Adapter(pmemo.NAME, pmemo.load, classes=QUADRANTS, citation=pmemo.CITATION),
}


def get_adapter(name: str) -> Adapter:
    """The adapter registered as ``name``; ParameterError listing the known names otherwise."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise ParameterError(
            f"unknown dataset {name!r}; known: {', '.join(sorted(ADAPTERS))}"
        ) from None
