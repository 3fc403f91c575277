"""Decode audio files into float32 arrays: soundfile (libsndfile) or PyAV (FFmpeg), then soxr.

The decoder is chosen per file extension, fastest first as measured by
``bench/bench_features.py`` with libsndfile 1.2 and PyAV 18: libsndfile for WAV/FLAC/AIFF/MP3/
Ogg Vorbis (MP3 1.1-2x faster than PyAV), PyAV for Opus (2x faster) and everything libsndfile
does not read (M4A/AAC, WMA, ...); when the first choice fails the other one is tried.
Windows of MP3s (``offset``) are read with PyAV, whose seeking is sample-exact here.
Channels are averaged by this module (never FFmpeg's ``mono`` layout, which is +3 dB
louder) and resampling uses soxr ``HQ``, both block by block while decoding: memory holds the
output at the target rate, not the file at its native rate (an 8-channel 384 kHz "bomb" that
compresses to a few kB costs what its mono 22 kHz result costs).
"""

from __future__ import annotations

import logging
import math
import os
import stat
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from moodnet.errors import AudioError, AudioWarning, ParameterError

_LOG = logging.getLogger(__name__)

MIN_SAMPLE_RATE = 4_000
MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 8
SILENCE_DBFS = -90.0
MAX_DECODE_SAMPLES = 500_000_000
"""Most native samples (channels x native rate x seconds) one :func:`load_audio` call decodes:
10 minutes of 8 channels at 96 kHz, 94 minutes of stereo at 44.1 kHz. Files whose header
promises more are refused before decoding; decoding stops there when a header lies."""
_BLOCK_FRAMES = 1 << 16  # frames gathered before a downmix + resampling step

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
    samples: np.ndarray  # (channels, n) float32 at ``sample_rate``: downmixed, resampled
    sample_rate: int
    peak: float  # largest |sample| before resampling
    swing: float  # largest half peak-to-peak range of a channel before resampling: DC-free


@dataclass(frozen=True)
class _Request:
    path: Path
    offset: float
    duration: float | None
    sr: int | None
    mono: bool


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

    The file is decoded in blocks of 65,536 frames that are downmixed and resampled as they
    arrive, so memory holds the result (channels x ``sr`` x seconds) and one block, never the
    whole file at its native rate; at most :data:`MAX_DECODE_SAMPLES` native samples
    (channels x native rate x seconds read) are decoded per call.

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
        The file is missing, not a regular file (a FIFO, a device), does not decode, is
        empty, silent (its level without DC below -90 dBFS: a constant signal is silence),
        contains non-finite samples, is shorter than ``min_duration``, has a sample rate
        outside 4-384 kHz or more than 8 channels, or would decode more than
        :data:`MAX_DECODE_SAMPLES` samples (pass a shorter ``duration``). The message names
        the file.
    ParameterError
        ``sr``, ``offset``, ``duration`` or ``min_duration`` is out of range.

    Warns
    -----
    AudioWarning
        A float file whose samples go beyond +-:data:`BROKEN_SCALE_PEAK` (a broken scale, e.g.
        +-30) is scaled down to peak 1.0, with a warning naming the file and the factor. Lossy
        codecs overshoot full scale a little (MP3 inter-sample peaks reach +-1.1 and more):
        those samples are kept as decoded.
    """
    path = Path(path)
    _check_arguments(sr=sr, offset=offset, duration=duration, min_duration=min_duration)
    request = _Request(path, offset or 0.0, duration, sr, mono)
    decoded = _decode(request)
    samples = decoded.samples
    if samples.shape[1] == 0:
        raise AudioError(path, "contains no audio samples (in the requested window)")
    length = samples.shape[1] / decoded.sample_rate
    if length < min_duration:
        raise AudioError(path, f"is {length:.2f} s long, shorter than the minimum {min_duration} s")
    _check_not_silent(path, decoded.swing)
    if decoded.peak > BROKEN_SCALE_PEAK:
        samples = _scaled_down(path, samples, decoded.peak)
    return samples[0] if mono else samples


def check_regular_file(path: str | Path) -> Path:
    """Refuse anything but a non-empty regular file before it is opened.

    A FIFO or a link to ``/dev/zero`` would block or never end when read: every reader of
    audio files (decoding, content hashing) checks with this first.

    Returns
    -------
    path : Path

    Raises
    ------
    AudioError
        The file is missing, not a regular file (the message says what it is) or empty.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise AudioError(path, "file not found") from None
    except OSError as exc:
        raise AudioError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        raise AudioError(path, f"is not a file ({_file_kind(mode)}); only regular files are read")
    if os.stat(path).st_size == 0:
        raise AudioError(path, "is empty (0 bytes)")
    return path


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a device",
             stat.S_ISBLK: "a device", stat.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "not a regular file")


def audio_info(path: str | Path) -> AudioInfo:
    """Duration, sample rate and channel count from the file header (no full decode).

    Raises
    ------
    AudioError
        The file is missing, not a regular file, or neither decoder can read its header.
    """
    path = check_regular_file(path)
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


def _decode(request: _Request) -> _Decoded:
    path = check_regular_file(request.path)
    errors = []
    decoders = {"soundfile": _decode_soundfile, "pyav": _decode_pyav}
    for name in _backends_for(path, seeking=request.offset > 0):
        try:
            decoded = decoders[name](request)
        except AudioError:
            raise
        except Exception as exc:
            errors.append(f"{name}: {_describe(exc)}")
            continue
        if errors:
            _LOG.info("%s: decoded with %s after %s", path, name, "; ".join(errors))
        return decoded
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
    # libsndfile says this of any file it cannot open, also of regular files it cannot read
    text = text.replace("File does not exist or is not a regular file (possibly a pipe?).",
                        "not a format it reads")
    return text.splitlines()[0][:200]


def _check_header(path: Path, rate: int, channels: int, seconds: float | None = None) -> None:
    """Refuse a rate, a channel count or a decoding size out of range before decoding."""
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            path, f"sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )
    if channels > MAX_CHANNELS:
        raise AudioError(path, f"has {channels} channels, more than {MAX_CHANNELS}")
    if seconds is not None and math.isfinite(seconds):
        _check_budget(path, channels * rate * seconds, rate=rate, channels=channels)


def _check_budget(path: Path, n_samples: float, *, rate: int, channels: int) -> None:
    if n_samples > MAX_DECODE_SAMPLES:
        seconds = n_samples / (rate * channels)
        raise AudioError(
            path,
            f"would decode {channels} channels x {rate} Hz x {seconds:.0f} s = "
            f"{n_samples / 1e6:.0f} M samples, more than the limit of "
            f"{MAX_DECODE_SAMPLES / 1e6:.0f} M (read a shorter duration)",
        )


def _check_not_silent(path: Path, swing: float) -> None:
    if swing < 10.0 ** (SILENCE_DBFS / 20.0):
        level = 20.0 * math.log10(swing) if swing > 0 else -math.inf
        raise AudioError(
            path, f"is silent (level without DC {level:.1f} dBFS, below {SILENCE_DBFS} dBFS)"
        )


BROKEN_SCALE_PEAK = 2.0
"""Peaks above this (+6 dBFS) mean a float file on a broken scale, not codec overshoot."""


def _scaled_down(path: Path, samples: np.ndarray, peak: float) -> np.ndarray:
    warnings.warn(
        f"{path}: samples reach +-{peak:.3g}, beyond [-1, 1] (a float file with a broken "
        f"scale?); scaled by 1/{peak:.3g}",
        AudioWarning,
        stacklevel=3,
    )
    return (samples / np.float32(peak)).astype(np.float32)


class _Sink:
    """Receives native-rate blocks, (channels, n) or (n, channels), and keeps them downmixed
    and resampled.

    Blocks are gathered up to :data:`_BLOCK_FRAMES` frames, checked (finite, within the
    decoding budget), downmixed and streamed through soxr; only the output is kept.
    """

    def __init__(self, request: _Request, *, rate: int, channels: int) -> None:
        self.request = request
        self.rate = rate
        self.channels = channels
        self.out_channels = 1 if request.mono else channels
        self.out_rate = rate if request.sr is None else request.sr
        self._resampler = (
            None if self.out_rate == rate
            else soxr.ResampleStream(rate, self.out_rate, self.out_channels,
                                     dtype="float32", quality="HQ")
        )
        self._pending: list[np.ndarray] = []
        self._pending_frames = 0
        self._decoded = 0
        self._chunks: list[np.ndarray] = []
        self._peak = 0.0
        self._high = np.full(self.out_channels, -np.inf, np.float32)
        self._low = np.full(self.out_channels, np.inf, np.float32)

    def add(self, block: np.ndarray) -> None:
        """Take a (channels, n) float32 block of native-rate samples."""
        self._count(block)
        self._keep(block)  # averaged in _flush, per gathered block rather than per frame

    def add_interleaved(self, block: np.ndarray) -> None:
        """Take an (n, channels) float32 block: for a mono request the channels are averaged
        in this layout (the same float32 values as :meth:`add` of its transpose, without the
        transposed copy)."""
        self._count(block)
        if not self.request.mono or block.shape[1] == 1:
            self._keep(np.ascontiguousarray(block.T))
            return
        total = np.add(block[:, 0], block[:, 1])
        for channel in range(2, block.shape[1]):
            total += block[:, channel]
        total /= np.float32(block.shape[1])
        self._keep(total[None])

    def _count(self, block: np.ndarray) -> None:
        self._decoded += block.size
        _check_budget(self.request.path, self._decoded, rate=self.rate, channels=self.channels)

    def _keep(self, block: np.ndarray) -> None:
        """Queue a (channels or out_channels, n) block for downmixing and resampling."""
        self._pending.append(block)
        self._pending_frames += block.shape[1]
        if self._pending_frames >= _BLOCK_FRAMES:
            self._flush()

    def _flush(self, *, last: bool = False) -> None:
        block = (np.concatenate(self._pending, axis=1) if len(self._pending) > 1
                 else self._pending[0] if self._pending
                 else np.zeros((self.out_channels, 0), np.float32))
        self._pending, self._pending_frames = [], 0
        if block.shape[0] > self.out_channels:  # planar channels from add, still to average
            block = block.mean(axis=0, dtype=np.float32, keepdims=True)
        if block.shape[1]:
            self._measure(block)
        if self._resampler is not None:
            block = self._resampler.resample_chunk(block.T, last=last).T
        self._chunks.append(np.ascontiguousarray(block, dtype=np.float32))

    def _measure(self, block: np.ndarray) -> None:
        high, low = block.max(axis=1), block.min(axis=1)
        if not (np.isfinite(high).all() and np.isfinite(low).all()):
            raise AudioError(self.request.path, "contains non-finite samples (NaN or infinity)")
        np.maximum(self._high, high, out=self._high)
        np.minimum(self._low, low, out=self._low)
        self._peak = max(self._peak, float(high.max()), -float(low.min()))

    def finish(self) -> _Decoded:
        """Everything received, resampled to the target rate."""
        self._flush(last=True)
        samples = np.concatenate(self._chunks, axis=1)
        swing = float(np.max(self._high - self._low)) / 2 if np.isfinite(self._high).all() else 0.0
        return _Decoded(samples, self.out_rate, self._peak, swing)


# --- libsndfile --------------------------------------------------------------------------------


def _soundfile_info(path: Path) -> AudioInfo:
    import soundfile

    info = soundfile.info(str(path))
    return AudioInfo(path, float(info.duration), int(info.samplerate), int(info.channels))


def _decode_soundfile(request: _Request) -> _Decoded:
    import soundfile

    with soundfile.SoundFile(str(request.path)) as handle:
        rate, channels = int(handle.samplerate), int(handle.channels)
        start = round(request.offset * rate)
        frames = None if request.duration is None else round(request.duration * rate)
        available = max(handle.frames - start, 0) if handle.frames > 0 else None
        wanted = min(x for x in (frames, available, math.inf) if x is not None)
        _check_header(request.path, rate, channels, wanted / rate)
        sink = _Sink(request, rate=rate, channels=channels)
        if start >= handle.frames > 0:
            return sink.finish()
        skip = min(start, round(_SEEK_PREROLL * rate))
        if start:
            handle.seek(start - skip)
        for block in _soundfile_blocks(handle, skip=skip, frames=frames):
            sink.add_interleaved(block)
    return sink.finish()


def _soundfile_blocks(handle: object, *, skip: int, frames: int | None) -> Iterator[np.ndarray]:
    """(n, channels) float32 blocks after dropping ``skip`` frames, ``frames`` at most."""
    read = _sequential_reader(handle)
    left = math.inf if frames is None else frames
    while left > 0:
        size = int(min(_BLOCK_FRAMES, left + skip))
        block = read(size)
        if not len(block):
            return
        dropped = min(skip, len(block))
        skip -= dropped
        block = block[dropped:]
        left -= len(block)
        if len(block):
            yield block


def _sequential_reader(handle: Any) -> Callable[[int], np.ndarray]:
    """A function reading the next (up to n, channels) float32 frames of an open SoundFile.

    soundfile's ``read`` takes the position before every read and seeks to it after; on an
    MP3, libsndfile passes that seek to libmpg123, which restarts at the frame without its bit
    reservoir and decodes the next granules wrongly (errors up to 0.05 of full scale on the 4Q
    clips, and the ``part2_3_length ... too large`` lines on stderr). Reading with libsndfile's
    ``sf_readf_float`` alone decodes the stream once, in order, like a whole-file read. Where
    soundfile's binding is not as expected, its ``read`` is used.
    """
    import soundfile

    snd, ffi = getattr(soundfile, "_snd", None), getattr(soundfile, "_ffi", None)
    native = getattr(handle, "_file", None)
    if snd is None or ffi is None or native is None:
        return lambda size: handle.read(size, dtype="float32", always_2d=True)
    channels = int(handle.channels)

    def read(size: int) -> np.ndarray:
        block = np.empty((size, channels), dtype=np.float32)
        got = snd.sf_readf_float(native, ffi.cast("float *", ffi.from_buffer(block)), size)
        error = snd.sf_error(native)
        if error:
            raise soundfile.LibsndfileError(error)
        return block[: max(int(got), 0)]

    return read


# --- PyAV (FFmpeg) -----------------------------------------------------------------------------


def _pyav_info(path: Path) -> AudioInfo:
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate)
        seconds = _pyav_seconds(container, stream)
        return AudioInfo(path, seconds, rate, len(stream.layout.channels))


def _pyav_seconds(container: object, stream: object) -> float:
    """The stream's duration from the container header; NaN when it does not say."""
    duration, base = stream.duration, stream.time_base  # type: ignore[attr-defined]
    if duration is not None and base is not None:
        return float(duration * base)
    if container.duration is not None:  # type: ignore[attr-defined]
        return container.duration / 1_000_000  # type: ignore[attr-defined]
    return math.nan


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


def _decode_pyav(request: _Request) -> _Decoded:
    import av

    path, offset, duration = request.path, request.offset, request.duration
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise AudioError(path, "contains no audio stream")
        stream = container.streams.audio[0]
        rate, channels = int(stream.codec_context.sample_rate), len(stream.layout.channels)
        seconds = _pyav_seconds(container, stream)
        wanted = min(max(seconds - offset, 0.0), math.inf if duration is None else duration)
        _check_header(path, rate, channels, wanted)
        sink = _Sink(request, rate=rate, channels=channels)
        base = stream.time_base
        origin = stream.start_time if stream.start_time is not None else 0
        if offset > 0 and base is not None:
            target = max(offset - _SEEK_PREROLL, 0.0)
            container.seek(origin + int(target / base), stream=stream, backward=True)
        window = _Window(rate=rate, offset=offset, duration=duration, origin=origin, base=base)
        for block in window.blocks(container.decode(stream)):
            sink.add(block)
    return sink.finish()


@dataclass(frozen=True)
class _Window:
    """The samples of a frame stream that fall in ``[offset, offset + duration)`` seconds."""

    rate: int
    offset: float
    duration: float | None
    origin: int
    base: object

    def blocks(self, frames: object) -> Iterator[np.ndarray]:
        """(channels, n) float32 pieces of the decoded frames inside the window."""
        start = round(self.offset * self.rate)
        stop = None if self.duration is None else start + round(self.duration * self.rate)
        position: int | None = 0 if self.offset == 0 else None
        for frame in frames:  # type: ignore[attr-defined]
            if position is None:
                position = self._position(frame)
            samples = _frame_samples(frame)
            if frame.sample_rate != self.rate:
                raise ValueError("sample rate changes inside the stream")
            begin, end = position, position + samples.shape[1]
            position = end
            if end <= start:
                continue
            lo = max(start - begin, 0)
            hi = samples.shape[1] if stop is None else min(samples.shape[1], stop - begin)
            if hi > lo:
                yield samples[:, lo:hi]
            if stop is not None and end >= stop:
                return

    def _position(self, frame: object) -> int:
        pts = frame.pts  # type: ignore[attr-defined]
        if pts is None or self.base is None:
            raise ValueError("cannot seek: frames carry no timestamps")
        return round(float((pts - self.origin) * self.base) * self.rate)


def silence_native_stderr() -> None:
    """Send what C libraries write straight to file descriptor 2 to ``/dev/null``.

    libmpg123 (under soundfile) prints lines such as ``part2_3_length (992) too large for
    available bit count`` for damaged frames, and after a seek; moodnet reports real problems
    itself, one line per file. ``sys.stderr`` is rebound to a copy of the original
    descriptor, so Python's own messages (errors, progress bars) still reach the terminal.
    For processes moodnet owns: the command line and its worker processes.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):  # no real descriptor 2 (embedded interpreter): leave it
        return
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(saved, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
