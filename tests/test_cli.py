"""The command line as a user meets it: one entry point, every subcommand with its own help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from moodnet.cli import SUBCOMMANDS, main


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    listing = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in listing


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert f"moodnet {name}" in capsys.readouterr().out


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys; from moodnet.cli import build_parser; build_parser(); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_subcommand_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_a_moodnet_error_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "validate", "/nonexistent/manifest.jsonl"]) == 1
    err = capsys.readouterr().err
    assert "/nonexistent/manifest.jsonl" in err
    assert "Traceback" not in err
