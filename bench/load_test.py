"""A bounded loopback load test of ``moodnet serve`` (the shipped default model).

Starts the real service (``python -m moodnet serve``) on 127.0.0.1 and sends ``--requests``
requests from ``--concurrency`` threads, cycling through generated inputs: good WAVs (with
and without lyrics), lyrics-only requests, a corrupt MP3, an empty file, a file of the wrong
type and pathological lyrics (whitespace runs). Reports status counts, 5xx, latency p50/p99,
throughput, the server's resident memory before/after/peak, and upload folders left behind.
Traffic goes to the loopback address only, and the run stops by itself.

Usage::

    python -m bench.load_test --requests 200 --concurrency 16 --out docs/results/load_test.md
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

from bench.report import write_report

SR = 16000


def _inputs(folder: Path) -> list[tuple[str, dict, dict]]:
    rng = np.random.default_rng(0)
    t = np.arange(8 * SR) / SR
    calm = 0.05 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t))
    loud = 0.5 * (np.mod(t, 0.125) < 0.04) * rng.standard_normal(t.size)
    for name, y in (("calm.wav", calm), ("loud.wav", loud)):
        sf.write(folder / name, y.astype(np.float32), SR)
    (folder / "corrupt.mp3").write_bytes(rng.bytes(20000))
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4 not audio")
    lyrics = "the sun is up and we are dancing in the street tonight, my heart is full of joy\n"
    evil = " " * 90_000 + "x\n" + "\t" * 5_000 + "[chorus" * 500
    def upload(name: str) -> dict:
        return {"audio": (name, (folder / name).read_bytes())}
    return [
        ("/predict", upload("calm.wav"), {}),
        ("/predict", upload("loud.wav"), {"lyrics": lyrics, "segments": "3"}),
        ("/predict/lyrics", {}, {"lyrics": lyrics * 3}),
        ("/predict", upload("corrupt.mp3"), {}),
        ("/predict", upload("empty.wav"), {}),
        ("/predict", upload("notes.pdf"), {}),
        ("/predict", upload("calm.wav"), {"lyrics": evil}),
        ("/predict/lyrics", {}, {"lyrics": evil}),
    ]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    port = _free_port()
    before_dirs = set(glob.glob(os.path.join(tempfile.gettempdir(), "moodnet-upload-*")))
    server = subprocess.Popen([sys.executable, "-m", "moodnet", "serve", "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with tempfile.TemporaryDirectory() as tmp:
            inputs = _inputs(Path(tmp))
            with httpx.Client(base_url=url, timeout=120) as client:
                client.post("/predict/lyrics", data={"lyrics": "warm up the lyrics model now"})
                rss_before = _rss_mb(server.pid)
                peak = [rss_before]
                stop = threading.Event()

                def sample() -> None:
                    while not stop.is_set():
                        peak.append(_rss_mb(server.pid))
                        time.sleep(0.1)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()

                def one(i: int) -> tuple[str, int, float]:
                    path, files, data = inputs[i % len(inputs)]
                    started = time.perf_counter()
                    response = client.post(path, files=files or None, data=data)
                    return path, response.status_code, time.perf_counter() - started

                started = time.perf_counter()
                with ThreadPoolExecutor(args.concurrency) as pool:
                    results = list(pool.map(one, range(args.requests)))
                wall = time.perf_counter() - started
                health = client.get("/health").status_code
                stop.set()
                sampler.join()
                rss_after = _rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    left = set(glob.glob(os.path.join(tempfile.gettempdir(), "moodnet-upload-*"))) - before_dirs
    statuses = collections.Counter(code for _, code, _ in results)
    latency = np.array([s for _, _, s in results])
    lines = [
        "# Loopback load test of moodnet serve\n",
        f"Command: `python -m bench.load_test --requests {args.requests} --concurrency "
        f"{args.concurrency} --out {args.out}`; the shipped default model; 2 cores; inputs "
        "cycle through good WAVs (with/without lyrics, segments), lyrics-only, corrupt MP3, "
        "empty file, wrong type, pathological lyrics (audio and lyrics-only).\n",
        f"- requests: {len(results)}; statuses: "
        + ", ".join(f"{code} × {n}" for code, n in sorted(statuses.items())),
        f"- 5xx: {sum(n for code, n in statuses.items() if code >= 500)}",
        f"- latency p50 {np.percentile(latency, 50) * 1000:.0f} ms, p99 "
        f"{np.percentile(latency, 99) * 1000:.0f} ms; throughput {len(results) / wall:.1f} "
        f"requests/s ({wall:.1f} s)",
        f"- server RSS: {rss_before:.0f} MB before, {max(peak):.0f} MB peak, "
        f"{rss_after:.0f} MB after; /health after the run: {health}",
        f"- upload folders left in the temp dir: {len(left)}",
    ]
    write_report(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
