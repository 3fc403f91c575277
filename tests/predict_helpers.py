"""Shared by the predict / serve / browser tests: a tiny checkpoint and generated audio.

The checkpoint is built through the real model and checkpoint code (random weights, no data):
tests check behaviour, never the numbers a model gives.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np

MADE_UP_LYRICS = (
    "sunny morning we dance and laugh together\nbright lights and happy hearts tonight",
    "cold rain on the window and I miss you\nempty rooms and tired eyes alone",
    "fire and fury break the walls tonight\nscream and fight we will not fall",
    "quiet river slow and gentle breeze\nwarm tea and peaceful evening light",
)
CLASS_NAMES = ("Q1", "Q2", "Q3", "Q4")

# Lyrics written for the project: clearly positive, clearly negative, and not English.
HAPPY_LYRICS = """\
The sun is up and we are dancing in the street tonight
I love the way you smile at me, my heart is full of joy
We laugh and sing together, every day is a gift
Sweet summer love, you make me happy, you make me shine
"""
SAD_LYRICS = """\
I am alone in the cold and dark, my heart is broken
The tears will never stop, I cry for you every night
There is only pain and sorrow, I want to die tonight
Misery and grief, the grave is waiting, all my hope is gone
"""
FRENCH_LYRICS = """\
Je marche seul dans la ville, la pluie tombe sur les toits gris
Les souvenirs de notre histoire reviennent chaque soir, mon amour perdu
Le vent emporte les feuilles mortes et nos promesses oubliees depuis longtemps
"""


def build_tiny_checkpoint(
    run_dir: Path, *, clip_seconds: float = 3.0, task: str = "multitask", seed: int = 0,
    name: str = "mid_fusion",
) -> Path:
    """A checkpoint (default: mid-fusion audio + lyrics) with 3 s clips, 40 mels, 4 classes."""
    import torch

    from moodnet.audio import FeatureConfig
    from moodnet.lyrics import Vocabulary, lyrics_tokens
    from moodnet.models import build_model, parse_model_config
    from moodnet.models.checkpoint import Checkpoint, save_checkpoint

    features = FeatureConfig(n_mels=40, clip_seconds=clip_seconds)
    vocabulary = Vocabulary.build([lyrics_tokens(t) for t in MADE_UP_LYRICS], min_count=1)
    n_classes = 0 if task == "va" else len(CLASS_NAMES)
    branches: dict[str, dict[str, object]] = {
        "audio": {"name": "paper_audio"},
        "lyrics": {"name": "lyrics_cnn", "vocab_size": len(vocabulary), "embed_dim": 8},
    }
    own = [part for part in branches.values() if part["name"] == name]
    tagged = own[0] if own else {"name": name, **branches}  # a branch alone, or their fusion
    config = parse_model_config({**tagged, "task": task, "n_classes": n_classes})
    config = config.with_features(features)
    torch.manual_seed(seed)
    checkpoint = Checkpoint(
        model=build_model(config),
        model_config=config,
        mel_mean=np.full(features.n_mels, 1.0, dtype=np.float32),
        mel_std=np.full(features.n_mels, 0.5, dtype=np.float32),
        va_scale="unit",
        features=features.to_dict(),
        class_names=CLASS_NAMES if n_classes else (),
        vocabulary_json=vocabulary.to_json(),
        max_tokens=50,
    )
    return save_checkpoint(checkpoint, run_dir)


def write_tone(path: Path, *, seconds: float = 5.0, sr: int = 22050, freq: float = 440.0,
               seed: int = 0) -> Path:
    """A WAV of a tone with a little noise (decodable, not silent)."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(t.size)
    sf.write(path, y.astype(np.float32), sr)
    return path


def write_corrupt(path: Path) -> Path:
    """A file named like audio that holds no audio."""
    path.write_bytes(b"ID3\x03\x00 this is not an mp3 at all " * 40)
    return path


class LiveServer:
    """uvicorn serving an app on 127.0.0.1:<free port> in a background thread."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on")  # type: ignore[arg-type]
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def open_page(playwright: object, url: str, profile: Path) -> object:
    """Debian chromium with a fresh profile folder, showing ``url``; returns the page."""
    context = playwright.chromium.launch_persistent_context(  # type: ignore[attr-defined]
        str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        viewport={"width": 1200, "height": 860},
    )
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('.mood-word').length === 28")
    return page


def submit_song(page: object, audio: Path, *, lyrics: str = "", segments: str = "") -> None:
    """Fill the page's form and press the button."""
    page.set_input_files("#audio", str(audio))  # type: ignore[attr-defined]
    page.fill("#lyrics", lyrics)  # type: ignore[attr-defined]
    page.fill("#segments", segments)  # type: ignore[attr-defined]
    page.click("#submit")  # type: ignore[attr-defined]

def calm(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Soft sustained major chords, slow swells, little noise."""
    t = np.arange(int(seconds * 16000)) / 16000
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t)
    return (0.05 * chord * swell + 0.002 * rng.standard_normal(t.size)).astype(np.float32)


def loud(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Fast bursts of broadband noise on a distorted low riff (8 hits a second)."""
    t = np.arange(int(seconds * 16000)) / 16000
    hits = (np.mod(t, 0.125) < 0.04).astype(np.float32)
    riff = np.tanh(6 * np.sin(2 * np.pi * 82.4 * t))
    return (0.6 * hits * rng.standard_normal(t.size) + 0.3 * riff).astype(np.float32)
