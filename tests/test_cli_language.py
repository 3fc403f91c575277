"""The CLI speaks one language: plain help text, one metavar vocabulary, "did you mean",
and ``moodnet demo`` leaves no temporary folder behind."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodnet.cli import SUBCOMMANDS, build_parser, main
from predict_helpers import build_tiny_checkpoint


def subparsers(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[
        tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub
                yield from subparsers(sub, prefix=f"{prefix}{name} ")


ALL = list(subparsers(build_parser()))


def test_every_command_is_walked() -> None:
    names = {name for name, _ in ALL}
    assert set(SUBCOMMANDS) <= names and "data manifest" in names


@pytest.mark.parametrize(("name", "parser"), ALL, ids=[name for name, _ in ALL])
def test_help_has_no_rst(name: str, parser: argparse.ArgumentParser) -> None:
    text = parser.format_help()
    for rst in ("``", "::", ":func:", ":class:", ":data:"):
        assert rst not in text, f"moodnet {name} --help shows {rst!r}"


@pytest.mark.parametrize(("name", "parser"), ALL, ids=[name for name, _ in ALL])
def test_metavars_speak_one_vocabulary(name: str, parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if action.nargs == 0 or action.choices is not None or action.dest == "help":
            continue
        metavar = action.metavar or action.dest.upper()
        where = f"moodnet {name} {'/'.join(action.option_strings) or action.dest}"
        if action.type is int:
            assert metavar in ("N", "PORT"), f"{where}: {metavar} (counts are N)"
        if "seconds" in action.dest or action.dest in ("segments", "timeout"):
            assert metavar == "SECONDS", f"{where}: {metavar}"
        if action.type is Path:
            assert metavar in ("FILE", "DIR", "PATH", "FILE.png") or "FILE" in str(metavar), (
                f"{where}: {metavar} (paths are FILE, DIR or PATH)")


def test_a_mistyped_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["predcit", "song.mp3"])
    assert exit_info.value.code == 2
    assert "unknown command 'predcit'; did you mean predict?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["zzzz"])
    assert "the commands are data, labels" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0


def test_demo_removes_its_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir = build_tiny_checkpoint(tmp_path / "run")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert main(["demo", "--model", str(run_dir), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "moodnet demo --out DIR keeps them" in out
    assert not list(scratch.glob("moodnet-demo-*"))
    kept = tmp_path / "kept"
    assert main(["demo", "--model", str(run_dir), "--device", "cpu", "--out", str(kept)]) == 0
    assert f"valence/arousal plane: {kept}" in capsys.readouterr().out
    assert any(p.suffix == ".png" for p in kept.iterdir())
