"""Mood tags -> valence/arousal, the way Delbouys et al. built their targets, with a fallback chain.

For each track:

1. every tag is lower-cased, known misspellings are fixed (:data:`SPELLING_FIXES`), a tag is
   split into words at anything that is not a letter or an apostrophe ("Tense - Anxious",
   "Amiable-good natured"), and stopwords are dropped;
2. each word is looked up in Warriner (as written, then its lemma), then in NRC-VAD rescaled
   onto Warriner (as written, then lemma) — see :meth:`moodnet.labels.lexicon.Lexicons.lookup`;
3. the track's valence/arousal is the mean over all words found (each word once per track);
4. when no word of a track is found, the track gets its class prior: the mean VA of the other
   tracks with the same ``label`` (MIREX cluster, quadrant) whose VA came from step 3;
5. when that is impossible too (no label, or no such tracks) the track has no VA.

The step is recorded per track: ``warriner`` (every word found was in Warriner, possibly through
its lemma), ``nrc`` (at least one found word needed NRC-VAD), ``prior`` or ``none``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from moodnet.labels.lexicon import Lexicons, WordMatch
from moodnet.track import Track

SPELLING_FIXES: dict[str, str] = {"agressive": "aggressive"}

STOPWORDS: frozenset[str] = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "is", "it"}
    | {"of", "on", "or", "the", "to", "with"}
)

STEPS = ("warriner", "nrc", "prior", "none")

_WORD_BOUNDARY = re.compile(r"[^a-z']+")


def tag_words(tag: str) -> list[str]:
    """The look-up words of one tag: lower-cased, spelling fixed, split, stopwords dropped.

    >>> tag_words("Tense - Anxious")
    ['tense', 'anxious']
    >>> tag_words("Amiable-good natured")
    ['amiable', 'good', 'natured']
    """
    words = []
    for word in _WORD_BOUNDARY.split(tag.lower()):
        word = word.strip("'")
        word = SPELLING_FIXES.get(word, word)
        if word and word not in STOPWORDS:
            words.append(word)
    return words


@dataclass(frozen=True)
class TagVA:
    """The tag-derived valence/arousal of one track (moodnet scale [-1, 1], or None)."""

    id: str
    valence: float | None
    arousal: float | None
    matched: tuple[WordMatch, ...]
    missing: tuple[str, ...]
    step: str


@dataclass
class CoverageReport:
    """What the tag -> VA mapping found and what it did not.

    Attributes
    ----------
    n_tracks : tracks processed
    steps : step name -> number of tracks
    word_sources : distinct word -> source (``warriner``, ``warriner_lemma``, ``nrc``,
        ``nrc_lemma``) or ``missing``
    unmatched_tags : distinct tags none of whose words was found in any lexicon
    prior_tracks : label -> ids of tracks that used the class prior
    none_tracks : ids of tracks left without VA
    priors : label -> (valence, arousal) used as class prior
    fit_description : the NRC rescaling used, in words ("" without NRC)
    """

    n_tracks: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    word_sources: dict[str, str] = field(default_factory=dict)
    unmatched_tags: list[str] = field(default_factory=list)
    prior_tracks: dict[str, list[str]] = field(default_factory=dict)
    none_tracks: list[str] = field(default_factory=list)
    priors: dict[str, tuple[float, float]] = field(default_factory=dict)
    fit_description: str = ""

    def words_missing(self, lexicon: str | None = None) -> list[str]:
        """Distinct words not in ``lexicon`` (``warriner``: found only via NRC or not at all;
        None: found nowhere)."""
        if lexicon is None:
            return sorted(w for w, s in self.word_sources.items() if s == "missing")
        return sorted(w for w, s in self.word_sources.items() if not s.startswith(lexicon))

    def format(self) -> str:
        """A plain-text report."""
        sources = Counter(self.word_sources.values())
        lines = [
            f"tracks: {self.n_tracks}",
            "steps:  " + ", ".join(f"{s} {self.steps.get(s, 0)}" for s in STEPS),
            f"distinct words: {len(self.word_sources)} ("
            + ", ".join(f"{s} {n}" for s, n in sorted(sources.items()))
            + ")",
            "words not in Warriner: " + (", ".join(self.words_missing("warriner")) or "-"),
            "words found nowhere: " + (", ".join(self.words_missing()) or "-"),
            "tags that matched nothing: " + (", ".join(self.unmatched_tags) or "-"),
        ]
        if self.fit_description:
            lines.append(self.fit_description)
        for label, ids in sorted(self.prior_tracks.items()):
            v, a = self.priors[label]
            lines.append(
                f"prior {label} (V {v:+.3f}, A {a:+.3f}) used by {len(ids)} tracks: "
                + ", ".join(ids[:12])
                + (" ..." if len(ids) > 12 else "")
            )
        if self.none_tracks:
            lines.append(
                f"left without VA: {len(self.none_tracks)}: " + ", ".join(self.none_tracks)
            )
        return "\n".join(lines)


def tag_va(tag: str, *, lexicons: Lexicons) -> TagVA:
    """The VA of one tag alone (mean of its words found; step ``none`` when none is)."""
    matched = [m for m in (lexicons.lookup(w) for w in tag_words(tag)) if m is not None]
    missing = tuple(w for w in tag_words(tag) if w not in {m.word for m in matched})
    if not matched:
        return TagVA(tag, None, None, (), missing, "none")
    va = np.mean([[m.valence, m.arousal] for m in matched], axis=0)
    step = "nrc" if any(m.source.startswith("nrc") for m in matched) else "warriner"
    return TagVA(tag, float(va[0]), float(va[1]), tuple(matched), missing, step)


def _match_track(
    track: Track, lexicons: Lexicons, cache: dict[str, WordMatch | None]
) -> tuple[list[WordMatch], list[str]]:
    matched: list[WordMatch] = []
    missing: list[str] = []
    words = dict.fromkeys(w for tag in track.tags for w in tag_words(tag))
    for word in words:
        if word not in cache:
            cache[word] = lexicons.lookup(word)
        found = cache[word]
        if found is None:
            missing.append(word)
        else:
            matched.append(found)
    return matched, missing


def _class_priors(results: dict[str, TagVA], tracks: Sequence[Track]) -> dict[str, np.ndarray]:
    """Per label: sum of lexicon VA and count, over tracks whose VA came from the lexicons."""
    sums: dict[str, np.ndarray] = {}
    for track in tracks:
        result = results[track.id]
        if track.label is None or result.valence is None or result.arousal is None:
            continue
        total = sums.setdefault(track.label, np.zeros(3))
        total += (result.valence, result.arousal, 1.0)
    return sums


def tags_to_va(
    tracks: Sequence[Track], *, lexicons: Lexicons
) -> tuple[list[TagVA], CoverageReport]:
    """Valence/arousal of every track from its ``tags``, with the fallback chain above.

    Parameters
    ----------
    tracks : tracks with ``tags`` (and ``label`` for the class-prior fallback)
    lexicons : Warriner and optionally NRC-VAD (see :func:`moodnet.labels.lexicon.load_lexicons`)

    Returns
    -------
    results : one :class:`TagVA` per track, in input order
    report : a :class:`CoverageReport`
    """
    cache: dict[str, WordMatch | None] = {}
    results: dict[str, TagVA] = {}
    tag_found: dict[str, bool] = {}
    for track in tracks:
        matched, missing = _match_track(track, lexicons, cache)
        for tag in track.tags:
            tag_found[tag] = any(cache.get(w) is not None for w in tag_words(tag))
        if matched:
            va = np.mean([[m.valence, m.arousal] for m in matched], axis=0)
            step = "nrc" if any(m.source.startswith("nrc") for m in matched) else "warriner"
            results[track.id] = TagVA(
                track.id, float(va[0]), float(va[1]), tuple(matched), tuple(missing), step
            )
        else:
            results[track.id] = TagVA(track.id, None, None, (), tuple(missing), "none")

    report = CoverageReport(n_tracks=len(tracks))
    report.fit_description = lexicons.fit.describe() if lexicons.fit else ""
    report.word_sources = {w: (m.source if m else "missing") for w, m in sorted(cache.items())}
    report.unmatched_tags = sorted(t for t, found in tag_found.items() if not found)
    sums = _class_priors(results, tracks)
    for track in tracks:
        result = results[track.id]
        if result.step != "none":
            continue
        total = sums.get(track.label) if track.label is not None else None
        if total is None or total[2] == 0:
            report.none_tracks.append(track.id)
            continue
        prior = (float(total[0] / total[2]), float(total[1] / total[2]))
        report.priors[str(track.label)] = prior
        report.prior_tracks.setdefault(str(track.label), []).append(track.id)
        results[track.id] = TagVA(track.id, *prior, (), result.missing, "prior")
    ordered = [results[t.id] for t in tracks]
    report.steps = Counter(r.step for r in ordered)
    return ordered, report


def with_tag_va(tracks: Sequence[Track], results: Sequence[TagVA]) -> list[Track]:
    """Copies of ``tracks`` with valence/arousal set from ``results`` (matched by id)."""
    by_id = {r.id: r for r in results}
    return [
        t.with_(valence=by_id[t.id].valence, arousal=by_id[t.id].arousal) if t.id in by_id else t
        for t in tracks
    ]
