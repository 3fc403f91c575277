"""The page in a real headless Debian chromium (Playwright): upload songs, see them drawn.

The multi-file tests use the shipped default model (fast, numpy only) on generated clips.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moodnet.predict.demo import synthesise_mood_change
from moodnet.serve.app import create_app
from predict_helpers import (
    CHROMIUM,
    MADE_UP_LYRICS,
    LiveServer,
    build_tiny_checkpoint,
    open_page,
    submit_song,
    write_corrupt,
    write_tone,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]

SIGNED = re.compile(r"^[+-]?\d\.\d\d$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    run_dir = build_tiny_checkpoint(tmp_path_factory.mktemp("model") / "run")
    with LiveServer(create_app(model=run_dir, device="cpu")) as live:
        yield live.url


@pytest.fixture(scope="module")
def shipped_server() -> Iterator[str]:
    with LiveServer(create_app(device="cpu")) as live:
        yield live.url


def _browse(url: str, profile: Path) -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        page = open_page(playwright, url + "/", profile)
        yield page
        page.context.close()  # type: ignore[attr-defined]


@pytest.fixture()
def page(server: str, tmp_path: Path) -> Iterator[object]:
    yield from _browse(server, tmp_path / "profile")


@pytest.fixture()
def shipped_page(shipped_server: str, tmp_path: Path) -> Iterator[Any]:
    yield from _browse(shipped_server, tmp_path / "profile")


@pytest.fixture()
def uploaded(shipped_page: Any, tmp_path: Path) -> Any:
    """Three files sent at once (a calm-then-loud clip, a tone, a broken file), all done."""
    songs = [synthesise_mood_change(tmp_path / "calm then loud.wav", calm_s=6.0, loud_s=6.0),
             write_tone(tmp_path / "tone.wav", seconds=7.0), write_corrupt(tmp_path / "bad.mp3")]
    shipped_page.set_input_files("#audio", [str(song) for song in songs])
    shipped_page.click("#submit")  # the segments field says 3 s unless changed
    shipped_page.wait_for_function(
        "document.getElementById('progress-text').textContent.startsWith('3 of 3 done')",
        timeout=60_000)
    return shipped_page


def test_upload_draws_the_prediction(page: object, tmp_path: Path) -> None:
    song = write_tone(tmp_path / "browser song.wav", seconds=6.0)
    submit_song(page, song, lyrics=MADE_UP_LYRICS[0], segments="2")
    page.wait_for_selector("#va-point", timeout=30_000)  # type: ignore[attr-defined]
    valence = page.text_content("#valence")  # type: ignore[attr-defined]
    arousal = page.text_content("#arousal")  # type: ignore[attr-defined]
    assert SIGNED.match(valence) and SIGNED.match(arousal)
    assert page.text_content("#quadrant") in {"Q1", "Q2", "Q3", "Q4"}  # type: ignore[attr-defined]
    assert page.locator(".segment-point").count() == 3  # type: ignore[attr-defined]
    cx = float(page.get_attribute("#va-point", "cx"))  # type: ignore[attr-defined]
    assert f"{cx:+.2f}".replace("+", "") == valence.replace("+", "")
    assert "lyrics were used" in page.text_content("#lyrics-used")  # type: ignore[attr-defined]
    assert "browser song.wav" in page.text_content("#status")  # type: ignore[attr-defined]


def test_corrupt_upload_shows_the_error(page: object, tmp_path: Path) -> None:
    submit_song(page, write_corrupt(tmp_path / "broken.mp3"))
    page.wait_for_selector("#status.error", timeout=30_000)  # type: ignore[attr-defined]
    assert "could not be decoded" in page.text_content("#status")  # type: ignore[attr-defined]
    assert page.locator("#va-point").count() == 0  # type: ignore[attr-defined]


def _table(page: Any) -> list[list[str]]:
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        "#results tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")


def test_several_files_queue_and_grow_the_table(uploaded: Any) -> None:
    assert uploaded.text_content("#progress-text") == "3 of 3 done (1 failed)"
    assert uploaded.locator("#queue li.done").count() == 2
    assert "could not be decoded" in uploaded.text_content("#queue li.error")
    rows = _table(uploaded)
    assert [row[1] for row in rows] == ["calm then loud.wav", "tone.wav"]
    assert [row[7] for row in rows] == ["4", "3"]  # 3 s segments by default: 12 s and 7 s
    model_id = uploaded.text_content("#footer").split("model ")[1].split(" ·")[0]
    assert model_id and all(row[8] == model_id for row in rows)
    assert uploaded.locator(".result-point").count() == 2


def test_a_row_shows_its_point_its_time_picture_and_its_segments(uploaded: Any) -> None:
    uploaded.click("#results tbody tr:nth-child(2)")
    assert uploaded.text_content("#selected-name") == "2. tone.wav"
    row = _table(uploaded)[1]
    cx = float(uploaded.get_attribute("#va-point", "cx"))
    assert f"{cx:+.2f}" == row[2] == uploaded.text_content("#valence")
    assert uploaded.locator("#timeline .segment-band").count() == 3
    assert len(uploaded.get_attribute("#arousal-line", "points").split()) == 3
    segments = uploaded.eval_on_selector_all(
        "#segments-table tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert [s[:2] for s in segments] == [["0.0", "3.0"], ["3.0", "6.0"], ["6.0", "7.0"]]
    uploaded.click("#results tbody tr:nth-child(1)")
    assert uploaded.locator("#timeline .segment-band").count() == 4


def _cursor_seconds(page: Any) -> float:
    return float(page.get_attribute("#time-cursor", "data-seconds") or "nan")


def test_the_player_position_is_marked_on_both_pictures(uploaded: Any) -> None:
    uploaded.click("#results tbody tr:nth-child(1)")  # calm then loud, 12 s, 4 segments
    assert uploaded.get_attribute("#player", "src").startswith("blob:")
    uploaded.evaluate("document.getElementById('player').currentTime = 7.5")
    uploaded.wait_for_function("document.getElementById('time-cursor').dataset.seconds === '7.50'")
    x = float(uploaded.get_attribute("#time-cursor", "x1"))
    assert x == pytest.approx(40 + (462 - 40) * 7.5 / 12, abs=0.01)
    assert uploaded.get_attribute("#play-point", "visibility") == "visible"
    playing = uploaded.eval_on_selector_all(
        "#segments-table tbody tr", "rows => rows.map(r => r.classList.contains('playing'))")
    assert playing == [False, False, True, False]  # 6-9 s
    at_7_5 = float(uploaded.get_attribute("#play-point", "cy"))
    started = uploaded.evaluate(
        "(() => { const p = document.getElementById('player'); p.muted = true;"
        " p.currentTime = 0; return p.play().then(() => 'playing', e => String(e)); })()")
    assert started == "playing"
    uploaded.wait_for_function(
        "parseFloat(document.getElementById('time-cursor').dataset.seconds) > 0.5",
        timeout=15_000)  # the cursor follows the playing song
    assert float(uploaded.get_attribute("#play-point", "cy")) != at_7_5


def test_downloads_have_the_cli_columns_and_the_shown_numbers(uploaded: Any) -> None:
    from moodnet.cli.predict_cmd import _columns

    with uploaded.expect_download() as csv_download:
        uploaded.click("#download-csv")
    assert csv_download.value.suggested_filename == "moodnet-results.csv"
    text = Path(csv_download.value.path()).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == _columns(("Q1", "Q2", "Q3", "Q4"), segments=True)
    rows = list(reader)
    with uploaded.expect_download() as json_download:
        uploaded.click("#download-json")
    records = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    shown = _table(uploaded)
    assert [r["path"] for r in rows] == [r["path"] for r in records] == [s[1] for s in shown]
    for row, record, cells in zip(rows, records, shown, strict=True):
        assert float(row["valence"]) == pytest.approx(record["valence"], abs=5e-5)
        assert f"{record['arousal']:+.2f}" == cells[3]
        assert len(json.loads(row["segments"])) == len(record["segments"]) == int(cells[7])
        assert row["model_id"] == record["model_id"] == cells[8]


def test_results_are_kept_for_the_session(uploaded: Any) -> None:
    before = _table(uploaded)
    uploaded.reload()
    uploaded.wait_for_function("document.querySelectorAll('.mood-word').length === 28")
    assert _table(uploaded) == before
    assert "not kept after a reload" in uploaded.text_content("#player-note")
    uploaded.click("#clear")
    uploaded.reload()
    uploaded.wait_for_function("document.querySelectorAll('.mood-word').length === 28")
    assert _table(uploaded) == []
