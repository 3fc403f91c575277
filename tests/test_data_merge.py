"""``moodnet data merge``: id prefixes on collisions, quadrant labels, artist overlap."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodnet.cli import main
from moodnet.cli.data_cmd import merge_manifests, quadrant_label
from moodnet.data.manifest import read_manifest, write_manifest
from moodnet.data.splits import check_artist_disjoint
from moodnet.track import Track


def track(id_: str, dataset: str, artist: str, split: str, **fields: object) -> Track:
    return Track(id=id_, dataset=dataset, artist=artist, split=split, **fields)  # type: ignore[arg-type]


FIRST = [
    track("001", "mirex", "Ann", "train", valence=0.4, arousal=-0.2, label="cluster1"),
    track("002", "mirex", "Bob", "test", valence=-0.3, arousal=0.5, label="cluster2"),
    track("003", "mirex", "Cat", "train", valence=-0.1, arousal=-0.1),
]
SECOND = [
    track("001", "4q", "Dan", "train", valence=0.6, arousal=0.3, label="Q2"),
    track("x9", "4q", "bob", "train", valence=0.2, arousal=0.2, label="Q1"),
    track("x8", "4q", "Eve", "validation"),
]


def test_quadrant_label_prefers_a_given_quadrant_over_va() -> None:
    assert [quadrant_label(t) for t in FIRST] == ["Q4", "Q2", "Q3"]
    assert [quadrant_label(t) for t in SECOND] == ["Q2", "Q1", None]


def test_merge_prefixes_ids_only_on_collisions_and_resolves_artist_overlap() -> None:
    merged = merge_manifests([FIRST, SECOND], label="quadrant")
    assert [t.id for t in merged][:2] == ["mirex_001", "mirex_002"]
    assert [t.label for t in merged] == ["Q4", "Q2", "Q3", "Q2", "Q1", None]
    by_id = {t.id: t for t in merged}
    assert by_id["4q_x9"].split is None  # "bob" is in the MIREX test split
    assert by_id["mirex_002"].split == "test"
    assert not check_artist_disjoint(merged)
    moved = {t.id: t for t in merge_manifests([FIRST, SECOND], artist_overlap="move")}
    assert moved["4q_x9"].split == "test" and moved["mirex_001"].label == "cluster1"
    kept = merge_manifests([FIRST[:1], SECOND[1:]], artist_overlap="keep")
    assert [t.id for t in kept] == ["001", "x9", "x8"]
    with pytest.raises(Exception, match="more than once"):
        merge_manifests([FIRST, SECOND], prefix_ids="never")


def test_merge_command_writes_the_combined_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_manifest(FIRST, tmp_path / "a.jsonl")
    b = write_manifest(SECOND, tmp_path / "b.jsonl")
    out = tmp_path / "all.jsonl"
    assert main(["data", "merge", str(a), str(b), "--label", "quadrant", "--out", str(out)]) == 0
    assert "1 tracks left without a split" in capsys.readouterr().out
    tracks = read_manifest(out)
    assert len(tracks) == 6 and tracks[3].id == "4q_001" and tracks[3].label == "Q2"
