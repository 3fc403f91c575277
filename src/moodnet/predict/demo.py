"""Demo clips synthesised with numpy: one per quadrant, with lyrics written for this project.

Nothing is downloaded and nothing is copied from a dataset: the music is rendered from a few
notes, drums and noise, and the lyrics are a few original lines each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from moodnet.errors import ParameterError

if TYPE_CHECKING:
    from moodnet.predict.predictor import Prediction, Predictor

DEMO_SR = 22050


@dataclass(frozen=True)
class DemoClip:
    """One synthesised example.

    Attributes
    ----------
    name : short file stem, e.g. "bright_major_dance"
    audio_path : the WAV file (mono, 22.05 kHz, 16-bit)
    lyrics_path : the lyrics as UTF-8 text
    intended_quadrant : the quadrant the music was written for ("Q1".."Q4")
    description : what it sounds like, in words
    """

    name: str
    audio_path: Path
    lyrics_path: Path
    intended_quadrant: str
    description: str


@dataclass(frozen=True)
class _Recipe:
    name: str
    quadrant: str
    description: str
    render: Callable[[np.random.Generator, float, int], np.ndarray]
    lyrics: str


def _midi_hz(note: float) -> float:
    return float(440.0 * 2.0 ** ((note - 69) / 12))


def _envelope(n: int, sr: int, *, attack: float, release: float) -> np.ndarray:
    env = np.ones(n, dtype=np.float64)
    n_attack = min(n, max(1, int(attack * sr)))
    n_release = min(n - n_attack, max(1, int(release * sr)))
    env[:n_attack] = np.linspace(0.0, 1.0, n_attack)
    if n_release > 0:
        env[n - n_release :] *= np.linspace(1.0, 0.0, n_release)
    return env


def _tone(
    note: float, length_s: float, sr: int, *, harmonics: tuple[float, ...], attack: float,
    release: float, decay: float = 0.0,
) -> np.ndarray:
    n = max(1, int(length_s * sr))
    t = np.arange(n) / sr
    freq = _midi_hz(note)
    wave = np.zeros(n)
    for k, weight in enumerate(harmonics, start=1):
        if k * freq < sr / 2:
            wave += weight * np.sin(2 * np.pi * k * freq * t)
    if decay > 0:
        wave *= np.exp(-t / decay)
    return wave * _envelope(n, sr, attack=attack, release=release)


def _add(buffer: np.ndarray, signal: np.ndarray, start_s: float, sr: int) -> None:
    start = int(start_s * sr)
    if start >= len(buffer):
        return
    end = min(len(buffer), start + len(signal))
    buffer[start:end] += signal[: end - start]


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.25 * sr)) / sr
    sweep = 2 * np.pi * (50 * t + 60 * 0.04 * (1 - np.exp(-t / 0.04)))
    return np.sin(sweep) * np.exp(-t / 0.08)


def _noise_hit(rng: np.random.Generator, sr: int, *, length_s: float, decay: float,
               highpass: bool) -> np.ndarray:
    noise = rng.standard_normal(int(length_s * sr))
    if highpass:
        noise = np.diff(noise, prepend=0.0)
    t = np.arange(len(noise)) / sr
    return noise * np.exp(-t / decay)


def _normalise(y: np.ndarray, rms: float, peak: float = 0.98) -> np.ndarray:
    """Scale to an RMS level, then down again if the peak would exceed ``peak``."""
    y = y * (rms / (float(np.sqrt(np.mean(y**2))) or 1.0))
    top = float(np.max(np.abs(y)))
    return (y * min(1.0, peak / top) if top else y).astype(np.float32)


def _drums(buffer: np.ndarray, rng: np.random.Generator, *, beat_s: float, sr: int,
           level: float, sixteenth_kicks: bool = False) -> None:
    kick, n_beats = _kick(sr), int(len(buffer) / sr / beat_s)
    snare = _noise_hit(rng, sr, length_s=0.2, decay=0.05, highpass=False)
    hat = _noise_hit(rng, sr, length_s=0.05, decay=0.012, highpass=True)
    for beat in range(n_beats):
        start = beat * beat_s
        _add(buffer, level * kick, start, sr)
        if sixteenth_kicks:
            for sub in (1, 2, 3):
                _add(buffer, 0.7 * level * kick, start + sub * beat_s / 4, sr)
        if beat % 2 == 1:
            _add(buffer, 0.6 * level * snare, start, sr)
        _add(buffer, 0.25 * level * hat, start, sr)
        _add(buffer, 0.25 * level * hat, start + beat_s / 2, sr)


def _bright_major_dance(rng: np.random.Generator, duration: float, sr: int) -> np.ndarray:
    y = np.zeros(int(duration * sr))
    beat = 60.0 / 138
    chords = [(72, 76, 79), (67, 71, 74), (69, 72, 76), (65, 69, 72)]  # C G Am F, high
    bright = (1.0, 0.5, 0.33, 0.25, 0.2)
    step, t, i = beat / 4, 0.0, 0
    while t < duration:
        chord = chords[int(t / (4 * beat)) % len(chords)]
        note = chord[i % 3] + 12 * ((i // 3) % 2)
        _add(y, 0.35 * _tone(note, step * 0.9, sr, harmonics=bright, attack=0.005,
                             release=0.03, decay=0.12), t, sr)
        if i % 4 == 0:
            _add(y, 0.5 * _tone(chord[0] - 24, beat * 0.9, sr, harmonics=(1.0, 0.4),
                                attack=0.01, release=0.05), t, sr)
        t, i = t + step, i + 1
    _drums(y, rng, beat_s=beat, sr=sr, level=0.8)
    return _normalise(y, 0.15)


def _slow_minor_pad(rng: np.random.Generator, duration: float, sr: int) -> np.ndarray:
    y = np.zeros(int(duration * sr))
    bar = 4.0
    chords = [(57, 60, 64), (53, 57, 60), (50, 53, 57), (52, 56, 59)]  # Am F Dm E
    melody = [76, 74, 72, 71, 69, 71, 72, 68]
    warm = (1.0, 0.45, 0.3, 0.2, 0.12, 0.08)
    for k in range(int(np.ceil(duration / bar))):
        for note in chords[k % len(chords)]:
            detune = rng.uniform(-0.05, 0.05)
            _add(y, 0.3 * _tone(note + detune, bar + 1.0, sr, harmonics=warm,
                                attack=1.2, release=1.5), k * bar, sr)
        for half in (0, 1):
            note = melody[(2 * k + half) % len(melody)]
            _add(y, 0.12 * _tone(note, 2.5, sr, harmonics=(1.0, 0.4, 0.2, 0.1), attack=0.02,
                                 release=0.8, decay=1.0), k * bar + 2 * half, sr)
    return _normalise(y, 0.07)


def _dissonant_distorted(rng: np.random.Generator, duration: float, sr: int) -> np.ndarray:
    y = np.zeros(int(duration * sr))
    beat = 60.0 / 176
    step, t, i = beat / 4, 0.0, 0
    saw = tuple(1.0 / k for k in range(1, 40))
    roots = [40, 41, 46, 40, 47, 41]
    while t < duration:
        root = roots[int(t / (2 * beat)) % len(roots)]
        for interval in (0, 1, 6):  # minor second and tritone clusters
            _add(y, 0.4 * _tone(root + interval + 12 * (i % 2), step, sr, harmonics=saw,
                                attack=0.002, release=0.01), t, sr)
        t, i = t + step, i + 1
    _drums(y, rng, beat_s=beat, sr=sr, level=1.0, sixteenth_kicks=True)
    crash = _noise_hit(rng, sr, length_s=0.4, decay=0.15, highpass=True)
    for k in range(int(duration / (beat / 2))):
        _add(y, 1.0 * crash, k * beat / 2, sr)
    y += 0.05 * rng.standard_normal(len(y))
    return _normalise(np.tanh(4.0 * y / float(np.max(np.abs(y)))), 0.22)


def _soft_major_calm(rng: np.random.Generator, duration: float, sr: int) -> np.ndarray:
    y = np.zeros(int(duration * sr))
    beat = 60.0 / 66
    chords = [(77, 81, 84, 88), (72, 76, 79, 84), (74, 77, 81, 84), (70, 74, 77, 81)]
    bell = (1.0, 0.7, 0.5, 0.4, 0.3, 0.2)
    t, i = 0.0, 0
    while t < duration:
        chord = chords[int(t / (4 * beat)) % len(chords)]
        _add(y, 0.3 * _tone(chord[i % 4], 2.5 * beat, sr, harmonics=bell,
                            attack=0.01, release=0.8, decay=1.2), t, sr)
        if i % 4 == 0:
            _add(y, 0.25 * _tone(chord[0] - 12, 4 * beat, sr, harmonics=(1.0,),
                                 attack=0.4, release=1.0), t, sr)
        for offset, level in ((0.0, 0.04), (beat / 2, 0.024)):  # a soft shaker
            _add(y, level * _noise_hit(rng, sr, length_s=0.08, decay=0.03, highpass=True),
                 t + offset, sr)
        t, i = t + beat, i + 1
    return _normalise(y, 0.09)


_RECIPES = (
    _Recipe(
        "bright_major_dance", "Q1",
        "fast bright major-key arpeggios with bass and drums (138 bpm)",
        _bright_major_dance,
        "We are running through the open summer light\n"
        "Hands up high, the city wakes tonight\n"
        "Every heartbeat laughing, every window bright\n"
        "Dance with me, my friend, we feel alright\n",
    ),
    _Recipe(
        "slow_minor_pad", "Q3",
        "slow low minor-key pad chords, quiet, no drums",
        _slow_minor_pad,
        "The rooms are empty since you went away\n"
        "Grey rain is falling on another day\n"
        "I keep your letters but the words have gone\n"
        "Alone and tired, I cannot carry on\n",
    ),
    _Recipe(
        "dissonant_distorted", "Q2",
        "loud distorted dissonant clusters over fast kicks (176 bpm)",
        _dissonant_distorted,
        "Break the walls, I hate the lies you tell\n"
        "Fire in my veins, I scream, I fight, I yell\n"
        "Rage and fear are pounding at the door\n"
        "Burn it down, I will not take it anymore\n",
    ),
    _Recipe(
        "soft_major_calm", "Q4",
        "slow soft major-key bell plucks, warm bass and a quiet shaker (66 bpm)",
        _soft_major_calm,
        "Morning tea and sunlight on the floor\n"
        "A gentle breeze is drifting through the door\n"
        "We rest together, peaceful and content\n"
        "Such quiet love, a sweet and easy scent\n",
    ),
)


def synthesise_demo_clips(
    out_dir: str | Path, *, duration: float = 24.0, sr: int = DEMO_SR, seed: int = 0,
) -> list[DemoClip]:
    """Write the four demo clips (WAV) and their lyrics (TXT) to ``out_dir``.

    Parameters
    ----------
    out_dir : folder to write into (created if missing)
    duration : length of each clip in seconds, 5..120
    sr : sample rate in Hz
    seed : seed of the noise in drums and detuning

    Returns
    -------
    clips : list of DemoClip, one per quadrant (Q1, Q3, Q2, Q4 order)
    """
    import soundfile as sf

    if not 5.0 <= duration <= 120.0:
        raise ParameterError(f"duration must be within 5..120 s, got {duration}")
    if sr < 8000:
        raise ParameterError(f"sr must be at least 8000 Hz, got {sr}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    clips = []
    for recipe in _RECIPES:
        audio_path = out / f"{recipe.name}.wav"
        lyrics_path = out / f"{recipe.name}.txt"
        sf.write(audio_path, recipe.render(rng, duration, sr), sr, subtype="PCM_16")
        lyrics_path.write_text(recipe.lyrics, encoding="utf-8")
        clips.append(DemoClip(recipe.name, audio_path, lyrics_path, recipe.quadrant,
                              recipe.description))
    return clips


def synthesise_mood_change(
    path: str | Path, *, calm_s: float = 15.0, loud_s: float = 15.0, loud_first: bool = False,
    sr: int = DEMO_SR, seed: int = 0,
) -> Path:
    """Write a WAV whose mood changes half-way: soft major chords, then loud distorted bursts.

    Parameters
    ----------
    path : the WAV to write (mono, 16-bit)
    calm_s, loud_s : seconds of the calm part (Q4 music) and of the loud part (Q2 music), each
        1..120
    loud_first : put the loud part first (loud then calm)
    sr : sample rate in Hz
    seed : seed of the noise in drums and detuning

    Returns
    -------
    path : Path of the written WAV
    """
    import soundfile as sf

    for name, seconds in (("calm_s", calm_s), ("loud_s", loud_s)):
        if not 1.0 <= seconds <= 120.0:
            raise ParameterError(f"{name} must be within 1..120 s, got {seconds}")
    rng = np.random.default_rng(seed)
    parts = [_soft_major_calm(rng, calm_s, sr), _dissonant_distorted(rng, loud_s, sr)]
    out = Path(path)
    sf.write(out, np.concatenate(parts[::-1] if loud_first else parts), sr, subtype="PCM_16")
    return out


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` made.

    Attributes
    ----------
    clips : the synthesised clips
    audio_only : one prediction per clip, without lyrics
    with_lyrics : one prediction per clip with its lyrics (None when the model reads none)
    plot_path : the VA-plane PNG
    """

    clips: list[DemoClip]
    audio_only: list[Prediction]
    with_lyrics: list[Prediction | None]
    plot_path: Path


def run_demo(predictor: Predictor, *, out_dir: str | Path, duration: float = 24.0) -> DemoResult:
    """Synthesise the demo clips in ``out_dir``, predict them with and without lyrics, plot.

    Parameters
    ----------
    predictor : a loaded model
    out_dir : folder for the clips, their lyrics and ``demo_va_plane.png``
    duration : seconds per clip

    Returns
    -------
    result : DemoResult
    """
    from moodnet.predict.plot import plot_va_plane

    clips = synthesise_demo_clips(out_dir, duration=duration)
    audio_only = [predictor.predict(clip.audio_path) for clip in clips]
    with_lyrics: list[Prediction | None] = [
        predictor.predict(clip.audio_path, lyrics=clip.lyrics_path) if predictor.uses_lyrics
        else None
        for clip in clips
    ]
    shown = audio_only + [p for p in with_lyrics if p is not None]
    plot_path = plot_va_plane(shown, path=Path(out_dir) / "demo_va_plane.png",
                              title="moodnet demo: synthesised clips")
    return DemoResult(clips, audio_only, with_lyrics, plot_path)


def demo_table(result: DemoResult) -> str:
    """The demo's predictions as a text table, one line per clip and input."""
    header = (f"{'clip':<22}{'made for':<10}{'input':<15}{'valence':>8}{'arousal':>8}  "
              f"{'quad':<6}mood words")
    lines = [header, "-" * len(header)]
    for clip, alone, lyrical in zip(result.clips, result.audio_only, result.with_lyrics,
                                    strict=True):
        rows = [("audio", alone)] + ([("audio+lyrics", lyrical)] if lyrical is not None else [])
        for label, prediction in rows:
            lines.append(
                f"{clip.name:<22}{clip.intended_quadrant:<10}{label:<15}"
                f"{prediction.valence:>+8.3f}{prediction.arousal:>+8.3f}  "
                f"{prediction.quadrant:<6}{', '.join(prediction.mood_words)}"
            )
    return "\n".join(lines)
