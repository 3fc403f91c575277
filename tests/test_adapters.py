"""Dataset adapters on made-up layouts (every adapter in ADAPTERS is exercised)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from moodnet.cli import main
from moodnet.data.adapters import ADAPTERS, get_adapter
from moodnet.data.manifest import read_manifest
from moodnet.errors import DataError, FileProblem, ParameterError
from moodnet.labels.lexicon import load_lexicons
from moodnet.track import Track


def _wav(path: Path, seconds: float = 0.2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(8000 * seconds)) / 8000
    soundfile.write(path, 0.1 * np.sin(2 * np.pi * 440 * t), 8000)
    return path


def _lexicons(folder: Path) -> Path:
    (folder / "Ratings_Warriner_et_al.csv").parent.mkdir(parents=True, exist_ok=True)
    (folder / "Ratings_Warriner_et_al.csv").write_text(
        "Word,V.Mean.Sum,A.Mean.Sum\nhappy,9,7\nsad,1,3\ncalm,7,1\ntense,3,7\n", encoding="utf-8"
    )
    return folder


def _mirex(root: Path) -> Path:
    root.mkdir()
    (root / "metadata.csv").write_text(
        "id,title,artist,album,year,mirex_cluster,allmusic_mood,audio,lyrics\n"
        '001,Song A,"Doe, Jane",Alb,1990,2,Happy,audio/001.wav,lyrics/001.txt\n'
        "002,Song B,Band,Alb,1991,3,Sad,audio/002.wav,\n"
        "003,Song C,Band,Alb,1991,3,Autumnal,audio/003.wav,\n",
        encoding="utf-8",
    )
    for i in ("001", "002", "003"):
        _wav(root / "audio" / f"{i}.wav")
    (root / "lyrics").mkdir()
    (root / "lyrics" / "001.txt").write_text("la la love\n", encoding="utf-8")
    return root


def _fourq(root: Path) -> Path:
    root.mkdir()
    (root / "metadata.csv").write_text(
        "id,artist,title,quadrant,allmusic_moods,genres,audio\n"
        "MT1,A,T1,Q1,Happy; Tense,Pop,audio/MT1.wav\n"
        "MT2,B,T2,q3,Sad; Calm; Unknownword,Jazz,audio/MT2.wav\n",
        encoding="utf-8",
    )
    return root


def _deezer(root: Path) -> Path:
    root.mkdir()
    header = "dzr_sng_id,MSD_sng_id,MSD_track_id,valence,arousal,artist_name,track_name\n"
    rows = {
        "train": "1,SO1,TR1,-0.5,1.2,Artist A,One\n2,SO2,TR2,0.3,-0.9,Artist B,Two\n",
        "validation": "3,SO3,TR3,1.5,0.1,Artist C,Three\n",
        "test": "4,SO4,TR4,-2.1,-0.2,Artist D,Four\n",
    }
    for split, body in rows.items():
        (root / f"{split}.csv").write_text(header + body, encoding="utf-8")
    return root


def _pmemo(root: Path) -> Path:
    root.mkdir()
    (root / "index.json").write_text(json.dumps([{"id": 7}, {"id": 9}]), encoding="utf-8")
    for song, v, a, lyrics in ((7, 0.75, 0.25, "hello"), (9, 0.0, 1.0, None)):
        record = {
            "id": song,
            "title": f"T{song}",
            "artist": "P",
            "valence_mean": v,
            "arousal_mean": a,
            "quadrant": "Q4 x",
            "lyrics": lyrics,
        }
        (root / f"{song}.json").write_text(json.dumps(record), encoding="utf-8")
        _wav(root / f"{song}.wav")
    return root


def _csv(root: Path) -> Path:
    root.mkdir()
    _wav(root / "clips" / "a.wav")
    path = root / "tracks.csv"
    path.write_text(
        "id,artist,title,audio,lyrics,lyrics_text,valence,arousal,tags,label,split\n"
        "a,X,Ta,clips/a.wav,,some words,0.5,-0.5,calm; happy,c1,train\n"
        "b,Y,Tb,,words/b.txt,,,,Sad,c2,\n",
        encoding="utf-8",
    )
    return path


BUILDERS = {"mirex": _mirex, "4q": _fourq, "deezer": _deezer, "pmemo": _pmemo, "csv": _csv}


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_every_adapter_returns_tracks_with_absolute_paths(name, tmp_path):
    assert name in BUILDERS, "add a made-up layout for the new adapter"
    root = BUILDERS[name](tmp_path / name)
    tracks = get_adapter(name)(root)
    assert tracks and all(isinstance(t, Track) for t in tracks)
    assert len({t.id for t in tracks}) == len(tracks)
    for track in tracks:
        assert track.dataset == name
        for path in (track.audio, track.lyrics):
            assert path is None or Path(path).is_absolute()
        if ADAPTERS[name].classes is not None and track.label is not None:
            assert track.label in ADAPTERS[name].classes


def test_mirex_labels_tags_lyrics_and_tag_va(tmp_path):
    root = _mirex(tmp_path / "mirex")
    tracks = get_adapter("mirex")(root, lexicons=load_lexicons(_lexicons(tmp_path / "lex")))
    first, second, third = tracks
    assert first.label == "cluster2" and first.tags == ("Happy",)
    assert first.lyrics == str((root / "lyrics" / "001.txt").resolve())
    assert second.lyrics is None
    assert (first.valence, first.arousal) == pytest.approx((1.0, 0.5))
    assert (third.valence, third.arousal) == (second.valence, second.arousal)  # cluster prior
    assert all(t.split is None for t in tracks)


def test_mirex_without_lexicons_has_no_va(tmp_path):
    tracks = get_adapter("mirex")(_mirex(tmp_path / "mirex"))
    assert not any(t.has_va for t in tracks)


def test_mirex_bad_cluster_names_file_and_line(tmp_path):
    root = _mirex(tmp_path / "mirex")
    text = (root / "metadata.csv").read_text().replace(",3,Sad,", ",7,Sad,")
    (root / "metadata.csv").write_text(text)
    with pytest.raises(DataError, match=r"metadata.csv:3: mirex_cluster '7'"):
        get_adapter("mirex")(root)


def test_duplicate_ids_and_missing_columns_are_errors(tmp_path):
    root = _fourq(tmp_path / "4q")
    metadata = root / "metadata.csv"
    metadata.write_text(metadata.read_text() + "MT1,C,T3,Q2,Sad,Rock,audio/x.wav\n")
    with pytest.raises(DataError, match=r"duplicate ids.*MT1"):
        get_adapter("4q")(root)
    metadata.write_text("id,artist,title\nMT1,A,B\n")
    with pytest.raises(FileProblem, match="missing columns"):
        get_adapter("4q")(root)


def test_fourq_quadrants_and_tags(tmp_path):
    tracks = get_adapter("4q")(
        _fourq(tmp_path / "4q"), lexicons=load_lexicons(_lexicons(tmp_path / "lex"))
    )
    assert [t.label for t in tracks] == ["Q1", "Q3"]
    assert tracks[1].tags == ("Sad", "Calm", "Unknownword")
    # mean of sad (-1, -0.5) and calm (0.5, -1); the unknown word is skipped
    assert (tracks[1].valence, tracks[1].arousal) == pytest.approx((-0.25, -0.75))


def test_deezer_keeps_splits_and_finds_files_by_either_id(tmp_path):
    root = _deezer(tmp_path / "deezer")
    audio = tmp_path / "audio"
    _wav(audio / "sub" / "1.wav")
    _wav(audio / "TR4.wav")
    (audio / "2.txt").write_text("not audio")
    lyrics = tmp_path / "lyrics"
    lyrics.mkdir()
    (lyrics / "TR2.txt").write_text("words")
    tracks = get_adapter("deezer")(root, audio_dir=audio, lyrics_dir=lyrics)
    by_id = {t.id: t for t in tracks}
    assert [t.split for t in tracks] == ["train", "train", "validation", "test"]
    assert by_id["1"].audio == str((audio / "sub" / "1.wav").resolve())
    assert by_id["4"].audio is not None and by_id["2"].audio is None
    assert by_id["2"].lyrics == str((lyrics / "TR2.txt").resolve())
    assert (by_id["4"].valence, by_id["4"].arousal) == (-2.1, -0.2)
    assert ADAPTERS["deezer"].va_range is None and ADAPTERS["deezer"].gives_split


def test_deezer_missing_split_file(tmp_path):
    root = _deezer(tmp_path / "deezer")
    (root / "test.csv").unlink()
    with pytest.raises(FileProblem, match=r"test\.csv"):
        get_adapter("deezer")(root)


def test_pmemo_maps_unit_interval_to_va(tmp_path):
    tracks = get_adapter("pmemo")(_pmemo(tmp_path / "pmemo"))
    assert [(t.valence, t.arousal) for t in tracks] == [(0.5, -0.5), (-1.0, 1.0)]
    assert tracks[0].lyrics_text == "hello" and tracks[1].lyrics_text is None
    assert tracks[0].label == "Q4" and tracks[0].audio.endswith("7.wav")


def test_pmemo_out_of_range_value(tmp_path):
    root = _pmemo(tmp_path / "pmemo")
    record = json.loads((root / "9.json").read_text())
    record["arousal_mean"] = 1.5
    (root / "9.json").write_text(json.dumps(record))
    with pytest.raises(DataError, match=r"9.json: arousal_mean 1.5"):
        get_adapter("pmemo")(root)


def test_generic_csv_paths_relative_to_the_csv_and_va_from_tags(tmp_path):
    path = _csv(tmp_path / "set")
    tracks = get_adapter("csv")(path.parent, lexicons=load_lexicons(_lexicons(tmp_path / "lex")))
    a, b = tracks
    assert a.audio == str((path.parent / "clips" / "a.wav").resolve())
    assert a.lyrics is None and a.lyrics_text == "some words"
    assert (a.valence, a.arousal) == (0.5, -0.5)  # given VA is kept
    assert a.tags == ("calm", "happy") and a.split == "train"
    assert b.lyrics == str((path.parent / "words" / "b.txt").resolve())
    assert (b.valence, b.arousal) == (-1.0, -0.5)  # from its tag "Sad"


def test_generic_csv_half_given_va(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,valence,arousal\nx,0.5,\n")
    with pytest.raises(DataError, match=r"t.csv:2: valence and arousal"):
        get_adapter("csv")(path)


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(ParameterError, match="mirex"):
        get_adapter("nope")


def test_cli_manifest_with_artist_split_and_folds(tmp_path, capsys):
    root = tmp_path / "4q"
    root.mkdir()
    lines = ["id,artist,title,quadrant,allmusic_moods,genres,audio"]
    for i in range(40):
        lines.append(f"T{i},Artist {i % 20},t,Q{i % 4 + 1},Happy,Pop,audio/T{i}.wav")
    (root / "metadata.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "m" / "4q.jsonl"
    argv = ["data", "manifest", "4q", str(root), "--out", str(out), "--folds", "4", "--seed", "1"]
    assert main(argv) == 0
    tracks = read_manifest(out)
    assert len(tracks) == 40 and all(t.split for t in tracks)
    splits = json.loads(out.with_suffix(".splits.json").read_text())
    assert splits["seed"] == 1 and splits["splits"] == {t.id: t.split for t in tracks}
    assert json.loads(out.with_suffix(".folds.json").read_text())["n_folds"] == 4
    assert "artists in more than one split: 0" in capsys.readouterr().out
    again = tmp_path / "again.jsonl"
    reuse = [
        "data",
        "manifest",
        "4q",
        str(root),
        "--out",
        str(again),
        "--split",
        str(out.with_suffix(".splits.json")),
    ]
    assert main(reuse) == 0
    assert read_manifest(again) == tracks


SHARED = Path(
    os.environ.get("MOODNET_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.mark.shared_data
@pytest.mark.skipif(not (SHARED / "mirex_multimodal").is_dir(), reason="shared data absent")
def test_shared_datasets_load():
    lexicons = load_lexicons(SHARED / "lexicons")
    mirex = get_adapter("mirex")(SHARED / "mirex_multimodal", lexicons=lexicons)
    assert len(mirex) == 903 and sum(t.lyrics is not None for t in mirex) == 764
    assert all(t.has_va for t in mirex)
    fourq = get_adapter("4q")(SHARED / "4q_dev", lexicons=lexicons)
    assert len(fourq) == 450 and all(t.has_va for t in fourq)
    deezer = get_adapter("deezer")(SHARED / "deezer_mood")
    assert [sum(t.split == s for t in deezer) for s in ("train", "validation", "test")] == [
        11267,
        3863,
        3514,
    ]
