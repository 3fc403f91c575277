"""Decoding: formats, sample rates, downmix, windows, and the errors users meet."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodnet.audio import audio_info, load_audio
from moodnet.errors import AudioError, ParameterError

SECONDS = 2.0


def stereo_tones(sr: int, seconds: float = SECONDS) -> np.ndarray:
    """(n, 2) float32: 440 Hz at 0.5 left, 660 Hz at 0.3 right."""
    t = np.arange(round(seconds * sr)) / sr
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    right = 0.3 * np.sin(2 * np.pi * 660 * t)
    return np.stack([left, right], axis=1).astype(np.float32)


def write_m4a(source: Path, target: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), "-c:a", "aac", str(target)],
        check=True,
    )


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    for sr in (8000, 22050, 44100, 48000):
        sf.write(folder / f"tone_{sr}.wav", stereo_tones(sr), sr, subtype="FLOAT")
    y = stereo_tones(44100)
    sf.write(folder / "tone.flac", y, 44100)
    sf.write(folder / "tone.ogg", y, 44100, format="OGG", subtype="VORBIS")
    sf.write(folder / "tone.mp3", y, 44100, format="MP3", subtype="MPEG_LAYER_III")
    sf.write(folder / "tone.opus", stereo_tones(48000), 48000, format="OGG", subtype="OPUS")
    if shutil.which("ffmpeg"):
        write_m4a(folder / "tone_44100.wav", folder / "tone.m4a")
    return folder


LOSSY = ["tone.ogg", "tone.mp3", "tone.opus", "tone.m4a"]


def existing(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.exists():
        pytest.skip(f"{name} not generated (ffmpeg missing)")
    return path


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
@pytest.mark.parametrize("target", [None, 16000, 22050])
def test_wav_length_and_rate(audio_dir: Path, sr: int, target: int | None) -> None:
    y = load_audio(audio_dir / f"tone_{sr}.wav", sr=target)
    rate = sr if target is None else target
    assert y.dtype == np.float32
    assert y.shape == (round(SECONDS * rate),)


@pytest.mark.parametrize("name", ["tone.flac", *LOSSY])
def test_compressed_formats_decode_to_the_right_length(audio_dir: Path, name: str) -> None:
    y = load_audio(existing(audio_dir, name), sr=22050, mono=False)
    assert y.shape[0] == 2
    assert abs(y.shape[1] / 22050 - SECONDS) < 0.05


@pytest.mark.parametrize("name", ["tone_44100.wav", "tone.flac", *LOSSY])
def test_decoded_tone_has_the_right_pitch(audio_dir: Path, name: str) -> None:
    left = load_audio(existing(audio_dir, name), sr=22050, mono=False)[0]
    spectrum = np.abs(np.fft.rfft(left * np.hanning(left.size)))
    peak_hz = np.argmax(spectrum) * 22050 / left.size
    assert abs(peak_hz - 440) < 2


def test_flac_is_lossless(audio_dir: Path) -> None:
    y = load_audio(audio_dir / "tone.flac", sr=None, mono=False)
    np.testing.assert_allclose(y, stereo_tones(44100).T, atol=1 / 2**15)


@pytest.mark.parametrize("name", ["tone_44100.wav", "tone.mp3", "tone.ogg"])
def test_downmix_is_the_mean_of_channels(audio_dir: Path, name: str) -> None:
    stereo = load_audio(audio_dir / name, sr=None, mono=False)
    mono = load_audio(audio_dir / name, sr=None, mono=True)
    np.testing.assert_allclose(mono, stereo.mean(axis=0), atol=1e-7)


def test_downmix_is_not_the_plus_3db_ffmpeg_mono(audio_dir: Path) -> None:
    mono = load_audio(audio_dir / "tone_44100.wav", sr=None)
    expected = stereo_tones(44100).mean(axis=1)
    np.testing.assert_allclose(mono, expected, atol=1e-7)


@pytest.mark.parametrize("name", ["tone_44100.wav", "tone.flac", *LOSSY])
def test_offset_and_duration_read_the_same_samples_as_a_full_decode(
    audio_dir: Path, name: str
) -> None:
    path = existing(audio_dir, name)
    rate = audio_info(path).sample_rate
    full = load_audio(path, sr=None, mono=False)
    window = load_audio(path, sr=None, mono=False, offset=0.7, duration=0.6)
    assert window.shape[1] == round(0.6 * rate)
    start = round(0.7 * rate)
    np.testing.assert_allclose(window, full[:, start : start + window.shape[1]], atol=1e-4)


def test_mp3_read_in_blocks_equals_one_whole_read(tmp_path: Path) -> None:
    # a busy low-bitrate MP3 leans on the bit reservoir: a seek between blocks (as
    # soundfile's read does) broke the granules after it, by up to 0.3 of full scale here
    rng = np.random.default_rng(4)
    t = np.arange(12 * 22050) / 22050
    y = (0.2 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 4 * t) > 0)
         + 0.1 * np.sin(2 * np.pi * 261.6 * t)).astype(np.float32)
    path = tmp_path / "busy.mp3"
    sf.write(path, y, 22050, format="MP3", subtype="MPEG_LAYER_III", compression_level=0.9)
    whole, _ = sf.read(path, dtype="float32")
    blocks = load_audio(path, sr=None, mono=True)
    assert blocks.size == whole.size > 4 * 65536
    np.testing.assert_allclose(blocks, whole, rtol=0, atol=1e-6)


def test_blocks_are_read_without_soundfile_read_and_its_seeks(
    audio_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    plain_read = sf.SoundFile.read
    monkeypatch.setattr(sf.SoundFile, "read",
                        lambda self, *a, **k: reads.append(a) or plain_read(self, *a, **k))
    for name in ("tone.flac", "tone.mp3"):
        assert load_audio(audio_dir / name, sr=None).size > 0
    assert not reads


def test_a_handle_without_the_expected_binding_is_read_with_its_read() -> None:
    from moodnet.audio.io import _sequential_reader

    class Handle:  # what a SoundFile without ``_file`` offers
        channels = 2

        def read(self, frames: int, *, dtype: str, always_2d: bool) -> np.ndarray:
            return np.ones((frames, self.channels), dtype=dtype)

    block = _sequential_reader(Handle())(5)
    assert block.shape == (5, 2) and block.dtype == np.float32


def test_window_past_the_end_is_an_error(audio_dir: Path) -> None:
    with pytest.raises(AudioError, match=r"tone_22050\.wav"):
        load_audio(audio_dir / "tone_22050.wav", offset=5.0)


def test_audio_info_reads_the_header(audio_dir: Path) -> None:
    info = audio_info(audio_dir / "tone_48000.wav")
    assert (info.sample_rate, info.channels) == (48000, 2)
    assert info.duration == pytest.approx(SECONDS)
    assert audio_info(audio_dir / "tone.mp3").duration == pytest.approx(SECONDS, abs=0.05)


def test_unknown_extension_goes_through_ffmpeg(audio_dir: Path, tmp_path: Path) -> None:
    odd = tmp_path / "tone.audiofile"
    shutil.copy(audio_dir / "tone.mp3", odd)
    np.testing.assert_allclose(load_audio(odd), load_audio(audio_dir / "tone.mp3"), atol=1e-4)


def test_wrong_extension_falls_back_to_the_other_decoder(audio_dir: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "really_aac.flac"
    shutil.copy(existing(audio_dir, "tone.m4a"), disguised)
    np.testing.assert_array_equal(load_audio(disguised), load_audio(audio_dir / "tone.m4a"))


def _aac_with_pyav(path: Path, sr: int = 44100) -> None:
    """One second of a 440 Hz tone as AAC in an MP4 container, whatever ``path`` is called."""
    import av

    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)).astype(np.float32)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=sr)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(tone[None, :], format="fltp", layout="mono")
        frame.sample_rate = sr
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)


def test_a_decoder_fallback_is_logged(
    audio_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    disguised = tmp_path / "really_aac.flac"
    _aac_with_pyav(disguised)
    with caplog.at_level(logging.INFO, logger="moodnet.audio.io"):
        y = load_audio(disguised, sr=22050)
    assert 0.9 * 22050 < len(y) < 1.1 * 22050
    [record] = [r for r in caplog.records if r.name == "moodnet.audio.io"]
    assert record.levelno == logging.INFO
    assert "really_aac.flac: decoded with pyav after soundfile: " in record.getMessage()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="moodnet.audio.io"):
        load_audio(audio_dir / "tone.flac")  # the first decoder reads it: nothing logged
    assert not [r for r in caplog.records if r.name == "moodnet.audio.io"]


# --- errors ------------------------------------------------------------------------------------


def write_wav(path: Path, data: np.ndarray, sr: int = 22050) -> Path:
    sf.write(path, data, sr, subtype="FLOAT")
    return path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"nothing\.mp3: file not found"):
        load_audio(tmp_path / "nothing.mp3")


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(AudioError, match=r"empty\.wav: is empty"):
        load_audio(empty)


def test_text_renamed_mp3(tmp_path: Path) -> None:
    fake = tmp_path / "lyrics.mp3"
    fake.write_text("this is not audio\n" * 50)
    with pytest.raises(AudioError, match=r"lyrics\.mp3: does not decode"):
        load_audio(fake)


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="is not a file"):
        load_audio(tmp_path)


@pytest.mark.parametrize("level", [0.0, 1e-6])
def test_silent_file(tmp_path: Path, level: float) -> None:
    path = write_wav(tmp_path / "silence.wav", np.full(22050, level, np.float32))
    with pytest.raises(AudioError, match=r"silence\.wav: is silent"):
        load_audio(path)


def test_quiet_but_audible_file_is_accepted(tmp_path: Path) -> None:
    quiet = 1e-3 * stereo_tones(22050)[:, 0]
    assert load_audio(write_wav(tmp_path / "quiet.wav", quiet)).size == quiet.size


def test_too_short(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "blip.wav", stereo_tones(22050, 0.2))
    with pytest.raises(AudioError, match=r"blip\.wav: is 0\.20 s long"):
        load_audio(path)
    assert load_audio(path, min_duration=0.1).size == round(0.2 * 22050)


def test_sample_rate_out_of_range(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "low.wav", stereo_tones(2000), sr=2000)
    with pytest.raises(AudioError, match=r"low\.wav: sample rate 2000 Hz"):
        load_audio(path)


def test_too_many_channels(tmp_path: Path) -> None:
    data = np.tile(stereo_tones(8000)[:, :1], (1, 10))
    path = write_wav(tmp_path / "many.wav", data, sr=8000)
    with pytest.raises(AudioError, match=r"many\.wav: has 10 channels"):
        load_audio(path)


def test_non_finite_samples(tmp_path: Path) -> None:
    data = stereo_tones(22050)[:, 0].copy()
    data[100] = np.nan
    path = write_wav(tmp_path / "nan.wav", data)
    with pytest.raises(AudioError, match=r"nan\.wav: contains non-finite"):
        load_audio(path)


@pytest.mark.parametrize(
    "kwargs",
    [{"sr": 100}, {"sr": 10**6}, {"offset": -1.0}, {"duration": 0.0}, {"min_duration": -1}],
)
def test_bad_arguments(audio_dir: Path, kwargs: dict[str, float]) -> None:
    with pytest.raises(ParameterError):
        load_audio(audio_dir / "tone_22050.wav", **kwargs)  # type: ignore[arg-type]


def test_audio_info_errors_name_the_file(tmp_path: Path) -> None:
    fake = tmp_path / "notes.ogg"
    fake.write_text("not audio at all")
    with pytest.raises(AudioError, match=r"notes\.ogg"):
        audio_info(fake)


# --- hostile files (issue 11): bombs, FIFOs, DC, broken float scales -----------------------


def _write_bomb(path: Path, *, seconds: int, rate: int = 384_000, channels: int = 8) -> Path:
    """A constant-level square wave at 8 x 384 kHz: FLAC packs it ~60x (16-bit PCM)."""
    second = 0.25 * np.sign(np.sin(2 * np.pi * 50 * np.arange(rate) / rate) + 1e-9)
    block = np.tile(second.astype(np.float32)[:, None], (1, channels))
    with sf.SoundFile(path, "w", rate, channels, format="FLAC", subtype="PCM_16") as handle:
        for _ in range(seconds):
            handle.write(block)
    return path


def test_decompression_bomb_decodes_in_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    seconds = 20
    path = _write_bomb(tmp_path / "bomb.flac", seconds=seconds)
    # the file's claim: 8 channels x 384 kHz x 4 bytes = 12.3 MB of float32 per second, held
    # twice by a whole-file decode (~24 MB/s, 490 MB here); only the 22 kHz mono result
    # (1.8 MB) and one block of 65,536 frames (2 MB, a few copies) need to be held.
    claim = seconds * 24e6
    tracemalloc.start()
    try:
        y = load_audio(path, sr=22050)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert y.shape == (seconds * 22050,)
    assert abs(float(np.abs(y[1000:-1000]).mean()) - 0.25) < 0.01
    assert peak < 0.05 * claim, f"peak {peak / 1e6:.0f} MB for a {claim / 1e6:.0f} MB claim"


def test_more_samples_than_the_budget_are_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moodnet.audio.io as audio_io

    path = _write_bomb(tmp_path / "bomb.flac", seconds=2)
    monkeypatch.setattr(audio_io, "MAX_DECODE_SAMPLES", 3_000_000)
    with pytest.raises(AudioError, match=r"bomb\.flac: would decode 8 channels x 384000 Hz x 2 s"):
        load_audio(path)
    assert load_audio(path, duration=0.5).size == round(0.5 * 22050)  # a window fits


def test_streamed_blocks_give_a_one_shot_decode(tmp_path: Path) -> None:
    import soxr

    data = stereo_tones(48000, seconds=5.0)  # 240,000 frames: four blocks
    path = write_wav(tmp_path / "long.wav", data, sr=48000)
    expected = soxr.resample(data.mean(axis=1), 48000, 22050, quality="HQ")
    np.testing.assert_allclose(load_audio(path, sr=22050), expected, atol=1e-6)


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str) -> None:
    from moodnet.data.cache import content_hash

    path = tmp_path / "song.wav"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    expected = "a FIFO" if kind == "fifo" else "a device"
    for read in (load_audio, audio_info, content_hash):
        with pytest.raises(AudioError, match=rf"song\.wav: is not a file \({expected}\)"):
            read(path)


def test_constant_dc_is_silence(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "dc.wav", np.full(10 * 22050, 0.5, np.float32))
    with pytest.raises(AudioError, match=r"dc\.wav: is silent \(level without DC"):
        load_audio(path)
    offset = 0.5 + 0.3 * stereo_tones(22050)[:, 0]  # a tone on a DC offset is not silence
    assert load_audio(write_wav(tmp_path / "offset.wav", offset)).size == offset.size


def test_float_samples_beyond_full_scale_are_scaled_with_a_warning(tmp_path: Path) -> None:
    from moodnet.errors import AudioWarning

    loud = 30.0 * stereo_tones(22050)[:, 0] / 0.5  # peaks at +-30
    path = write_wav(tmp_path / "loud.wav", loud)
    with pytest.warns(AudioWarning, match=r"loud\.wav: samples reach \+-30"):
        y = load_audio(path, sr=None)
    assert float(np.abs(y).max()) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(y, loud / np.abs(loud).max(), atol=1e-6)


def test_interleaved_downmix_equals_the_planar_mean_exactly(tmp_path: Path) -> None:
    # soundfile's blocks are averaged in their (n, channels) layout; the values must be the
    # float32 mean of the planar channels, bit for bit
    rng = np.random.default_rng(3)
    path = tmp_path / "three.wav"
    sf.write(path, (0.3 * rng.standard_normal((70_000, 3))).astype(np.float32), 16000,
             subtype="FLOAT")
    planar = load_audio(path, sr=None, mono=False)
    mono = load_audio(path, sr=None, mono=True)
    assert np.array_equal(mono, planar.mean(axis=0, dtype=np.float32))
