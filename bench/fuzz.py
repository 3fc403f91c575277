"""A bounded fuzzing run (hypothesis) over what a user or a client can send.

Three targets through the shipped default model: (1) arbitrary bytes saved under an audio
name (half of them behind a valid WAV/MP3/FLAC/OGG header, so the decoders go past the magic
bytes) → ``Predictor.predict``; (2) arbitrary text as lyrics with a good clip; (3) arbitrary
text → ``Predictor.predict_lyrics``. Every call must either return a self-consistent
prediction (finite values in [-1, 1], quadrant = arg-max, used_lyrics as documented) or raise
a ``MoodnetError``; anything else is a finding. Bounded by ``--examples`` per target.

Usage::

    python -m bench.fuzz --examples 300 --out docs/results/fuzz.md
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.report import write_report
from moodnet.core import quadrant_of
from moodnet.errors import MoodnetError
from moodnet.predict import Prediction, Predictor

HEADERS = {".wav": b"RIFF\x24\x08\x00\x00WAVEfmt ", ".mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
           ".flac": b"fLaC\x00\x00\x00\x22", ".ogg": b"OggS\x00\x02"}


def check(result: Prediction) -> None:
    values = (result.valence, result.arousal)
    assert all(math.isfinite(v) and -1 <= v <= 1 for v in values), values
    assert result.quadrant == quadrant_of(*values)
    assert max(result.class_probs, key=result.class_probs.__getitem__) == result.quadrant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    predictor = Predictor.load()
    findings: list[str] = []
    counts = {"ok": 0, "refused": 0}
    tmp = Path(tempfile.mkdtemp(prefix="moodnet-fuzz-"))
    clip = tmp / "clip.wav"
    t = np.arange(5 * 16000) / 16000
    sf.write(clip, (0.1 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), 16000)

    def run(label: str, call) -> None:  # type: ignore[no-untyped-def]
        try:
            check(call())
            counts["ok"] += 1
        except MoodnetError:
            counts["refused"] += 1
        except Exception:  # a finding: anything but a clear moodnet error
            findings.append(f"{label}: {traceback.format_exc(limit=3)}")

    bounded = settings(max_examples=args.examples, deadline=None, derandomize=True,
                       suppress_health_check=list(HealthCheck), database=None)

    @bounded
    @given(st.sampled_from(sorted(HEADERS)), st.booleans(), st.binary(max_size=20_000))
    def audio_bytes(suffix: str, with_header: bool, data: bytes) -> None:
        path = tmp / f"upload{suffix}"
        path.write_bytes((HEADERS[suffix] if with_header else b"") + data)
        run(f"audio {suffix} header={with_header} {len(data)} bytes",
            lambda: predictor.predict(path, segments=3.0))

    @bounded
    @given(st.text(max_size=3_000))
    def lyrics_with_audio(text: str) -> None:
        run(f"lyrics with audio, {len(text)} chars", lambda: predictor.predict(clip, lyrics=text))

    @bounded
    @given(st.text(max_size=3_000))
    def lyrics_only(text: str) -> None:
        run(f"lyrics only, {len(text)} chars", lambda: predictor.predict_lyrics(text))

    started = time.perf_counter()
    for target in (audio_bytes, lyrics_with_audio, lyrics_only):
        target()
    minutes = (time.perf_counter() - started) / 60
    lines = [
        "# Fuzzing run\n",
        f"Command: `python -m bench.fuzz --examples {args.examples} --out {args.out}` "
        f"(hypothesis, derandomised; {minutes:.1f} min; model `{predictor.model_id}`).\n",
        f"- calls: {counts['ok'] + counts['refused'] + len(findings)}; valid predictions "
        f"{counts['ok']}; clear refusals (MoodnetError) {counts['refused']}; "
        f"**findings {len(findings)}**",
        *[f"- finding: `{f.splitlines()[0]}`" for f in findings[:10]],
    ]
    write_report(lines, args.out)
    for finding in findings[:3]:
        print(finding, file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
