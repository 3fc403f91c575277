"""The CLI, the Python API and the web service: the same field names, the same numbers.

One generated file (soft chords, then loud distorted bursts) goes through
``moodnet predict --format json`` (a real subprocess), :meth:`Predictor.predict` and
``POST /predict`` on a real uvicorn server, all with the shipped default model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from moodnet.predict import Prediction, Predictor
from moodnet.predict.demo import synthesise_mood_change
from moodnet.serve.app import create_app
from predict_helpers import LiveServer

SEGMENT_S = 3.0
CLI_DIGITS = 4  # moodnet predict rounds valence, arousal, probabilities and segments to 4


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vocabulary")
    return synthesise_mood_change(folder / "calm then loud.wav", calm_s=6.0, loud_s=6.0, seed=7)


@pytest.fixture(scope="module")
def api(song: Path) -> dict[str, Any]:
    return Predictor.load().predict(song, segments=SEGMENT_S).to_dict()


@pytest.fixture(scope="module")
def cli(song: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "moodnet", "predict", str(song), "--format", "json",
               "--segments", str(SEGMENT_S), "--workers", "1"]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)
    records = json.loads(out.stdout)
    assert len(records) == 1
    return records[0]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def service(song: Path) -> Iterator[dict[str, Any]]:
    with LiveServer(create_app(device="cpu")) as live, httpx.Client(
        base_url=live.url, timeout=120
    ) as client:
        response = client.post(
            "/predict", files={"audio": (song.name, song.read_bytes(), "audio/wav")},
            data={"segments": str(SEGMENT_S)},
        )
        assert response.status_code == 200, response.text
        yield response.json()


def _numbers(record: dict[str, Any]) -> list[float]:
    """Every number of a record, in a fixed order."""
    values = [record["valence"], record["arousal"], record["analysed_s"]]
    values += [record["class_probs"][name] for name in sorted(record["class_probs"])]
    for segment in record["segments"]:
        values += [segment[k] for k in ("start_s", "end_s", "valence", "arousal")]
    return [float(v) for v in values]


def test_one_set_of_field_names(api: dict[str, Any], cli: dict[str, Any],
                                service: dict[str, Any]) -> None:
    names = set(Prediction("x", 0.0, 0.0, "Q1").to_dict())
    assert set(api) == set(cli) == set(service) == names
    assert "filename" not in service
    assert set(service["segments"][0]) == set(cli["segments"][0]) == {
        "start_s", "end_s", "valence", "arousal"}


def test_paths_are_as_given_and_never_a_server_path(
    song: Path, api: dict[str, Any], cli: dict[str, Any], service: dict[str, Any]
) -> None:
    assert api["path"] == cli["path"] == str(song)
    assert service["path"] == song.name  # the upload's name, not the server's temporary file


def test_the_same_numbers(api: dict[str, Any], cli: dict[str, Any],
                          service: dict[str, Any]) -> None:
    assert len(api["segments"]) == 4  # 12 s in 3 s segments
    np.testing.assert_allclose(_numbers(service), _numbers(api), rtol=0, atol=1e-9)
    np.testing.assert_allclose(_numbers(cli), _numbers(api), rtol=0,
                               atol=0.5 * 10.0**-CLI_DIGITS + 1e-12)
    for field in ("quadrant", "mood_words", "used_lyrics", "model_id"):
        assert api[field] == cli[field] == service[field], field
    assert api["model_id"] == Predictor.load().model_id != ""
