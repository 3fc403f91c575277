"""The beets plugin (``beetsplug.moodnet``) on a tiny generated library, with the real beets.

beets runs as ``python -m beets`` in a subprocess with its own config folder (``BEETSDIR``),
so its global configuration never leaks into the test process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from audio_files import write_formats

pytest.importorskip("beets", reason="beets is not installed (pip install 'moodnet[beets]')")

FORMAT = "$path|$mood|$valence|$arousal|$mood_quadrant|$moodnet_model"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A beets config folder whose library holds 4 generated files, imported as-is."""
    root = tmp_path_factory.mktemp("beets")
    write_formats(root / "music")
    (root / "config").mkdir()
    (root / "config" / "config.yaml").write_text(
        f"directory: {root / 'lib'}\n"
        f"library: {root / 'library.db'}\n"
        "plugins: [moodnet]\n"
        "import: {copy: no, move: no, write: no, autotag: no}\n"
        "moodnet: {device: cpu}\n",
        encoding="utf-8",
    )
    beet(root, "import", "-A", "-q", str(root / "music"))
    return root


def beet(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BEETSDIR": str(root / "config"), "HOME": str(root)}
    done = subprocess.run([sys.executable, "-m", "beets", *args], env=env, text=True,
                          capture_output=True, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"beet {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def listing(root: Path, *query: str) -> dict[str, list[str]]:
    lines = beet(root, "ls", "-f", FORMAT, *query).stdout.splitlines()
    return {line.split("|")[0]: line.split("|")[1:] for line in lines if line}


def test_beet_moodnet_stores_flexible_attributes(library: Path) -> None:
    from moodnet.core import QUADRANT_WORDS, quadrant_of

    assert len(listing(library)) == 4
    beet(library, "moodnet")
    items = listing(library)
    models = {fields[4] for fields in items.values()}
    assert len(models) == 1 and "(moodnet " in models.pop()
    for path, (mood, valence, arousal, quadrant, _) in items.items():
        # beets prints floats with 2 decimals: a value shown as 0.00 may lie on either side
        nearby = {quadrant_of(float(valence) + dv, float(arousal) + da)
                  for dv in (-0.005, 0.005) for da in (-0.005, 0.005)}
        assert quadrant in nearby, (path, valence, arousal, quadrant)
        assert mood == QUADRANT_WORDS[quadrant][0]
    for mood in {fields[0] for fields in items.values()}:
        found = listing(library, f"mood:{mood}")
        assert set(found) == {p for p, fields in items.items() if fields[0] == mood}
    assert set(listing(library, "valence:-1..1")) == set(items)  # float range queries
    assert set(listing(library, "valence:..0")) == {
        p for p, fields in items.items() if fields[1].startswith("-")
    }


def test_rerun_skips_and_write_tags_uses_moodnet_tagging(library: Path) -> None:
    from moodnet.tagging import open_audio, read_mood_tags

    beet(library, "moodnet")
    again = beet(library, "-v", "moodnet")
    assert "0 item(s) to predict, 4 already done" in again.stdout + again.stderr
    before = listing(library)
    beet(library, "moodnet", "--force", "--write-tags")
    for path, (mood, valence, _arousal, quadrant, model) in before.items():
        tags = read_mood_tags(open_audio(Path(path)))
        assert tags["MOOD"] == mood and tags["MOOD_QUADRANT"] == quadrant
        assert float(tags["VALENCE"]) == pytest.approx(float(valence), abs=0.051)  # ls: 1 decimal
        assert tags["MOODNET_MODEL"] == model
