"""Lexicons, tag -> VA, label schemes and chance levels, on made-up data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from moodnet.errors import DataError, FileProblem, ParameterError
from moodnet.labels.lexicon import load_lexicons, load_nrc_vad, load_warriner
from moodnet.labels.schemes import (
    SCHEMES,
    GivenLabelScheme,
    GridScheme,
    KMeansScheme,
    chance_levels,
    make_scheme,
    quadrant_ids,
    scheme_from_json,
)
from moodnet.labels.tags import tag_words, tags_to_va
from moodnet.track import Track

# made-up norms: word -> (valence 1..9, arousal 1..9)
WARRINER_ROWS = {
    "happy": (9.0, 7.0),
    "sad": (1.0, 3.0),
    "calm": (7.0, 1.0),
    "aggressive": (2.0, 8.0),
    "tense": (3.0, 7.0),
    "anxious": (3.0, 8.0),
    "good": (8.0, 5.0),
    "amiable": (7.0, 4.0),
    "nature": (7.0, 3.0),
    "Pope": (1.0, 1.0),
    "pope": (6.0, 5.0),
}
# NRC values are an exact line of the Warriner ones on shared words: nrc = (w + 1) / 2 on the
# [-1, 1] scale, so the fit must recover w = 2 * nrc - 1.
NRC_ONLY = {"wistful": (0.3, 0.4), "boisterous": (0.6, 0.9), "extreme": (1.0, 1.2)}


def _write_lexicons(folder: Path) -> Path:
    warriner = folder / "warriner2013" / "Ratings_Warriner_et_al.csv"
    warriner.parent.mkdir(parents=True)
    lines = [",Word,V.Mean.Sum,V.SD.Sum,A.Mean.Sum"]
    for number, (word, (v, a)) in enumerate(WARRINER_ROWS.items(), start=1):
        lines.append(f"{number},{word},{v},1.0,{a}")
    warriner.write_text("\n".join(lines) + "\n", encoding="utf-8")
    nrc = folder / "nrc_vad_v1" / "NRC-VAD-Lexicon.txt"
    nrc.parent.mkdir(parents=True)
    rows = ["Word\tValence\tArousal\tDominance"]
    for word, (v, a) in WARRINER_ROWS.items():
        if word == "Pope":
            continue
        rows.append(f"{word}\t{((v - 5) / 4 + 1) / 2:.6f}\t{((a - 5) / 4 + 1) / 2:.6f}\t0.5")
    rows += [f"{w}\t{v}\t{a}\t0.5" for w, (v, a) in NRC_ONLY.items()]
    nrc.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def lexicons(tmp_path):
    return load_lexicons(_write_lexicons(tmp_path / "lexicons"))


def test_warriner_maps_means_to_unit_scale(tmp_path):
    lexicon = load_warriner(_write_lexicons(tmp_path))
    assert lexicon["happy"] == (1.0, 0.5)
    assert lexicon["sad"] == (-1.0, -0.5)
    assert lexicon["pope"] == (0.25, 0.0)  # the lower-case row wins over "Pope"
    assert len(lexicon) == len(WARRINER_ROWS) - 1


def test_warriner_missing_column_names_the_file(tmp_path):
    path = tmp_path / "Ratings_Warriner_et_al.csv"
    path.write_text("Word,V.Mean.Sum\nhappy,9\n", encoding="utf-8")
    with pytest.raises(FileProblem, match=r"A\.Mean\.Sum") as info:
        load_warriner(path)
    assert info.value.path == path


def test_nrc_fit_recovers_the_line_and_rescales_nrc_only_words(tmp_path):
    folder = _write_lexicons(tmp_path)
    warriner = load_warriner(folder)
    nrc, fit = load_nrc_vad(folder, onto=warriner)
    assert fit.n_shared == len(WARRINER_ROWS) - 1
    assert fit.slope_valence == pytest.approx(2.0, abs=1e-4)
    assert fit.intercept_arousal == pytest.approx(-1.0, abs=1e-4)
    assert fit.r_valence == pytest.approx(1.0, abs=1e-6)
    assert nrc["wistful"] == pytest.approx((-0.4, -0.2), abs=1e-4)
    assert nrc["extreme"] == pytest.approx((1.0, 1.0))  # clipped to [-1, 1]
    assert "2.0000 * nrc" in fit.describe()


@pytest.mark.parametrize(
    ("tag", "words"),
    [
        ("Tense - Anxious", ["tense", "anxious"]),
        ("Amiable-good natured", ["amiable", "good", "natured"]),
        ("Agressive", ["aggressive"]),
        ("The Happy and the Sad", ["happy", "sad"]),
        ("  ", []),
    ],
)
def test_tag_words(tag, words):
    assert tag_words(tag) == words


def test_lookup_order_raw_lemma_then_nrc(lexicons):
    assert lexicons.lookup("Calm").source == "warriner"
    calming = lexicons.lookup("calming")
    assert (calming.form, calming.source) == ("calm", "warriner_lemma")
    assert lexicons.lookup("wistful").source == "nrc"
    assert lexicons.lookup("autumnal") is None


def test_tags_to_va_steps_priors_and_report(lexicons):
    tracks = [
        Track("1", tags=("Happy", "Calm"), label="c1"),
        Track("2", tags=("Tense - Anxious",), label="c2"),
        Track("3", tags=("Wistful", "Sad"), label="c2"),
        Track("4", tags=("Autumnal",), label="c1"),
        Track("5", tags=("Literate",), label="c9"),
        Track("6", tags=(), label=None),
    ]
    results, report = tags_to_va(tracks, lexicons=lexicons)
    by_id = {r.id: r for r in results}
    assert by_id["1"].step == "warriner"
    assert (by_id["1"].valence, by_id["1"].arousal) == pytest.approx((0.75, -0.25))
    assert by_id["2"].valence == pytest.approx(-0.5)
    assert by_id["3"].step == "nrc"
    assert by_id["3"].valence == pytest.approx((-0.4 - 1.0) / 2, abs=1e-4)
    assert by_id["4"].step == "prior"
    assert (by_id["4"].valence, by_id["4"].arousal) == pytest.approx((0.75, -0.25))
    assert by_id["4"].missing == ("autumnal",)
    assert by_id["5"].step == "none" and by_id["5"].valence is None
    assert by_id["6"].step == "none"
    assert report.steps == {"warriner": 2, "nrc": 1, "prior": 1, "none": 2}
    assert report.unmatched_tags == ["Autumnal", "Literate"]
    assert report.words_missing() == ["autumnal", "literate"]
    assert "wistful" in report.words_missing("warriner")
    assert report.prior_tracks == {"c1": ["4"]}
    assert "prior c1" in report.format()


def test_tags_to_va_without_nrc(tmp_path):
    folder = _write_lexicons(tmp_path)
    (folder / "nrc_vad_v1" / "NRC-VAD-Lexicon.txt").unlink()
    lexicons = load_lexicons(folder)
    assert lexicons.nrc is None
    results, _ = tags_to_va([Track("1", tags=("wistful",))], lexicons=lexicons)
    assert results[0].step == "none"


# ---------------------------------------------------------------- schemes


def test_quadrant_boundaries_follow_design():
    va = np.array([[0.1, 0.1], [0.0, 0.1], [0.0, 0.0], [0.1, 0.0], [-0.1, -0.1]])
    assert quadrant_ids(va).tolist() == [0, 1, 2, 3, 2]
    scheme = make_scheme("quadrant").fit(np.array([[0.5, 0.5], [0.3, 0.7], [-0.2, -0.4]]))
    assert scheme.class_names == ("Q1", "Q2", "Q3", "Q4")
    assert scheme.centres[0].tolist() == pytest.approx([0.4, 0.6])
    assert scheme.centres[1].tolist() == [-0.5, 0.5]  # nominal: no training point


def _blobs(seed: int, n: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[-0.6, -0.6], [-0.6, 0.6], [0.6, -0.6], [0.6, 0.6]])
    return np.concatenate([c + 0.05 * rng.standard_normal((n, 2)) for c in centres])


def test_kmeans_is_fitted_on_train_only_and_reproducible():
    train = _blobs(0)
    scheme = make_scheme("kmeans4").fit(train)
    again = make_scheme("kmeans4").fit(train)
    np.testing.assert_array_equal(scheme.centres, again.centres)
    before = scheme.centres.copy()
    for test in (_blobs(1), _blobs(2) * 3.0):
        labels = scheme.assign(test)
        assert labels.shape == (len(test),)
        np.testing.assert_array_equal(scheme.centres, before)
    np.testing.assert_allclose(np.sort(np.abs(before).ravel()), 0.6, atol=0.03)
    corners = np.array([[-0.6, -0.6], [0.6, 0.6]])
    np.testing.assert_allclose(scheme.centres[scheme.assign(corners)], corners, atol=0.03)


def _manifest(path: Path, test_shift: float, train_shift: float = 0.0) -> Path:
    from moodnet.data.manifest import write_manifest

    tracks = []
    for split, seed, shift in (("train", 0, train_shift), ("test", 1, test_shift)):
        for i, (v, a) in enumerate(_blobs(seed, n=10) + shift):
            tracks.append(Track(f"{split}{i}", valence=float(v), arousal=float(a), split=split))
    return write_manifest(tracks, path)


def test_cli_fits_kmeans_on_the_train_split_only(tmp_path, capsys):
    from moodnet.cli import main

    centres = []
    for name, test_shift, train_shift in (("a", 0.0, 0.0), ("b", 0.3, 0.0), ("c", 0.0, 0.3)):
        manifest = _manifest(tmp_path / f"{name}.jsonl", test_shift, train_shift)
        saved = tmp_path / f"{name}.json"
        assert main(["labels", "kmeans4", "--manifest", str(manifest), "--save", str(saved)]) == 0
        centres.append(np.array(json.loads(saved.read_text())["state"]["centres"]))
    np.testing.assert_array_equal(centres[0], centres[1])  # test points moved: same centres
    np.testing.assert_allclose(centres[2], centres[0] + 0.3)  # train points moved: centres follow
    out = capsys.readouterr().out
    assert "chance on test: majority" in out and "uniform 0.250" in out


def test_kmeans_ties_weighted_unique_points():
    heavy = np.repeat([[0.4, -0.9]], 500, axis=0)
    others = np.array([[-1.0, 1.0], [-0.9, 0.9], [1.0, 1.0], [0.9, 0.95]])
    scheme = KMeansScheme(k=3).fit(np.concatenate([heavy, others]))
    assert scheme.n_distinct == 5
    assert np.any(np.all(np.isclose(scheme.centres, [0.4, -0.9]), axis=1))
    labels = scheme.assign(np.concatenate([heavy, others]))
    assert np.bincount(labels).max() == 500


def test_kmeans_more_clusters_than_distinct_points_is_an_error():
    va = np.repeat([[0.0, 0.0], [1.0, 1.0], [0.5, -0.5]], 10, axis=0)
    with pytest.raises(ParameterError, match="only 3 distinct"):
        make_scheme("kmeans4").fit(va)


def test_kmeans_unfitted_and_bad_input():
    with pytest.raises(ParameterError, match="not fitted"):
        make_scheme("kmeans16").assign(np.zeros((1, 2)))
    with pytest.raises(ParameterError, match="shape"):
        make_scheme("kmeans4").fit(np.zeros((10, 3)))
    with pytest.raises(ParameterError, match="n_init"):
        KMeansScheme(k=4, n_init=1)


def test_kmeans_json_round_trip(tmp_path):
    scheme = make_scheme("kmeans4", seed=3).fit(_blobs(0))
    path = tmp_path / "scheme.json"
    path.write_text(json.dumps(scheme.to_json()))
    loaded = scheme_from_json(json.loads(path.read_text()))
    np.testing.assert_array_equal(loaded.centres, scheme.centres)
    test = _blobs(5)
    np.testing.assert_array_equal(loaded.assign(test), scheme.assign(test))
    assert loaded.to_json() == scheme.to_json()


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((-1.0, -1.0), 0),
        ((-0.5, -1.0), 0),  # on an inner edge: lower cell (like V<=0 in the quadrants)
        ((-0.49, -1.0), 1),
        ((0.0, 0.0), 1 * 4 + 1),
        ((1.0, 1.0), 15),
        ((0.5, 0.51), 3 * 4 + 2),
        ((-3.0, 7.0), 12),  # outside the square: edge cells
    ],
)
def test_abs16_grid_boundaries(point, expected):
    scheme = make_scheme("abs16", bounds="unit")
    assert scheme.assign(np.array([point])).tolist() == [expected]


def test_abs4_agrees_with_quadrants_on_unit_scale():
    rng = np.random.default_rng(0)
    va = np.concatenate([rng.uniform(-1, 1, (200, 2)), [[0, 0], [0, 0.3], [0.3, 0]]])
    grid = make_scheme("abs4").fit(va)
    mapping = {0: 2, 1: 3, 2: 1, 3: 0}  # grid cell -> quadrant id
    assert [mapping[c] for c in grid.assign(va)] == quadrant_ids(va).tolist()


def test_abs_bounds_auto_zscore_and_fixed():
    assert make_scheme("abs4").fit(np.array([[0.5, -0.9]])).bounds == (-1.0, 1.0)
    zscore = make_scheme("abs64").fit(np.array([[2.0, -0.9]]))
    assert zscore.bounds == (-2.5, 2.5)
    train = make_scheme("abs16", bounds="train").fit(np.array([[-2.0, 0.0], [1.0, 2.0]]))
    assert train.bounds == (-2.0, 2.0)
    assert train.assign(np.array([[-1.0, 1.0]])).tolist() == [2 * 4 + 0]
    fixed = GridScheme(k=4, bounds=(0.0, 2.0))
    assert fixed.assign(np.array([[1.0, 1.01]])).tolist() == [2]
    np.testing.assert_allclose(fixed.centres, [[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5]])
    loaded = scheme_from_json(json.loads(json.dumps(zscore.to_json())))
    assert loaded.bounds == (-2.5, 2.5)
    with pytest.raises(ParameterError, match="fit first"):
        make_scheme("abs4").assign(np.zeros((1, 2)))
    with pytest.raises(ParameterError, match="square"):
        make_scheme("abs8")


def test_registry_and_parametric_names():
    assert {
        "va",
        "quadrant",
        "kmeans4",
        "kmeans16",
        "kmeans64",
        "abs4",
        "abs16",
        "abs64",
        "mirex5",
    } <= set(SCHEMES)
    assert make_scheme("kmeans8").k == 8
    assert make_scheme("abs9").side == 3
    va = make_scheme("va")
    assert va.kind == "regression"
    assert va.assign([[0.1, 0.2]]).dtype == np.float32
    with pytest.raises(ParameterError, match="unknown label scheme"):
        make_scheme("kmeans")


def test_given_label_schemes():
    train = [
        Track(str(i), label=f"cluster{i % 5 + 1}", valence=0.1 * i, arousal=0.0) for i in range(10)
    ]
    scheme = make_scheme("mirex5").fit_tracks(train)
    assert scheme.assign_tracks(train).tolist() == [i % 5 for i in range(10)]
    assert scheme.centres.shape == (5, 2)
    learned = GivenLabelScheme().fit_tracks([Track("a", label="Q2"), Track("b", label="Q1")])
    assert learned.class_names == ("Q1", "Q2")
    assert scheme_from_json(learned.to_json()).class_names == ("Q1", "Q2")
    with pytest.raises(DataError, match="Q9"):
        learned.assign_tracks([Track("c", label="Q9")])
    with pytest.raises(ParameterError, match=r"Track\.label"):
        scheme.assign(np.zeros((1, 2)))


def test_chance_levels():
    levels = chance_levels([0, 0, 0, 1, 2], [1, 1, 0, 2], 4)
    assert levels.majority_class == 0
    assert levels.majority == pytest.approx(0.25)
    assert levels.uniform == pytest.approx(0.25)
    assert levels.eval_majority == pytest.approx(0.5)
    with pytest.raises(ParameterError, match=r"0\.\.3"):
        chance_levels([0, 4], [0], 4)


SHARED = Path(
    os.environ.get("MOODNET_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.mark.shared_data
@pytest.mark.skipif(not (SHARED / "lexicons").is_dir(), reason="shared data absent")
def test_shared_lexicons_cover_the_mirex_words():
    lexicons = load_lexicons(SHARED / "lexicons")
    assert len(lexicons.warriner) > 13_000 and lexicons.nrc is not None
    for word in ("wistful", "rollicking", "boisterous", "wry"):
        assert lexicons.lookup(word).source == "nrc"
    for word in ("autumnal", "literate", "campy", "visceral"):
        assert lexicons.lookup(word) is None
