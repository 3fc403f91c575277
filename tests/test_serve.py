"""The web service through a real uvicorn server on a loopback port (httpx client)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from moodnet.errors import ParameterError
from moodnet.serve.app import create_app
from predict_helpers import (
    FRENCH_LYRICS,
    HAPPY_LYRICS,
    MADE_UP_LYRICS,
    SAD_LYRICS,
    LiveServer,
    build_tiny_checkpoint,
    calm,
    write_corrupt,
    write_tone,
)

MAX_UPLOAD_MB = 1.0


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("serve")
    return {
        "run": build_tiny_checkpoint(folder / "run"),
        "song": write_tone(folder / "song.wav", seconds=5.0),
        "corrupt": write_corrupt(folder / "corrupt.mp3"),
        "big": write_tone(folder / "big.wav", seconds=30.0),  # ~1.3 MB of 16-bit PCM
    }


@pytest.fixture(scope="module")
def server(files: dict[str, Path]) -> Iterator[str]:
    app = create_app(model=files["run"], device="cpu", max_upload_mb=MAX_UPLOAD_MB)
    with LiveServer(app) as live:
        yield live.url


@pytest.fixture()
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as http:
        yield http


def _upload(path: Path, name: str | None = None) -> dict[str, tuple[str, bytes, str]]:
    return {"audio": (name or path.name, path.read_bytes(), "application/octet-stream")}


def _assert_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"]
    return body  # type: ignore[no-any-return]


def test_health_describes_the_model(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["model"]["class_names"] == ["Q1", "Q2", "Q3", "Q4"]
    assert body["model"]["uses_lyrics"] is True


def test_page_moods_and_docs_are_served(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'id="plane"' in page.text
    assert '"Q2": "Q2 tense / angry"' in page.text and "QUADRANT_CAPTIONS */" not in page.text
    assert "http://" not in page.text.replace('"http://www.w3.org/2000/svg"', "")
    assert len(client.get("/moods").json()) == 28
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN
    assert "/predict" in client.get("/openapi.json").json()["paths"]


def test_predict_audio(client: httpx.Client, files: dict[str, Path]) -> None:
    response = client.post("/predict", files=_upload(files["song"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["path"] == "song.wav"
    assert -1.5 < body["valence"] < 1.5 and -1.5 < body["arousal"] < 1.5
    assert body["quadrant"] in {"Q1", "Q2", "Q3", "Q4"}
    assert len(body["mood_words"]) == 3
    assert body["used_lyrics"] is False and body["segments"] == []


def test_predict_with_lyrics_and_segments(client: httpx.Client, files: dict[str, Path]) -> None:
    response = client.post(
        "/predict", files=_upload(files["song"]),
        data={"lyrics": MADE_UP_LYRICS[3], "segments": "2"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["used_lyrics"] is True
    assert [(s["start_s"], s["end_s"]) for s in body["segments"]] == [
        (0.0, 2.0), (2.0, 4.0), (4.0, 5.0)]


def test_corrupt_audio_is_422_json(client: httpx.Client, files: dict[str, Path]) -> None:
    body = _assert_error(client.post("/predict", files=_upload(files["corrupt"])), 422)
    assert "corrupt.mp3" in str(body["detail"])


def test_not_audio_type_is_415(client: httpx.Client, files: dict[str, Path]) -> None:
    _assert_error(client.post("/predict", files=_upload(files["song"], "notes.txt")), 415)


def test_empty_file_is_422(client: httpx.Client) -> None:
    response = client.post("/predict", files={"audio": ("empty.wav", b"", "audio/wav")})
    _assert_error(response, 422)


def test_missing_field_and_bad_segments_are_422(
    client: httpx.Client, files: dict[str, Path]
) -> None:
    body = _assert_error(client.post("/predict", data={"lyrics": "la la"}), 422)
    assert "audio" in str(body["detail"])
    _assert_error(client.post("/predict", files=_upload(files["song"]),
                              data={"segments": "0.1"}), 422)
    _assert_error(client.post("/predict", files=_upload(files["song"]),
                              data={"segments": "soon"}), 422)


def test_too_large_upload_is_413(client: httpx.Client, files: dict[str, Path]) -> None:
    assert files["big"].stat().st_size > MAX_UPLOAD_MB * 1_000_000
    body = _assert_error(client.post("/predict", files=_upload(files["big"])), 413)
    assert "1 MB" in str(body["detail"])


def test_too_large_chunked_upload_is_413(client: httpx.Client, files: dict[str, Path]) -> None:
    multipart = httpx.Request("POST", "/predict", files=_upload(files["big"]))
    body, content_type = multipart.read(), multipart.headers["Content-Type"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server has to count
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    response = client.post("/predict", content=chunks(), headers={"Content-Type": content_type})
    assert "1 MB" in str(_assert_error(response, 413)["detail"])


def test_unknown_route_is_json_404(client: httpx.Client) -> None:
    _assert_error(client.get("/nothing-here"), 404)


def test_concurrent_requests_all_answer(server: str, files: dict[str, Path]) -> None:
    before = set(Path(tempfile.gettempdir()).glob("moodnet-upload-*"))

    def one(i: int) -> int:
        with httpx.Client(base_url=server, timeout=60) as http:
            path = files["corrupt"] if i % 4 == 3 else files["song"]
            return http.post("/predict", files=_upload(path)).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(12)))
    assert statuses.count(200) == 9 and statuses.count(422) == 3
    with httpx.Client(base_url=server, timeout=10) as http:
        assert http.get("/health").status_code == 200
    assert set(Path(tempfile.gettempdir()).glob("moodnet-upload-*")) == before


def test_slow_prediction_is_504_and_server_keeps_serving(files: dict[str, Path]) -> None:
    app = create_app(model=files["run"], device="cpu", max_upload_mb=5, timeout_s=0.001)
    with LiveServer(app) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        _assert_error(http.post("/predict", files=_upload(files["big"])), 504)
        assert http.get("/health").status_code == 200


def test_create_app_rejects_bad_limits() -> None:
    with pytest.raises(ParameterError):
        create_app(max_upload_mb=0)
    with pytest.raises(ParameterError):
        create_app(max_concurrent=0)
    with pytest.raises(ParameterError):
        create_app(timeout_s=0)


def test_serve_command_starts_a_server(files: dict[str, Path]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "moodnet", "serve", "--port", str(port),
               "--model", str(files["run"]), "--device", "cpu"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stdout.read().decode()) from None  # type: ignore[union-attr]
                time.sleep(0.1)
        assert health.json()["model"]["source"] == files["run"].name  # no server path
        evil = httpx.get(f"http://127.0.0.1:{port}/health", headers={"Host": "evil.example"})
        assert evil.status_code == 400  # bound to loopback: Host header checked
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_health_answers_while_a_pathological_request_runs(files: dict[str, Path]) -> None:
    # 100k characters of whitespace runs then words: the former section-tag pattern
    # backtracked for minutes holding the GIL, so /health (another thread) waited too.
    lyrics = ("\t" * 19_990 + " word\n") * 5
    app = create_app(model=files["run"], device="cpu", max_upload_mb=5)
    with LiveServer(app) as live, ThreadPoolExecutor(max_workers=1) as pool, \
            httpx.Client(base_url=live.url, timeout=60) as http:
        heavy = pool.submit(http.post, "/predict", files=_upload(files["big"]),
                            data={"lyrics": lyrics})
        latencies = []
        while not heavy.done() or not latencies:
            start = time.perf_counter()
            assert httpx.get(f"{live.url}/health", timeout=5).status_code == 200
            latencies.append(time.perf_counter() - start)
        assert heavy.result().status_code == 200, heavy.result().text
    assert max(latencies) < 2.0, latencies


def test_slow_upload_is_408_and_others_are_served(files: dict[str, Path]) -> None:
    app = create_app(model=files["run"], device="cpu", body_timeout_s=1.0)
    with LiveServer(app) as live:
        host, port = live.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as slow:
            slow.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                         b"Content-Type: multipart/form-data; boundary=b\r\n\r\n--b")
            start = time.monotonic()
            assert httpx.get(f"{live.url}/health", timeout=5).status_code == 200
            answer = slow.recv(65536)  # one byte sent, then nothing: dropped at the deadline
            elapsed = time.monotonic() - start
            while chunk := slow.recv(65536):  # the body may come in its own segment
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 408") and b"request timeout" in answer
    assert elapsed < 5


def test_error_bodies_name_no_server_path(client: httpx.Client, files: dict[str, Path]) -> None:
    response = client.post("/predict", files=_upload(files["corrupt"]))
    text = response.text
    assert response.status_code == 422 and "corrupt.mp3" in text
    assert "moodnet-upload-" not in text and tempfile.gettempdir() not in text
    assert str(files["run"].parent) not in client.get("/health").text


@pytest.fixture(scope="module")
def default_client(files: dict[str, Path]) -> Iterator[httpx.Client]:
    """A live service over the shipped default model."""
    with LiveServer(create_app(device="cpu")) as live, httpx.Client(
        base_url=live.url, timeout=60
    ) as http:
        yield http


def test_lyrics_change_the_answer_through_the_service(
    default_client: httpx.Client, files: dict[str, Path]
) -> None:
    """The margin of test_fast_model's Predictor test, through the service (same calm clip)."""
    client = default_client
    song = files["song"].with_name("calm.wav")
    sf.write(song, calm(12.0, np.random.default_rng(3)), 16000)
    answers = [client.post("/predict", files=_upload(song), data={"lyrics": text})
               for text in (HAPPY_LYRICS, SAD_LYRICS)]
    assert all(a.status_code == 200 for a in answers), answers[0].text
    happy, sad = (a.json() for a in answers)
    assert happy["used_lyrics"] and sad["used_lyrics"]
    assert happy["valence"] - sad["valence"] >= 0.1


def test_text_only_request(default_client: httpx.Client) -> None:
    client = default_client
    response = client.post("/predict/lyrics", data={"lyrics": HAPPY_LYRICS})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["used_lyrics"] is True and body["path"] == "<lyrics>" and body["segments"] == []
    refused = _assert_error(client.post("/predict/lyrics", data={"lyrics": FRENCH_LYRICS}), 422)
    assert "English" in str(refused["detail"])
