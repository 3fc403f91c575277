"""The page in a real headless Debian chromium (Playwright): upload a song, see it drawn."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture()
def page(server: str, tmp_path: Path) -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        page = open_page(playwright, server + "/", tmp_path / "profile")
        yield page
        page.context.close()  # type: ignore[attr-defined]


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
