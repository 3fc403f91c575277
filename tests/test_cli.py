"""The command line as a user meets it: one entry point, every subcommand with its own help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moodnet.cli import SUBCOMMANDS, main
from moodnet.config import find_config, packaged_configs
from moodnet.errors import ConfigError
from moodnet.training.config import load_train_config


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


def test_configs_ship_inside_the_package_and_are_found_by_name(tmp_path: Path) -> None:
    names = packaged_configs()
    assert {"paper_audio", "debug", "table", "features_musicnn"} <= set(names)
    assert all(path.parent.name == "configs" and path.is_file() for path in names.values())
    assert not (Path(__file__).resolve().parents[1] / "configs").exists()  # no second copy
    assert find_config("paper_audio") == names["paper_audio"] == find_config("paper_audio.yaml")
    own = tmp_path / "paper_audio.yaml"  # a file given by path wins over the shipped name
    own.write_text("max_epochs: 2\n", encoding="utf-8")
    assert find_config(own) == own
    assert load_train_config("paper_audio").model.name == "paper_audio"
    with pytest.raises(ConfigError, match=r"nope: no such config file.*paper_audio"):
        find_config("nope")


def test_train_without_a_manifest_names_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "paper_audio", "--out", "unused"]) == 1
    assert "data.manifest" in capsys.readouterr().err
