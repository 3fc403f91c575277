"""The default model's lyrics path per song, as a user meets it: first sight of a text, and again.

One process loads the default model, then calls
``Predictor.predict_lyrics(text)`` once per song of a lyrics folder: the first call also loads
the sentence encoder (timed apart, it is a one-off per process); every later call on a new
text is a "first run" (tokenise, MiniLM chunks, VADER statistics, heads). Then every text is
asked for again: the "cached" figure (the encoder's output is kept by text in the
``Predictor``). Reported: median and 90th percentile milliseconds per song, on the machine's
cores as torch uses them by default. Issue budget: at most 50 ms first run, 2 ms cached.

Usage::

    python -m bench.lyrics_speed --lyrics $MOODNET_DATA/mirex_multimodal/lyrics --songs 200 \\
        --out docs/results/lyrics_speed.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.report import cpu_description, git_commit, openblas_kernel, write_report

if TYPE_CHECKING:
    from moodnet.predict import Predictor


def _timed_calls(predictor: Predictor, texts: list[str]) -> np.ndarray:
    seconds = []
    for text in texts:
        started = time.perf_counter()
        predictor.predict_lyrics(text)
        seconds.append(time.perf_counter() - started)
    return np.array(seconds) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lyrics", type=Path, required=True, help="folder of *.txt lyrics")
    parser.add_argument("--songs", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    from moodnet.errors import LyricsError
    from moodnet.lyrics import read_lyrics
    from moodnet.predict import Predictor

    started = time.perf_counter()
    predictor = Predictor.load()
    load_s = time.perf_counter() - started
    texts = (read_lyrics(p) for p in sorted(args.lyrics.glob("*.txt")))  # read as needed
    encoder_s: float | None = None
    songs: list[tuple[str, float]] = []
    for text in texts:
        if len(songs) == args.songs:
            break
        try:
            ms = _timed_calls(predictor, [text])[0]
        except LyricsError:  # unusable lyrics (too short, not English): not a timing
            continue
        if encoder_s is None:
            encoder_s = ms / 1000
        else:
            songs.append((text, ms))
    if encoder_s is None or not songs:
        raise SystemExit(f"{args.lyrics}: fewer than two usable lyrics files to time")
    new_ms = np.array([ms for _, ms in songs])
    cached_ms = _timed_calls(predictor, [text for text, _ in songs])
    torch_used = "torch" in sys.modules
    from threadpoolctl import threadpool_info

    blas_threads = max((i["num_threads"] for i in threadpool_info()), default=1)

    words = np.array([len(text.split()) for text, _ in songs])
    lines = [
        "# The default model's lyrics path per song\n",
        f"`python -m bench.lyrics_speed --lyrics LYRICS --songs {args.songs} --out {args.out}` "
        f"(commit {git_commit()}; {cpu_description()}, {os.cpu_count()} cores, OpenBLAS kernel "
        f"{openblas_kernel()} with {blas_threads} threads; {len(songs)} MIREX-like lyrics, "
        f"median {np.median(words):.0f} words).\n",
        "| step | median ms | 90th percentile ms | budget |", "|---|---|---|---|",
        f"| a new song's lyrics (tokens, MiniLM, VADER, heads) | {np.median(new_ms):.1f} | "
        f"{np.percentile(new_ms, 90):.1f} | 50 |",
        f"| the same lyrics again (cached by text) | {np.median(cached_ms):.2f} | "
        f"{np.percentile(cached_ms, 90):.2f} | 2 |",
        "",
        f"One-offs per process: the default model loads in {load_s:.2f} s (numpy only); the "
        f"first lyrics load the sentence encoder and took {encoder_s:.2f} s with that song; "
        f"torch {'was' if torch_used else 'was not'} imported.",
    ]
    write_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
