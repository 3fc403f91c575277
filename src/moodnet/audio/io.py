"""Decode audio files into float32 arrays: soundfile (libsndfile) or PyAV (FFmpeg), then soxr.

The decoder is chosen per file extension, fastest first as measured by
``bench/bench_features.py`` with libsndfile 1.2 and PyAV 18: libsndfile for WAV/FLAC/AIFF/MP3/
Ogg Vorbis (MP3 1.1-2x faster than PyAV), PyAV for Opus (2x faster) and everything libsndfile
does not read (M4A/AAC, WMA, ...); when the first choice fails the other one is tried.
Windows of MP3s (``offset``) are read with PyAV, whose seeking is sample-exact here.
Channels are averaged by this module (never FFmpeg's ``mono`` layout, which is +3 dB
louder) and resampling uses soxr ``HQ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from moodnet.errors import AudioError, ParameterError

MIN_SAMPLE_RATE = 4_000
MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 8
SILENCE_DBFS = -90.0

# decoders such as MP3 (bit reservoir, MDCT overlap) need a few frames before the first
# sample that is exact: seek this much earlier and drop what precedes ``offset``.
_SEEK_PREROLL = 0.5

_SOUNDFILE_FIRST = frozenset(
    {".wav", ".wave", ".flac", ".aif", ".aiff", ".aifc", ".w64", ".rf64", ".mp3", ".ogg", ".oga"}
)
_SOUNDFILE_ALSO = frozenset({".opus"})


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, without decoding it.

    Attributes
    ----------
    path : the file
    duration : seconds (may be an estimate for some MP3s)
    sample_rate : Hz, native
    channels : number of channels
    """

    path: Path
    duration: float
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class _Decoded:
    samples: np.ndarray  # (channels, n) float32
    sample_rate: int


def load_audio(
    path: str | Path,
    *,
    sr: int | None = 22050,
    mono: bool = True,
    offset: float | None = None,
    duration: float | None = None,
    min_duration: float = 0.5,
) -> np.ndarray:
    """Decode an audio file to float32 samples in [-1, 1].

    Parameters
    ----------
    path : audio file (WAV, FLAC, OGG, Opus, MP3, M4A/AAC, WMA, ... anything FFmpeg reads)
    sr : target sample rate in Hz (soxr HQ resampling), or None to keep the native rate
    mono : average the channels into one
    offset : start reading this many seconds into the file (seeks, does not decode the skip)
    duration : read at most this many seconds
    min_duration : seconds; shorter results raise :class:`~moodnet.errors.AudioError`

    Returns
    -------
    y : np.ndarray [shape=(n,) if mono else (channels, n)], float32

    Raises
    ------
    AudioError
        The file is missing, does not decode, is empty, silent (peak below -90 dBFS),
        contains non-finite samples, is shorter than ``min_duration``, has a sample rate
        outside 4-384 kHz or more than 8 channels. The message names the file.
    ParameterError
        ``sr``, ``offset``, ``duration`` or ``min_duration`` is out of range.
    """
    path = Path(path)
    _check_arguments(sr=sr, offset=offset, duration=duration, min_duration=min_duration)
    decoded = _decode(path, offset=offset or 0.0, duration=duration)
    samples = decoded.samples
    _check_decoded(path, decoded)
    if mono and samples.shape[0] > 1:
        samples = samples.mean(axis=0, dtype=np.float32)[np.newaxis]
    rate = decoded.sample_rate
    if sr is not None and sr != rate:
        samples = _resample(samples, rate, sr)
        rate = sr
    length = samples.shape[1] / rate
    if length < min_duration:
        raise AudioError(path, f"is {length:.2f} s long, shorter than the minimum {min_duration} s")
    _check_not_silent(path, samples)
    return samples[0] if mono else samples


def audio_info(path: str | Path) -> AudioInfo:
    """Duration, sample rate and channel count from the file header (no full decode).

    Raises
    ------
    AudioError
        The file is missing or neither decoder can read its header.
    """
    path = Path(path)
    _check_exists(path)
    errors = []
    readers = {"soundfile": _soundfile_info, "pyav": _pyav_info}
    for name in _backends_for(path):
        try:
            return readers[name](path)
        except Exception as exc:
            errors.append(_describe(exc))
    raise AudioError(path, f"cannot read audio header ({'; '.join(errors)})")


def _check_arguments(
    *, sr: int | None, offset: float | None, duration: float | None, min_duration: float
) -> None:
    if sr is not None and not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise ParameterError(f"sr={sr} is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz")
    if offset is not None and not (math.isfinite(offset) and offset >= 0):
        raise ParameterError(f"offset={offset} must be a finite number of seconds >= 0")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise ParameterError(f"duration={duration} must be a finite number of seconds > 0")
    if not (math.isfinite(min_duration) and min_duration >= 0):
        raise ParameterError(f"min_duration={min_duration} must be >= 0 seconds")


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise AudioError(path, "file not found")
    if not path.is_file():
        raise AudioError(path, "is not a file")
    if path.stat().st_size == 0:
        raise AudioError(path, "is empty (0 bytes)")


def _decode(path: Path, *, offset: float, duration: float | None) -> _Decoded:
    _check_exists(path)
    errors = []
    decoders = {"soundfile": _decode_soundfile, "pyav": _decode_pyav}
    for name in _backends_for(path, seeking=offset > 0):
        try:
            return decoders[name](path, offset, duration)
        except AudioError:
            raise
        except Exception as exc:
            errors.append(_describe(exc))
    raise AudioError(path, f"does not decode as audio ({'; '.join(errors)})")


def _backends_for(path: Path, *, seeking: bool = False) -> tuple[str, ...]:
    """Decoders to try, fastest first for the file's extension.

    MP3 windows go through PyAV: libmpg123 prints bit-reservoir errors to stderr after a seek.
    """
    suffix = path.suffix.lower()
    if seeking and suffix == ".mp3":
        return ("pyav", "soundfile")
    if suffix in _SOUNDFILE_FIRST:
        return ("soundfile", "pyav")
    if suffix in _SOUNDFILE_ALSO:
        return ("pyav", "soundfile")
    return ("pyav",)


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _check_decoded(path: Path, decoded: _Decoded) -> None:
    channels, n = decoded.samples.shape
    if not MIN_SAMPLE_RATE <= decoded.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            path,
            f"sample rate {decoded.sample_rate} Hz is outside "
            f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz",
        )
    if channels > MAX_CHANNELS:
        raise AudioError(path, f"has {channels} channels, more than {MAX_CHANNELS}")
    if n == 0:
        raise AudioError(path, "contains no audio samples (in the requested window)")
    if not math.isfinite(max(float(decoded.samples.max()), -float(decoded.samples.min()))):
        raise AudioError(path, "contains non-finite samples (NaN or infinity)")


def _check_not_silent(path: Path, samples: np.ndarray) -> None:
    peak = max(float(samples.max()), -float(samples.min()))
    if peak < 10.0 ** (SILENCE_DBFS / 20.0):
        level = 20.0 * math.log10(peak) if peak > 0 else -math.inf
        raise AudioError(path, f"is silent (peak {level:.1f} dBFS, below {SILENCE_DBFS} dBFS)")


def _resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    resampled = soxr.resample(samples.T, rate_in, rate_out, quality="HQ")
    return np.ascontiguousarray(resampled.T, dtype=np.float32)


# --- libsndfile --------------------------------------------------------------------------------


def _soundfile_info(path: Path) -> AudioInfo:
    import soundfile

    info = soundfile.info(str(path))
    return AudioInfo(path, float(info.duration), int(info.samplerate), int(info.channels))


def _decode_soundfile(path: Path, offset: float, duration: float | None) -> _Decoded:
    import soundfile

    with soundfile.SoundFile(str(path)) as handle:
        rate = int(handle.samplerate)
        _check_header(path, rate, handle.channels)
        start = round(offset * rate)
        if start >= handle.frames > 0:
            return _Decoded(np.zeros((handle.channels, 0), np.float32), rate)
        skip = min(start, round(_SEEK_PREROLL * rate))
        if start:
            handle.seek(start - skip)
        frames = -1 if duration is None else skip + round(duration * rate)
        data = handle.read(frames, dtype="float32", always_2d=True)[skip:]
    return _Decoded(np.ascontiguousarray(data.T), rate)


def _check_header(path: Path, rate: int, channels: int) -> None:
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            path, f"sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )
    if channels > MAX_CHANNELS:
        raise AudioError(path, f"has {channels} channels, more than {MAX_CHANNELS}")


# --- PyAV (FFmpeg) -----------------------------------------------------------------------------


def _pyav_info(path: Path) -> AudioInfo:
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / 1_000_000
        else:
            seconds = math.nan
        rate = int(stream.codec_context.sample_rate)
        return AudioInfo(path, seconds, rate, len(stream.layout.channels))


_INTEGER_SCALE = {"s16": 2.0**15, "s32": 2.0**31, "s64": 2.0**63}


def _frame_samples(frame: object) -> np.ndarray:
    """One decoded frame as (channels, n) float32."""
    array = frame.to_ndarray()  # type: ignore[attr-defined]
    fmt = frame.format  # type: ignore[attr-defined]
    channels = len(frame.layout.channels)  # type: ignore[attr-defined]
    if not fmt.is_planar:
        array = array.reshape(-1, channels).T
    name = fmt.name.rstrip("p")
    if name in _INTEGER_SCALE:
        return (array / _INTEGER_SCALE[name]).astype(np.float32)
    if name == "u8":
        return ((array.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    return array.astype(np.float32, copy=False)


def _decode_pyav(path: Path, offset: float, duration: float | None) -> _Decoded:
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise AudioError(path, "contains no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate)
        _check_header(path, rate, len(stream.layout.channels))
        base = stream.time_base
        origin = stream.start_time if stream.start_time is not None else 0
        if offset > 0 and base is not None:
            target = max(offset - _SEEK_PREROLL, 0.0)
            container.seek(origin + int(target / base), stream=stream, backward=True)
        chunks = _collect_frames(
            container.decode(stream),
            rate=rate,
            offset=offset,
            duration=duration,
            origin=origin,
            base=base,
        )
    if not chunks:
        return _Decoded(np.zeros((len(stream.layout.channels), 0), np.float32), rate)
    return _Decoded(np.concatenate(chunks, axis=1), rate)


def _collect_frames(
    frames: object,
    *,
    rate: int,
    offset: float,
    duration: float | None,
    origin: int,
    base: object,
) -> list[np.ndarray]:
    start = round(offset * rate)
    stop = None if duration is None else start + round(duration * rate)
    position: int | None = 0 if offset == 0 else None
    chunks: list[np.ndarray] = []
    for frame in frames:  # type: ignore[attr-defined]
        if position is None:
            if frame.pts is None or base is None:
                raise ValueError("cannot seek: frames carry no timestamps")
            position = round(float((frame.pts - origin) * base) * rate)
        samples = _frame_samples(frame)
        if frame.sample_rate != rate:
            raise ValueError("sample rate changes inside the stream")
        begin, end = position, position + samples.shape[1]
        position = end
        if end <= start:
            continue
        lo = max(start - begin, 0)
        hi = samples.shape[1] if stop is None else min(samples.shape[1], stop - begin)
        if hi > lo:
            chunks.append(samples[:, lo:hi])
        if stop is not None and end >= stop:
            break
    return chunks
