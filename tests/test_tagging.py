"""``moodnet tag``: dry run, tags readable by mutagen, audio untouched, resumable, bad files.

Predictions come from the shipped default model (offline); the files are generated.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from audio_files import FORMATS, decoded, write_audio, write_formats
from moodnet.cli import main
from moodnet.core import QUADRANT_WORDS, quadrant_of
from moodnet.errors import TagError
from moodnet.tagging import model_id, open_audio, read_mood_tags, write_tags_safely
from predict_helpers import build_tiny_checkpoint, write_corrupt

TAG_ARGS = ["--workers", "1", "--device", "cpu"]
VALUES = {"MOOD": "calm", "VALENCE": "0.125", "AROUSAL": "-0.250", "MOOD_QUADRANT": "Q4",
          "MOODNET_MODEL": "test@000000000000 (moodnet 0.1.0)"}


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_formats(tmp_path_factory.mktemp("originals"))[0].parent


@pytest.fixture
def music(originals: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    shutil.copytree(originals, folder)
    return folder


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_tags(path: Path) -> dict[str, str]:
    """The mood keys as mutagen's own classes show them (not through moodnet.tagging)."""
    keys = ("MOOD", "VALENCE", "AROUSAL", "MOOD_QUADRANT", "MOODNET_MODEL")
    suffix = path.suffix
    if suffix == ".mp3":
        from mutagen.id3 import ID3

        id3 = ID3(path)
        found = {k: str(id3[f"TXXX:{k}"].text[0]) for k in keys if f"TXXX:{k}" in id3}
        if "TMOO" in id3:
            found["TMOO"] = str(id3["TMOO"].text[0])
        return found
    if suffix == ".m4a":
        from mutagen.mp4 import MP4

        mp4 = MP4(path)
        atoms = {k: mp4.tags.get(f"----:com.apple.iTunes:{k}") for k in keys}
        return {k: bytes(v[0]).decode() for k, v in atoms.items() if v}
    from mutagen.flac import FLAC
    from mutagen.oggvorbis import OggVorbis

    comments = (FLAC if suffix == ".flac" else OggVorbis)(path)
    return {k: comments[k][0] for k in keys if k in comments}


def test_dry_run_writes_nothing(music: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = {p.name: sha(p) for p in music.iterdir()}
    assert main(["tag", str(music), *TAG_ARGS]) == 0
    out, err = capsys.readouterr()
    assert {p.name: sha(p) for p in music.iterdir()} == before
    for name in FORMATS:
        assert f"{name}: would tag  MOOD=" in out
    assert "4 would be tagged" in err and "dry run, nothing written" in err


def test_write_tags_readable_and_audio_unchanged(
    music: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    audio_before = {p.name: decoded(p) for p in music.iterdir()}
    assert main(["tag", str(music), "--write", *TAG_ARGS]) == 0
    out = capsys.readouterr().out
    model = out.splitlines()[0].removeprefix("model: ")
    assert sorted(p.name for p in music.iterdir()) == sorted(FORMATS)  # no temp file left
    for path in music.iterdir():
        tags = raw_tags(path)
        valence, arousal = float(tags["VALENCE"]), float(tags["AROUSAL"])
        assert -1 <= valence <= 1 and -1 <= arousal <= 1
        assert len(tags["VALENCE"].split(".")[1]) == 3
        assert tags["MOOD_QUADRANT"] == quadrant_of(valence, arousal)
        assert tags["MOOD"] == QUADRANT_WORDS[tags["MOOD_QUADRANT"]][0]
        assert tags["MOODNET_MODEL"] == model
        if path.suffix == ".mp3":
            assert tags["TMOO"] == tags["MOOD"]
        assert np.array_equal(decoded(path), audio_before[path.name]), path.name


def test_rerun_skips_files_tagged_by_the_same_model(
    music: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tag", str(music), "--write", *TAG_ARGS]) == 0
    capsys.readouterr()
    after_first = {p.name: sha(p) for p in music.iterdir()}
    assert main(["tag", str(music), "--write", *TAG_ARGS]) == 0
    out, err = capsys.readouterr()
    assert out.count("already tagged by this model, skipped") == len(FORMATS)
    assert "0 tagged, 4 already tagged, 0 failed" in err
    assert {p.name: sha(p) for p in music.iterdir()} == after_first


def test_corrupt_file_is_reported_and_the_others_tagged(
    music: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    bad = write_corrupt(music / "broken.mp3")
    bad_bytes = bad.read_bytes()
    assert main(["tag", str(music), "--write", *TAG_ARGS]) == 1
    err = capsys.readouterr().err
    assert f"skipped {bad}: cannot read its metadata" in err
    assert "4 tagged, 0 already tagged, 1 failed" in err
    assert bad.read_bytes() == bad_bytes
    for name in FORMATS:
        assert "MOODNET_MODEL" in raw_tags(music / name)


def test_read_only_file_is_reported_and_left_alone(
    music: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    locked = music / "chords.flac"
    before = sha(locked)
    locked.chmod(0o444)
    try:
        assert main(["tag", str(music), "--write", *TAG_ARGS]) == 1
        err = capsys.readouterr().err
        assert f"skipped {locked}: the file is read-only" in err
        assert sha(locked) == before
        assert "MOODNET_MODEL" in raw_tags(music / "tone.mp3")
    finally:
        locked.chmod(0o644)


def test_unknown_format_is_reported(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp3"
    text.write_text("just words\n" * 50)
    with pytest.raises(TagError, match=r"notes\.mp3: cannot read its metadata"):
        open_audio(text)


@pytest.mark.parametrize("name", ["tone.mp3", "chords.flac", "noise.ogg"])
def test_a_copy_whose_audio_changed_is_never_swapped_in(
    music: Path, monkeypatch: pytest.MonkeyPatch, name: str,
) -> None:
    import moodnet.tagging.safe as safe

    real_set = safe.set_mood_tags

    def set_and_damage(audio: object, values: dict[str, str]) -> None:
        real_set(audio, values)
        path = Path(str(audio.filename))  # type: ignore[attr-defined]
        data = bytearray(path.read_bytes())
        data[-2000:-1000] = bytes(1000)
        path.write_bytes(bytes(data))

    monkeypatch.setattr(safe, "set_mood_tags", set_and_damage)
    song = music / name
    before = sha(song)
    with pytest.raises(TagError, match=re.escape(f"{name}: tagging changed its audio stream")):
        write_tags_safely(song, VALUES)
    assert sha(song) == before
    assert sorted(p.name for p in music.iterdir()) == sorted(FORMATS)


def test_id3v23_stays_v23_and_other_tags_stay(tmp_path: Path) -> None:
    from mutagen.id3 import ID3, TIT2, TXXX

    song = write_audio(tmp_path / "old.mp3", np.zeros(22050, dtype=np.float32) + 0.1)
    id3 = ID3()
    id3.add(TIT2(encoding=1, text=["My Song"]))
    id3.add(TXXX(encoding=1, desc="MOOD", text=["stale"]))
    id3.save(song, v2_version=3)
    write_tags_safely(song, VALUES)
    after = ID3(song)
    assert after.version[:2] == (2, 3)
    assert str(after["TIT2"].text[0]) == "My Song"
    assert [str(f.text[0]) for f in after.getall("TXXX:MOOD")] == ["calm"]
    assert read_mood_tags(open_audio(song)) == VALUES


def test_tags_round_trip_in_every_format(music: Path) -> None:
    for path in music.iterdir():
        write_tags_safely(path, VALUES)
        assert read_mood_tags(open_audio(path)) == VALUES, path.name


def test_model_id_follows_the_checkpoint(tmp_path: Path) -> None:
    from moodnet.predict import Predictor

    first = Predictor.load(build_tiny_checkpoint(tmp_path / "a", seed=0), device="cpu")
    again = Predictor.load(tmp_path / "a", device="cpu")
    other = Predictor.load(build_tiny_checkpoint(tmp_path / "b", seed=1), device="cpu")
    assert model_id(first) == model_id(again)
    assert model_id(first) != model_id(other)
    assert model_id(first).startswith(f"{first.model_id}@") and "(moodnet " in model_id(first)


def test_missing_path_is_reported(music: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", str(music / "tone.mp3"), str(music / "gone.mp3"), *TAG_ARGS]) == 1
    assert f"skipped {music / 'gone.mp3'}: no such file or folder" in capsys.readouterr().err
    assert os.path.exists(music / "tone.mp3")
