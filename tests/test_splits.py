"""Artist-disjoint stratified splits and folds on made-up tracks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from moodnet.data.splits import (
    apply_split,
    artist_folds,
    artist_split,
    check_artist_disjoint,
    fold_split,
    given_split,
    load_folds,
    load_splits,
    normalise_artist,
    save_folds,
    save_splits,
    stratify_labels,
)
from moodnet.errors import DataError, ParameterError
from moodnet.track import Track


def _tracks(n_artists: int = 80, seed: int = 0) -> list[Track]:
    """Artists with 1-6 tracks each, labels skewed per artist, some without lyrics."""
    rng = np.random.default_rng(seed)
    tracks = []
    for artist in range(n_artists):
        favourite = rng.integers(4)
        for song in range(int(rng.integers(1, 7))):
            label = favourite if rng.random() < 0.7 else rng.integers(4)
            tracks.append(
                Track(
                    id=f"{artist}-{song}",
                    artist=f"Artist {artist}" if song % 2 else f"artist {artist}",
                    label=f"c{label}",
                    lyrics_text="words" if rng.random() < 0.8 else None,
                )
            )
    return tracks


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Brown, Ruth", "Ruth Brown"),
        ("The Coasters", "Coasters"),
        ("Echo & The Bunnymen", "Echo and the Bunnymen"),
        ("Petty, Tom & The Heartbreakers", "Tom Petty and the Heartbreakers"),
        ("AC/DC", "AC-DC"),
        ("T.Rex", "T Rex"),
        ("Beyoncé", "BEYONCE"),
        ("Mariah Carey feat. Boyz II Men", "Mariah Carey"),
        ("OutKast Featuring Sleepy Brown", "Outkast"),
    ],
)
def test_normalise_artist_merges_spellings(a, b):
    assert normalise_artist(a) == normalise_artist(b)


def test_normalise_artist_keeps_different_artists_apart():
    names = ["The The", "Brown, James", "Ruth Brown", "Queen", "Queens of the Stone Age"]
    assert len({normalise_artist(n) for n in names}) == len(names)
    assert normalise_artist("The The") == "the"


def test_artist_split_is_disjoint_stratified_and_sized():
    tracks = apply_split(_tracks(), artist_split(_tracks(), seed=0))
    assert check_artist_disjoint(tracks) == {}
    sizes = Counter(t.split for t in tracks)
    for split, share in (("train", 0.70), ("validation", 0.15), ("test", 0.15)):
        assert sizes[split] / len(tracks) == pytest.approx(share, abs=0.03)
    overall = Counter(t.label for t in tracks)
    for split in ("train", "validation", "test"):
        counts = Counter(t.label for t in tracks if t.split == split)
        for label, total in overall.items():
            assert counts[label] / sizes[split] == pytest.approx(total / len(tracks), abs=0.05)
    lyric_share = [np.mean([t.has_lyrics for t in tracks if t.split == s]) for s in sizes]
    assert max(lyric_share) - min(lyric_share) < 0.06


def test_artist_split_is_reproducible_and_seeded():
    tracks = _tracks()
    assert artist_split(tracks, seed=3) == artist_split(list(tracks), seed=3)
    assert artist_split(tracks, seed=3) != artist_split(tracks, seed=4)


def test_artist_split_fractions_are_checked():
    with pytest.raises(ParameterError, match="sum"):
        artist_split(_tracks(), fractions=(0.7, 0.2, 0.2))
    split = artist_split(_tracks(), fractions=(0.5, 0.25, 0.25))
    assert Counter(split.values())["train"] / len(split) == pytest.approx(0.5, abs=0.03)


def test_stratify_falls_back_to_va_quadrant_then_none():
    with_va = [Track("a", valence=0.5, arousal=-0.5), Track("b", valence=-0.1, arousal=0.0)]
    assert stratify_labels(with_va) == ["Q4", "Q3"]
    assert stratify_labels([Track("a"), Track("b", valence=1.0, arousal=1.0)]) == ["", ""]


def test_folds_are_artist_disjoint_and_cover_everything(tmp_path):
    tracks = _tracks()
    folds = artist_folds(tracks, n_folds=5, seed=0)
    assert set(folds) == {t.id for t in tracks} and set(folds.values()) == set(range(5))
    artists: dict[str, set[int]] = {}
    for t in tracks:
        artists.setdefault(normalise_artist(t.artist), set()).add(folds[t.id])
    assert all(len(f) == 1 for f in artists.values())
    assert artist_folds(tracks, n_folds=5, seed=0) == folds
    split = fold_split(folds, test_fold=4)
    assert {i for i, s in split.items() if s == "test"} == {i for i, f in folds.items() if f == 4}
    assert {i for i, s in split.items() if s == "validation"} == {
        i for i, f in folds.items() if f == 0
    }
    path = save_folds(folds, tmp_path / "folds.json", seed=0)
    assert load_folds(path) == folds
    with pytest.raises(ParameterError, match="artists"):
        artist_folds(tracks[:3], n_folds=5)


def test_save_load_apply(tmp_path):
    tracks = _tracks(20)
    split = artist_split(tracks, seed=1)
    path = save_splits(split, tmp_path / "split.json", method="artist", seed=1)
    assert load_splits(path) == split
    applied = apply_split(tracks, load_splits(path))
    assert [t.split for t in applied] == [split[t.id] for t in tracks]
    with pytest.raises(DataError, match="not in the split"):
        apply_split([*tracks, Track("new")], split)
    assert apply_split([Track("new")], split, strict=False)[0].split is None
    with pytest.raises(DataError, match="unknown split"):
        apply_split(tracks, {t.id: "dev" for t in tracks})


def test_given_split_and_disjointness_report():
    given = [Track("1", artist="A", split="train"), Track("2", artist="The A", split="test")]
    assert given_split(given) == {"1": "train", "2": "test"}
    assert check_artist_disjoint(given) == {"a": ["test", "train"]}
    with pytest.raises(DataError, match="no given split"):
        given_split([Track("3")])
