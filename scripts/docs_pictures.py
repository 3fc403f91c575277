"""Make the pictures committed under docs/ from generated clips (nothing read from a dataset).

``docs/plot-over-time.png``: ``moodnet predict CLIP --plot`` on a 30 s clip of soft chords
then loud distorted bursts (:func:`moodnet.predict.demo.synthesise_mood_change`), with the
shipped default model. ``docs/screenshot-web.png`` (``--screenshot``): the web page after a
multi-file upload, in Debian chromium (Playwright), one row selected::

    python scripts/docs_pictures.py [--screenshot]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def plot_over_time(*, folder: Path) -> Path:
    """``moodnet predict`` with ``--plot`` on the calm-then-loud clip; returns the PNG."""
    from moodnet.cli import main
    from moodnet.predict.demo import synthesise_mood_change

    song = synthesise_mood_change(folder / "calm_then_loud.wav")
    out = DOCS / "plot-over-time.png"
    if main(["predict", str(song), "--plot", str(out), "--workers", "1"]) != 0:
        raise SystemExit("moodnet predict failed")
    return out


def screenshot(*, folder: Path) -> Path:
    """The page after uploading three generated clips, the calm-then-loud one selected."""
    sys.path.insert(0, str(DOCS.parent / "tests"))
    from playwright.sync_api import sync_playwright

    from moodnet.predict.demo import synthesise_demo_clips, synthesise_mood_change
    from moodnet.serve.app import create_app
    from predict_helpers import LiveServer, open_page

    songs = [synthesise_mood_change(folder / "calm_then_loud.wav")]
    songs += [clip.audio_path for clip in synthesise_demo_clips(folder / "demo", duration=12.0)]
    out = DOCS / "screenshot-web.png"
    with LiveServer(create_app(device="cpu")) as live, sync_playwright() as playwright:
        page: object = open_page(playwright, live.url + "/", folder / "profile")
        page.set_input_files("#audio", [str(s) for s in songs])  # type: ignore[attr-defined]
        page.click("#submit")  # type: ignore[attr-defined]
        page.wait_for_selector(  # type: ignore[attr-defined]
            f"#results tbody tr:nth-child({len(songs)}).done", timeout=120_000)
        page.click("#results tbody tr:nth-child(1)")  # type: ignore[attr-defined]
        page.evaluate("document.getElementById('player').currentTime = 20")  # type: ignore[attr-defined]
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
        page.screenshot(path=str(out), full_page=True)  # type: ignore[attr-defined]
        page.context.close()  # type: ignore[attr-defined]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", action="store_true", help="also the web page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="moodnet-docs-") as folder:
        print(plot_over_time(folder=Path(folder)))
        if args.screenshot:
            print(screenshot(folder=Path(folder)))


if __name__ == "__main__":
    main()
