"""Generated audio files in the formats people keep music in (MP3, FLAC, Ogg, M4A).

MP3, FLAC and Ogg Vorbis are written by libsndfile (soundfile), M4A (AAC) by FFmpeg's encoder
through PyAV, all from numpy signals: nothing is copied from real data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SR = 22050


def signal(kind: str, *, seconds: float, sr: int = SR, seed: int = 0) -> np.ndarray:
    """(n,) float32: ``tone`` (soft 220 Hz), ``chords`` (three soft sines), ``noise`` (loud
    bursts of white noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    if kind == "tone":
        y = 0.2 * np.sin(2 * np.pi * 220 * t)
    elif kind == "chords":
        y = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    else:
        y = np.clip(0.2 * rng.standard_normal(t.size), -0.5, 0.5) * (np.sin(2 * np.pi * 4 * t) > 0)
    return (y + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def write_m4a(path: Path, y: np.ndarray, *, sr: int = SR) -> Path:
    """AAC in an MP4 container (``.m4a``), mono."""
    import av

    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=sr, layout="mono")
        frame = av.AudioFrame.from_ndarray(y[np.newaxis, :], format="flt", layout="mono")
        frame.sample_rate = sr
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return path


def write_audio(path: Path, y: np.ndarray, *, sr: int = SR) -> Path:
    """``y`` written in the format of ``path``'s suffix (.mp3, .flac, .ogg, .wav, .m4a)."""
    import soundfile as sf

    suffix = path.suffix.lower()
    if suffix == ".m4a":
        return write_m4a(path, y, sr=sr)
    if suffix == ".mp3":
        sf.write(path, y, sr, format="MP3", subtype="MPEG_LAYER_III")
    elif suffix == ".ogg":
        sf.write(path, y, sr, format="OGG", subtype="VORBIS")
    else:
        sf.write(path, y, sr)
    return path


FORMATS = {"tone.mp3": "tone", "chords.flac": "chords", "noise.ogg": "noise",
           "bursts.m4a": "noise"}
"""One file per format, with different sounds (so that the predictions differ)."""


def write_formats(folder: Path, *, seconds: float = 4.0, prefix: str = "") -> list[Path]:
    """:data:`FORMATS` written into ``folder`` (file names prefixed by ``prefix``)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_audio(folder / f"{prefix}{name}", signal(kind, seconds=seconds, seed=i))
        for i, (name, kind) in enumerate(FORMATS.items())
    ]


def decoded(path: Path) -> np.ndarray:
    """Every decoded sample of the first audio stream (FFmpeg through PyAV), concatenated."""
    import av

    with av.open(str(path)) as container:
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
    return np.concatenate(frames)
