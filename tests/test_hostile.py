"""Hostile inputs (issue 11): each case fails loudly with one line, never destroys or hangs.

Every input is generated here. CLI cases run ``moodnet.cli.main`` in-process and check the
exit code and the one-line message on stderr (no traceback).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from moodnet.cli import main
from predict_helpers import build_tiny_checkpoint, write_tone


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("model") / "run")


@pytest.fixture()
def song(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "song.wav", seconds=3.0)


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


# --- predict --output / --plot -----------------------------------------------------------------


def test_output_that_is_the_input_is_refused_and_the_song_survives(
    song: Path, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = song.read_bytes()
    err = _usage_error(["predict", str(song), "--model", str(run_dir), "--output", str(song)],
                       capsys)
    assert "is one of the input files" in err
    assert song.read_bytes() == before


def test_output_with_an_audio_extension_is_refused(
    song: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = write_tone(tmp_path / "other.mp3", seconds=1.0)
    before = other.read_bytes()
    err = _usage_error(["predict", str(song), "--model", str(run_dir), "--output", str(other)],
                       capsys)
    assert "has an audio extension" in err
    assert other.read_bytes() == before


@pytest.mark.parametrize(
    ("option", "target", "message"),
    [("--output", "out.csv/", "is a folder"), ("--plot", "va.png/", "is a folder"),
     ("--output", "/dev/full", "exists and is not a regular file")],
)
def test_output_that_is_no_file_is_a_usage_error(
    song: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    option: str, target: str, message: str,
) -> None:
    if target.endswith("/"):
        (tmp_path / target).mkdir()
        target = str(tmp_path / target.rstrip("/"))
    elif not Path(target).exists():
        pytest.skip(f"no {target}")
    err = _usage_error(["predict", str(song), "--model", str(run_dir), option, target], capsys)
    assert f"{option} {target}: {message}" in err and "Traceback" not in err


@pytest.mark.parametrize("option", ["--output", "--plot"])
def test_unwritable_output_is_one_line(
    song: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    target = blocker / ("x.png" if option == "--plot" else "x.csv")  # parent is a file
    assert main(["predict", str(song), "--model", str(run_dir), option, str(target)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"moodnet predict: error: {target}: cannot be written")


def test_output_under_proc_is_one_line(
    song: Path, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path("/proc/self").exists():
        pytest.skip("no /proc")
    code = main(["predict", str(song), "--model", str(run_dir), "--output", "/proc/x.csv"])
    assert code == 1
    assert "/proc/x.csv: cannot be written" in capsys.readouterr().err


def test_table_output_is_written_atomically(
    song: Path, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moodnet.io_utils

    out = tmp_path / "moods.txt"
    out.write_text("previous table\n", encoding="utf-8")
    calls: list[Path] = []
    original = moodnet.io_utils.atomic_write_text
    monkeypatch.setattr(moodnet.io_utils, "atomic_write_text",
                        lambda path, text: calls.append(Path(path)) or original(path, text))
    assert main(["predict", str(song), "--model", str(run_dir), "--output", str(out),
                 "--format", "table"]) == 0
    assert calls == [out] and "song.wav" in out.read_text(encoding="utf-8")


def test_resume_from_another_folder_recognises_the_rows(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    music = tmp_path / "music"
    music.mkdir()
    for i in range(2):
        write_tone(music / f"s{i}.wav", seconds=2.0, seed=i)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(music)
    argv = ["predict", ".", "--model", str(run_dir), "--output", "../x.csv", "--workers", "1"]
    assert main(argv) == 0
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["predict", "../music", *argv[2:]]) == 0
    assert "2 track(s) already" in capsys.readouterr().err
    with (tmp_path / "x.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["path"] for r in rows) == [
        os.path.realpath(music / "s0.wav"), os.path.realpath(music / "s1.wav")]


# --- tampered checkpoints ---------------------------------------------------------------------


def _tamper_json(run: Path, change: dict[str, object]) -> None:
    import json

    meta = json.loads((run / "checkpoint.json").read_text(encoding="utf-8"))
    for dotted, value in change.items():
        *parents, key = dotted.split(".")
        target = meta
        for parent in parents:
            target = target[parent]
        target[key] = value
    (run / "checkpoint.json").write_text(json.dumps(meta), encoding="utf-8")


def _truncate(run: Path) -> None:
    weights = run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])


def _random_bytes(run: Path) -> None:
    import numpy as np

    data = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    (run / "model.safetensors").write_bytes(data)


def _huge_header(run: Path) -> None:
    (run / "model.safetensors").write_bytes((10**15).to_bytes(8, "little") + b"{}")


def _pickled_model(run: Path) -> None:
    import torch

    from moodnet.models.checkpoint import load_checkpoint

    model = load_checkpoint(run, device="cpu").model
    (run / "model.safetensors").unlink()
    torch.save(model, run / "model.pt")


def _other_shape_in_header(run: Path) -> None:
    import json

    weights = run / "model.safetensors"
    data = weights.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    name = next(k for k in header if k != "__metadata__" and len(header[k]["shape"]) == 2)
    header[name]["shape"] = [*header[name]["shape"][::-1], 1]
    text = json.dumps(header).encode()
    weights.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + length :])


_TAMPERED = {
    "audio hidden 10**7": (lambda run: _tamper_json(run, {"model.audio.hidden": 10**7}),
                           r"paper_audio\.hidden: 10000000 is not an integer in 1\.\.4096"),
    "fusion hidden 10**7": (lambda run: _tamper_json(run, {"model.hidden": 10**7}),
                            r"mid_fusion\.hidden: 10000000 is not an integer"),
    "n_mels a string": (lambda run: _tamper_json(run, {"model.audio.n_mels": "forty"}),
                        r"bad model config"),
    "n_frames not the features'": (
        lambda run: _tamper_json(run, {"model.audio.n_frames": 1292}),
        r"n_frames=1292 disagrees with the frames of the features"),
    "max_tokens -1": (lambda run: _tamper_json(run, {"max_tokens": -1}),
                      r"max_tokens -1 is not in 1\.\.100000"),
    "mel_mean of another length": (
        lambda run: _tamper_json(run, {"normalisation.mel_mean": [0.0] * 3}),
        r"normalisation\.mel_mean must be 40 finite numbers"),
    "truncated weights": (_truncate, r"model\.safetensors: .*(truncated|outside the file)"),
    "random weights": (_random_bytes, r"model\.safetensors: not a safetensors file"),
    "header length 10**15": (_huge_header, r"not a safetensors file or truncated"),
    "shape in the header": (_other_shape_in_header, r"has shape \[.*\], the config gives"),
    "pickled model.pt": (_pickled_model, r"model\.pt: not a weights-only state dict"),
}


@pytest.mark.parametrize(("tamper", "message"), _TAMPERED.values(), ids=_TAMPERED.keys())
def test_tampered_checkpoint_is_one_line_without_big_allocations(
    run_dir: Path, tmp_path: Path, tamper: object, message: str
) -> None:
    import resource
    import shutil

    from moodnet.errors import CheckpointError
    from moodnet.models.checkpoint import load_checkpoint

    run = Path(shutil.copytree(run_dir, tmp_path / "run"))
    tamper(run)  # type: ignore[operator]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(CheckpointError, match=message) as error:
        load_checkpoint(run, device="cpu")
    assert "\n" not in str(error.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000


# --- manifests: one-line DataErrors naming file and line; untrainable sets refused ---------


@pytest.mark.parametrize(
    ("line", "message"),
    [("[1, 2, 3]", "expected a JSON object, got list"),
     ("null", "expected a JSON object, got NoneType"),
     ('{"id": 17}', "id must be a string, got int 17"),
     ('{"id": "a", "tags": "happy"}', "tags must be a list of strings, got str 'happy'"),
     ('{"id": "a", "valence": true}', "valence must be a number or null"),
     ('{"id": "a", "audio": ["x.mp3"]}', "audio must be a string")],
)
def test_malformed_manifest_line_is_one_line(tmp_path: Path, line: str, message: str) -> None:
    from moodnet.data.manifest import read_manifest
    from moodnet.errors import DataError

    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"id": "ok"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"m\.jsonl:2: not a manifest entry \(") as error:
        read_manifest(manifest)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("content", [bytes(range(256)) * 4, b'{"id": "a"}\x00\n'])
def test_binary_manifest_is_one_line(tmp_path: Path, content: bytes) -> None:
    from moodnet.data.manifest import read_manifest
    from moodnet.errors import DataError

    manifest = tmp_path / "m.jsonl"
    manifest.write_bytes(content)
    with pytest.raises(DataError, match=r"m\.jsonl: (not UTF-8 text|contains NUL bytes)"):
        read_manifest(manifest)


def _tracks(points: list[tuple[float, float]], label: str | None = None) -> list[object]:
    from moodnet.track import Track

    return [Track(id=f"t{i}", valence=v, arousal=a, label=label, split="train")
            for i, (v, a) in enumerate(points)]


_UNTRAINABLE = {
    "empty manifest": ([], "no tracks"),
    "one quadrant": (_tracks([(0.2, 0.3), (0.5, 0.9), (0.1, 0.1)]), "one quadrant (Q1)"),
    "one label": (_tracks([(0.2, 0.3), (-0.5, 0.9)], label="c1"), "one label (c1)"),
    "constant VA": (_tracks([(0.2, 0.3), (0.2, 0.3), (0.2, -0.3)]), "valence is 0.2 for all 3"),
    "valence 42": (_tracks([(42.0, 0.3), (-0.5, -0.2)]), "valence 42.0 outside [-1.0, 1.0]"),
}


@pytest.mark.parametrize(("tracks", "message"), _UNTRAINABLE.values(), ids=_UNTRAINABLE.keys())
def test_untrainable_data_is_refused_by_validate_and_train(
    tmp_path: Path, tracks: list[object], message: str
) -> None:
    from moodnet.data.manifest import write_manifest
    from moodnet.data.validate import validate
    from moodnet.errors import DataError
    from moodnet.training.config import TrainConfig
    from moodnet.training.data import load_dataset

    report = validate(tracks, check_audio=False, check_lyrics=False)  # type: ignore[arg-type]
    assert not report.ok and message in report.format()
    manifest = write_manifest(tracks, tmp_path / "m.jsonl")  # type: ignore[arg-type]
    config = TrainConfig()
    config.data.manifest = manifest
    with pytest.raises(DataError, match="not trainable") as error:
        load_dataset(config, audio=False, lyrics=False, splits=("train",))
    assert message in str(error.value) and "m.jsonl" in str(error.value)


# --- interruptions: moodnet extract stops at once and leaves no process behind -------------


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.parametrize("how", ["SIGINT to the group (Ctrl-C)", "SIGTERM", "SIGKILL"])
def test_interrupted_extract_stops_promptly_without_orphans(tmp_path: Path, how: str) -> None:
    import signal
    import subprocess
    import sys
    import time

    from moodnet.data.manifest import write_manifest
    from test_extract import CONFIG as EXTRACT_CONFIG
    from test_extract import make_tracks, mtimes

    if not Path("/proc/self/task").exists():
        pytest.skip("needs /proc")
    tracks = make_tracks(tmp_path / "audio", 60)
    manifest = write_manifest(tracks, tmp_path / "manifest.jsonl")
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "moodnet", "extract", str(manifest), "--cache", str(cache),
               "--workers", "2", "--n-mels", "16", "--clip-seconds", "1", "--quiet"]
    # as a terminal's foreground job: a shell's background job (``cmd &``) inherits an
    # ignored SIGINT, and so would this test's child when pytest runs as one
    process = subprocess.Popen(command, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    from moodnet.data.cache import FeatureCache

    while (len(mtimes(FeatureCache(cache, EXTRACT_CONFIG))) < 2
           and time.monotonic() < deadline and process.poll() is None):
        time.sleep(0.02)
    workers = _descendants(process.pid)
    assert workers, "the pool had not started"
    if how.startswith("SIGINT"):
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
    start = time.monotonic()
    process.wait(timeout=20)
    stopped = time.monotonic() - start
    while any(_alive(p) for p in workers) and time.monotonic() - start < 10:
        time.sleep(0.05)
    left = sorted(p for p in workers if _alive(p))
    names = {p: Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ")[:150]
             for p in left}
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{how}: processes left behind: {names}"
    assert stopped < 10
    assert len(mtimes(FeatureCache(cache, EXTRACT_CONFIG))) < len(tracks)
