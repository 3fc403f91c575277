"""Wall time of ``moodnet predict`` against ``vibenet`` on the same files, both cold, in turn.

Each tool runs as a fresh process (imports, model loading and all), A B A B ..., ``--pairs``
times per file set; the figure is the median over pairs of the ratio vibenet time / moodnet
time (> 1: moodnet is faster). moodnet runs in the caller's environment without any
``MALLOC_*`` variable (as a user runs it: it tunes its own heap); vibenet and the decode floor
get ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` (steadier timings, never slower).
All three run without ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE``, which the development
machines set to keep old OpenBLAS builds working and which pin numpy's matrix products to an
older kernel (Haswell instead of SkylakeX there); ``--keep-openblas-env`` keeps them, as the
runs before moodnet-default-6's second speed run did. The report names the kernel numpy uses.
File sets: the clips as given; with ``--normal N``, N of them re-encoded as ordinary MP3s
(44.1 kHz stereo, 128 kbit/s), where decoding costs about twice as much; with ``--long N``, N
four-minute tracks of concatenated clips. Beside them, the decode floor: a cold process that
only decodes every file to 16 kHz mono with moodnet's decoder on all cores. Also the first
result for a single 30 s file from a cold process. vibenet (GPL-3.0) is run from its own virtual
environment, never imported.

Usage::

    python -m bench.speed_vs_vibenet --vibenet work/vibenet-venv/bin/vibenet \\
        --clips $MOODNET_DATA/4q_dev/audio --normal 60 --long 20 --pairs 3 \\
        --out docs/results/speed.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.report import cpu_description, git_commit, write_report

DECODE_FLOOR = """
import os, sys
from concurrent.futures import ProcessPoolExecutor
from moodnet.audio.io import load_audio
def one(path):
    return load_audio(path, sr=16000, duration=600.0).size
if __name__ == "__main__":
    files = sys.argv[1:]
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(one, files, chunksize=8))
"""


def timed(command: list[str], *, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env)
    return time.perf_counter() - started


def reencode(clips: list[Path], folder: Path) -> list[Path]:
    """The clips as ordinary MP3s: 128 kbit/s, 44.1 kHz stereo."""
    out = []
    for clip in clips:
        target = folder / clip.name
        _ffmpeg("-i", str(clip), "-ac", "2", "-ar", "44100", "-b:a", "128k", str(target))
        out.append(target)
    return out


def _ffmpeg(*args: str) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is needed to make the test files")
    subprocess.run([ffmpeg, "-loglevel", "error", "-y", *args], check=True)


def make_long_tracks(clips: list[Path], folder: Path, *, count: int, seconds: int) -> list[Path]:
    """``count`` MP3s (128 kbit/s, 44.1 kHz stereo) of ``seconds`` s, concatenated clips."""
    per_track = max(1, seconds // 30 + 1)
    out = []
    for i in range(count):
        target = folder / f"long_{i:02d}.mp3"
        parts = [clips[(i * per_track + k) % len(clips)] for k in range(per_track)]
        listing = folder / f"long_{i:02d}.txt"
        listing.write_text("".join(f"file '{p.resolve()}'\n" for p in parts))
        _ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-t", str(seconds), "-ac", "2",
                "-ar", "44100", "-b:a", "128k", str(target))
        out.append(target)
    return out


def compare(name: str, folder: Path, files: list[Path], *, vibenet: str, pairs: int,
            env: Environments, scratch: Path) -> list[str]:
    ours = [sys.executable, "-m", "moodnet", "predict", str(folder), "--format", "csv",
            "--output", str(scratch / "moodnet.csv")]
    theirs = [vibenet, str(folder), "-f", "csv", "-q"]
    floor = [sys.executable, "-c", DECODE_FLOOR, *map(str, files)]
    rows = []
    for _ in range(pairs):
        (scratch / "moodnet.csv").unlink(missing_ok=True)
        t_ours = timed(ours, env=env.ours)
        t_theirs = timed(theirs, env=env.peer)
        rows.append((t_ours, t_theirs))
    t_floor = statistics.median(timed(floor, env=env.peer) for _ in range(pairs))
    ratios = [b / a for a, b in rows]
    n = len(files)
    m_ours = statistics.median(a for a, _ in rows)
    m_theirs = statistics.median(b for _, b in rows)
    return [
        f"| {name} ({n} files) | {m_ours:.1f} s ({n / m_ours:.1f}/s) | "
        f"{m_theirs:.1f} s ({n / m_theirs:.1f}/s) | **{statistics.median(ratios):.2f}×** "
        f"({', '.join(f'{r:.2f}' for r in ratios)}) | {t_floor:.1f} s ({n / t_floor:.1f}/s) |"
    ]


@dataclass(frozen=True)
class Environments:
    """moodnet's (the user's, no MALLOC_* variables) and the peer's and the floor's."""

    ours: dict[str, str]
    peer: dict[str, str]

    @classmethod
    def of(cls, base: Mapping[str, str], *, keep_openblas: bool = False) -> Environments:
        dropped = ("MALLOC_",) if keep_openblas else ("MALLOC_", *OPENBLAS_MACHINE_VARIABLES)
        plain = {k: v for k, v in base.items() if not k.startswith(dropped)}
        return cls(plain, dict(plain, MALLOC_MMAP_THRESHOLD_="1000000000",
                               MALLOC_TRIM_THRESHOLD_="100000000000"))


OPENBLAS_MACHINE_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def blas_kernel(env: Mapping[str, str]) -> str:
    """The OpenBLAS kernel (architecture) that numpy uses in a process with ``env``."""
    code = "from bench.report import openblas_kernel; print(openblas_kernel())"
    found = subprocess.run([sys.executable, "-c", code], env=dict(env), capture_output=True,
                           text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return found.stdout.strip()


def _default_model_id() -> str:
    from moodnet.models.fast_model import FastModel
    from moodnet.training.fast_train import shipped_student_dir

    return FastModel.load(shipped_student_dir()).model_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vibenet", required=True, help="the vibenet executable")
    parser.add_argument("--clips", type=Path, required=True, help="folder of 30 s MP3 clips")
    parser.add_argument("--normal", type=int, default=0,
                        help="clips to re-encode as 44.1 kHz stereo 128 kbit/s MP3s")
    parser.add_argument("--long", type=int, default=20, help="four-minute tracks to make")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (older runs)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    env = Environments.of(os.environ, keep_openblas=args.keep_openblas_env)
    blas = ", ".join(f"{k}={os.environ[k]}" for k in OPENBLAS_MACHINE_VARIABLES
                     if k in os.environ and args.keep_openblas_env) or "none set"
    clips = sorted(args.clips.glob("*.mp3"))
    lines = [
        "# Speed: moodnet predict vs vibenet, both cold, in turn\n",
        f"Command: `python -m bench.speed_vs_vibenet --vibenet VIBENET --clips {args.clips} "
        f"--normal {args.normal} --long {args.long} --pairs {args.pairs}"
        f"{' --keep-openblas-env' if args.keep_openblas_env else ''} --out {args.out}` "
        f"(commit {git_commit()}, model {_default_model_id()}); machine: "
        f"{os.cpu_count()} cores, {cpu_description()}, Python "
        f"{platform.python_version()}. Defaults of both tools (moodnet: the whole track, one "
        "process per core, no MALLOC_* variables; vibenet: its own thread pool). OpenBLAS "
        f"variables: {blas}; numpy's OpenBLAS kernel: {blas_kernel(env.ours)}.\n",
        "| files | moodnet predict | vibenet | speed ratio (median of pairs) | decode floor |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        lines += compare("4Q dev clips, 30 s, 22 kHz mono 40 kbit/s", args.clips, clips,
                         vibenet=args.vibenet, pairs=args.pairs, env=env, scratch=scratch)
        if args.normal:
            normal_dir = scratch / "normal"
            normal_dir.mkdir()
            normal = reencode(clips[: args.normal], normal_dir)
            lines += compare("4Q dev clips as ordinary MP3s, 30 s, 44.1 kHz stereo 128 kbit/s",
                             normal_dir, normal, vibenet=args.vibenet, pairs=args.pairs, env=env,
                             scratch=scratch)
        if args.long:
            long_dir = scratch / "long"
            long_dir.mkdir()
            long_files = make_long_tracks(clips, long_dir, count=args.long, seconds=240)
            for listing in long_dir.glob("*.txt"):
                listing.unlink()
            lines += compare("4-minute tracks, 44.1 kHz stereo 128 kbit/s", long_dir,
                             long_files, vibenet=args.vibenet, pairs=args.pairs, env=env,
                             scratch=scratch)
        single = [sys.executable, "-m", "moodnet", "predict", str(clips[0])]
        first = statistics.median(timed(single, env=env.ours) for _ in range(args.pairs))
        single_theirs = statistics.median(
            timed([args.vibenet, str(clips[0]), "-q"], env=env.peer) for _ in range(args.pairs))
        lines += ["", f"First result for one 30 s file from a cold process: moodnet "
                  f"{first:.2f} s, vibenet {single_theirs:.2f} s (median of {args.pairs})."]
    write_report(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
