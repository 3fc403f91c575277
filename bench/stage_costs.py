"""Per-clip costs of each stage, the Ray engine's overhead, and the catalogue cost estimate.

One command measures, on this machine and on real clips (by path, never copied):

1. each stage of a prediction on one core (``threadpool_limits(1)``): decode (MP3 -> 16 kHz
   mono), features (the default model's patch descriptors + student CNN embedding), model
   (linear head, aggregation, the Prediction), write (one CSV row); the same on clips tiled to
   a full-length track; ``moodnet extract``'s per-clip work (paper log-mel + descriptors into
   the cache) and the teacher embedding pass of ``moodnet.training.teacher`` (musicnn, torch);
2. the local engine (``predict_many``, one process per core) against ``--engine ray`` (a local
   Ray instance with the same cores) on the same clips, at two sizes, so that the fixed costs
   (processes, Ray start) and the per-clip cost separate;
3. bytes per row of the outputs (CSV, JSONL, Parquet) and per track of the feature caches;

and derives from these the cost of 1 M and 100 M tracks (CPU-hours, GPU-hours, storage, wall
time on N nodes) under the assumptions written beside it. Results go to ``--out`` (Markdown),
the same name with ``.json``, and the block between the ``stage_costs`` markers of
``docs/scaling.md``, so that rerunning after a model change regenerates every figure::

    flock /tmp/moodnet-cpu.lock env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python -m bench.stage_costs --clips $MOODNET_DATA/4q_dev/audio \\
        --out docs/results/stage_costs.md

(the development machines set ``OPENBLAS_CORETYPE``, which pins numpy to an older kernel than
a user's machine runs; the report names the kernel.)

(``--from-json`` re-derives the estimate from the stored measurements, e.g. with another
``--price-per-cpu-hour`` or ``--node-cpus``.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.report import git_commit, openblas_kernel, write_report
from moodnet.core import keep_heap_for_arrays

SCALING_DOC = Path(__file__).resolve().parents[1] / "docs" / "scaling.md"
BEGIN, END = "<!-- stage_costs:begin -->", "<!-- stage_costs:end -->"


@dataclass(frozen=True)
class Assumptions:
    """What the estimate takes as given (each is a command-line option)."""

    full_track_s: float = 210.0
    """Mean length of a catalogue track (3.5 min); the default model analyses up to 600 s."""
    node_cpus: int = 16
    """CPUs per worker node (a 16-vCPU compute instance)."""
    nodes: tuple[int, ...] = (1, 10, 100)
    price_per_cpu_hour: float = 0.04
    """USD per vCPU-hour (on-demand compute-optimised instances, order of magnitude)."""
    tracks: tuple[int, ...] = (1_000_000, 100_000_000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=Path, help="folder of audio clips (required unless "
                        "--from-json)")
    parser.add_argument("--out", type=Path, default=Path("docs/results/stage_costs.md"))
    parser.add_argument("--stage-clips", type=int, default=40,
                        help="clips for the per-stage timings")
    parser.add_argument("--teacher-clips", type=int, default=6,
                        help="clips for the musicnn teacher pass (0 skips it)")
    parser.add_argument("--engine-sizes", type=int, nargs=2, default=(100, 300),
                        metavar=("SMALL", "LARGE"), help="clips of the two engine runs")
    parser.add_argument("--repeats", type=int, default=2, help="engine runs per size")
    parser.add_argument("--cores", type=int, default=2, help="cores of both engines")
    parser.add_argument("--full-track-s", type=float, default=Assumptions.full_track_s)
    parser.add_argument("--node-cpus", type=int, default=Assumptions.node_cpus)
    parser.add_argument("--price-per-cpu-hour", type=float,
                        default=Assumptions.price_per_cpu_hour)
    parser.add_argument("--no-doc", action="store_true", help="leave docs/scaling.md alone")
    parser.add_argument("--from-json", action="store_true",
                        help="measure nothing: derive the estimate and the reports again from "
                        "the JSON beside --out (after changing an assumption)")
    args = parser.parse_args()
    keep_heap_for_arrays()  # as moodnet's own processes run
    if args.from_json:
        return rederive(args)
    from moodnet.audio.io import silence_native_stderr

    silence_native_stderr()  # libmpg123's chatter about the clips; sys.stderr is kept
    if args.clips is None:
        parser.error("--clips is required (the clips to measure on)")
    clips = sorted(p for p in args.clips.iterdir() if p.suffix.lower() == ".mp3")
    if len(clips) < max(args.engine_sizes):
        parser.error(f"{args.clips}: {len(clips)} clips, need {max(args.engine_sizes)}")
    assumptions = Assumptions(full_track_s=args.full_track_s, node_cpus=args.node_cpus,
                              price_per_cpu_hour=args.price_per_cpu_hour)
    command = "python -m bench.stage_costs " + " ".join(
        a if not a.startswith(str(args.clips)) else "$CLIPS" for a in sys.argv[1:])
    results: dict[str, Any] = {
        "command": command, "clips_folder": args.clips.name, "commit": git_commit(),
        "machine": _machine(), "assumptions": {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in assumptions.__dict__.items()},
    }
    results["stages"] = stage_costs(clips[: args.stage_clips], full_track_s=args.full_track_s)
    results["extract"] = extract_costs(clips[: args.stage_clips])
    if args.teacher_clips:
        results["teacher"] = teacher_costs(clips[: args.teacher_clips])
    results["engines"], predictions = engine_costs(
        clips, sizes=tuple(args.engine_sizes), repeats=args.repeats, cores=args.cores)
    results["outputs"] = output_sizes(predictions)
    results["estimate"] = estimate(results, assumptions=assumptions)
    json_path = args.out.with_suffix(".json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    lines = report_lines(results)
    write_report(lines, args.out)
    if not args.no_doc:
        update_doc(SCALING_DOC, estimate_lines(results))
    return 0


def rederive(args: argparse.Namespace) -> int:
    """The estimate and reports from the measurements already in ``--out``'s JSON."""
    json_path = args.out.with_suffix(".json")
    results = json.loads(json_path.read_text())
    assumptions = Assumptions(full_track_s=args.full_track_s, node_cpus=args.node_cpus,
                              price_per_cpu_hour=args.price_per_cpu_hour)
    if assumptions.full_track_s != results["assumptions"]["full_track_s"]:
        raise SystemExit("--full-track-s changes what is measured: rerun without --from-json")
    results["assumptions"] = {k: list(v) if isinstance(v, tuple) else v
                              for k, v in assumptions.__dict__.items()}
    results["estimate"] = estimate(results, assumptions=assumptions)
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    write_report(report_lines(results), args.out)
    if not args.no_doc:
        update_doc(SCALING_DOC, estimate_lines(results))
    return 0


def _machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import ray

    return {"cpu": model, "cores": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "numpy": np.__version__,
            "ray": ray.__version__, "blas_kernel": openblas_kernel(),
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset")}


# --- 1. stages ---------------------------------------------------------------------------------


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = call()
    return time.perf_counter() - start, value


def _summary(seconds: Sequence[float]) -> dict[str, float]:
    return {"mean_ms": 1000 * statistics.fmean(seconds),
            "median_ms": 1000 * statistics.median(seconds), "n": len(seconds)}


def stage_costs(clips: Sequence[Path], *, full_track_s: float) -> dict[str, Any]:
    """Per-clip milliseconds of decode, features, model and write, on one core; and the same
    on a full-length track (clips tiled to ``full_track_s``)."""
    from moodnet.cli.predict_cmd import _columns, _Writer
    from moodnet.models.fast_model import patch_features
    from moodnet.predict import Predictor
    from moodnet.predict.fast_predict import DecodedAudio, prediction_from_logits

    predictor = Predictor.load()
    model = predictor._fast
    if model is None:
        raise SystemExit("the default model is not a fast (numpy) model; update this bench")
    times: dict[str, list[float]] = {k: [] for k in ("decode", "features", "model", "write",
                                                     "features_all_groups")}
    audio_s: list[float] = []
    decoded_all = []
    with tempfile.TemporaryDirectory() as tmp, one_thread():
        columns = _columns(predictor.class_names, segments=False)
        with _Writer("csv", Path(tmp) / "rows.csv", columns=columns, widths=40) as writer:
            for index, clip in enumerate([clips[0], *clips]):  # the first is a warm-up
                t_decode, decoded = _timed(lambda c=clip: predictor.decode(c))
                t_features, (features, _) = _timed(lambda d=decoded: model.features(d.samples))
                t_model, prediction = _model_time(model, decoded, features,
                                                  prediction_from_logits)
                t_write, _ = _timed(lambda p=prediction: writer.write(p))
                t_all, _ = _timed(lambda d=decoded: patch_features(d.samples,
                                                                   student=model.student))
                if index == 0:
                    continue
                decoded_all.append(decoded)
                audio_s.append(decoded.samples.size / 16000)
                times["decode"].append(t_decode)
                times["features"].append(t_features)
                times["model"].append(t_model)
                times["write"].append(t_write)
                times["features_all_groups"].append(t_all)
        long_times: dict[str, list[float]] = {"features": [], "model": []}
        for start in range(0, min(len(decoded_all), 5 * 7), 7):
            group = decoded_all[start : start + 7] or decoded_all[:7]
            samples = np.concatenate([d.samples for d in group])
            repeats = int(np.ceil(full_track_s * 16000 / samples.size))
            long = DecodedAudio("long", np.tile(samples, repeats)[: int(full_track_s * 16000)])
            t_features, (features, _) = _timed(lambda d=long: model.features(d.samples))
            t_model, _ = _model_time(model, long, features, prediction_from_logits)
            long_times["features"].append(t_features)
            long_times["model"].append(t_model)
    decode_per_audio_s = statistics.fmean(t / s for t, s in zip(times["decode"], audio_s,
                                                                strict=True))
    return {
        "model_id": predictor.model_id,
        "clip_audio_s": statistics.fmean(audio_s),
        "per_clip": {name: _summary(values) for name, values in times.items()},
        "full_track": {
            "audio_s": full_track_s,
            "decode_mean_ms": 1000 * decode_per_audio_s * full_track_s,
            "decode_note": "per second of audio of the clips, times the track's length",
            **{f"{name}_mean_ms": 1000 * statistics.fmean(values)
               for name, values in long_times.items()},
            "write_mean_ms": 1000 * statistics.fmean(times["write"]),
            "n": len(long_times["features"]),
        },
    }


def _model_time(model: Any, decoded: Any, features: np.ndarray,
                to_prediction: Callable[..., Any]) -> tuple[float, Any]:
    """Seconds of the head on the patch features plus the aggregation into a Prediction."""
    patches = model.patch_logits(decoded.samples)  # untimed: the same logits, with bounds
    t_head, _ = _timed(lambda: model.head.logits(features))
    t_rest, prediction = _timed(lambda: to_prediction(model, decoded.path, patches, None))
    return t_head + t_rest, prediction


def extract_costs(clips: Sequence[Path]) -> dict[str, Any]:
    """``moodnet extract``'s work per clip (the paper's 22.05 kHz log-mel + descriptors, into
    a cache) on one core, and the cache's bytes per track."""
    from moodnet.audio.features import FeatureConfig
    from moodnet.data.cache import content_hash
    from moodnet.data.extract import extract_one

    config = FeatureConfig()
    seconds = []
    with tempfile.TemporaryDirectory() as tmp, one_thread():
        for index, clip in enumerate([clips[0], *clips]):
            key = content_hash(clip)
            t, (_, error) = _timed(lambda c=clip, k=key: extract_one(
                str(c), k, config.to_dict(), tmp, True))
            if error is not None:
                raise SystemExit(error)
            if index:
                seconds.append(t)
        entries = list((Path(tmp) / config.key()).rglob("*.npy"))
        cache_bytes = sum(p.stat().st_size for p in entries) / len(clips)
    return {"per_clip": _summary(seconds), "cache_bytes_per_track": cache_bytes,
            "config": {"sample_rate": config.sample_rate, "n_mels": config.n_mels,
                       "clip_seconds": config.clip_seconds}}


def teacher_costs(clips: Sequence[Path]) -> dict[str, Any]:
    """The musicnn teacher pass of :mod:`moodnet.training.teacher` per clip on one core (torch,
    one thread, bf16 autocast where the CPU has it, as the distillation's targets are made) and
    its cache's bytes
    per clip."""
    from moodnet.training import teacher

    teacher.start_worker()
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, clip in enumerate([clips[0], *clips]):
            folder = Path(tmp) / str(index)
            folder.mkdir()
            t, problem = _timed(lambda c=clip, f=folder: teacher.cache_track(
                (c.stem, str(c), str(f), teacher.DEFAULT_HOP)))
            if problem:
                raise SystemExit(problem)
            if index:
                seconds.append(t)
        sizes = [p.stat().st_size for p in Path(tmp).rglob("*.npz")][1:]
    return {"per_clip": _summary(seconds), "cache_bytes_per_clip": statistics.fmean(sizes),
            "device": "cpu, 1 thread"}


# --- 2. engines --------------------------------------------------------------------------------


def engine_costs(clips: Sequence[Path], *, sizes: tuple[int, int], repeats: int, cores: int,
                 ) -> tuple[dict[str, Any], list[Any]]:
    """Wall seconds of the local engine and of the Ray engine on the same clips, alternated;
    Ray's start and shutdown timed apart from its pipeline. Also the predictions of the last
    large run."""
    from moodnet.predict import PredictionFailure, Predictor
    from moodnet.predict.ray_engine import predict_on_ray
    from moodnet.ray_support import ray_session

    runs: dict[str, dict[str, list[float]]] = {
        "local": {str(n): [] for n in sizes}, "ray": {str(n): [] for n in sizes},
        "ray_start": {str(n): [] for n in sizes}, "ray_stop": {str(n): [] for n in sizes}}
    for _ in range(repeats):
        for n in sizes:
            paths = [str(p) for p in clips[:n]]
            start = time.perf_counter()
            predictor = Predictor.load()
            results = list(predictor.predict_many(paths, workers=cores))
            runs["local"][str(n)].append(time.perf_counter() - start)
            _check(results, n, PredictionFailure)
            start = time.perf_counter()
            session = ray_session(num_cpus=cores)
            session.__enter__()
            started = time.perf_counter()
            try:
                results = list(predict_on_ray(paths))
                finished = time.perf_counter()
            finally:
                session.__exit__(None, None, None)
            stopped = time.perf_counter()
            _check(results, n, PredictionFailure)
            runs["ray_start"][str(n)].append(started - start)
            runs["ray"][str(n)].append(finished - started)
            runs["ray_stop"][str(n)].append(stopped - finished)
    small, large = (str(n) for n in sizes)
    best = {k: {n: min(v) for n, v in per.items()} for k, per in runs.items()}
    extra = sizes[1] - sizes[0]
    per_clip = {k: (best[k][large] - best[k][small]) / extra for k in ("local", "ray")}
    fixed = {k: best[k][small] - per_clip[k] * sizes[0] for k in ("local", "ray")}
    return {
        "cores": cores, "sizes": list(sizes), "repeats": repeats, "runs_s": runs,
        "best_s": best,
        "per_clip_ms": {k: 1000 * v for k, v in per_clip.items()},
        "fixed_s": fixed,
        "clips_per_s": {k: sizes[1] / best[k][large] for k in ("local", "ray")},
        "ray_overhead_per_clip_ms": 1000 * (per_clip["ray"] - per_clip["local"]),
        "ray_per_clip_ratio": per_clip["ray"] / per_clip["local"],
        "core_seconds_per_clip": {k: cores * v for k, v in per_clip.items()},
    }, results


def _check(results: list[Any], n: int, failure: type) -> None:
    bad = [r for r in results if isinstance(r, failure)]
    if len(results) != n or bad:
        raise SystemExit(f"engine run: {len(results)} results for {n} clips, failures {bad[:3]}")


# --- 3. output sizes ---------------------------------------------------------------------------


def output_sizes(predictions: Sequence[Any]) -> dict[str, float]:
    """Bytes per row of moodnet predict's CSV, JSONL and Parquet (its writers, these rows)."""
    from moodnet.cli.predict_cmd import _columns, _Writer
    from moodnet.core import QUADRANTS

    columns = _columns(QUADRANTS, segments=False)
    sizes: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "jsonl", "parquet"):
            out = Path(tmp) / f"moods.{fmt}"
            with _Writer(fmt, out, columns=columns, widths=40) as writer:
                for prediction in predictions:
                    writer.write(prediction)
            files = [out] if out.is_file() else list(out.iterdir())
            sizes[f"{fmt}_bytes_per_row"] = sum(f.stat().st_size for f in files) / len(
                predictions)
    sizes["rows"] = len(predictions)
    return sizes


# --- the estimate ------------------------------------------------------------------------------


def estimate(results: dict[str, Any], *, assumptions: Assumptions) -> dict[str, Any]:
    """CPU-hours, GPU-hours, storage and wall time for each catalogue size, for 30 s previews
    and for full tracks, on the Ray engine (its measured core-seconds per clip)."""
    stages = results["stages"]
    per_clip = stages["per_clip"]
    clip_cpu_s = sum(per_clip[k]["mean_ms"] for k in ("decode", "features", "model", "write"))
    clip_cpu_s /= 1000
    full = stages["full_track"]
    full_cpu_s = sum(full[f"{k}_mean_ms"] for k in ("decode", "features", "model", "write"))
    full_cpu_s /= 1000
    engines = results["engines"]
    ray_core_s = engines["core_seconds_per_clip"]["ray"]
    # the work per clip is the higher of two measurements, the one-core stage sum and the local
    # engine's core-seconds per clip (all cores busy), so that the estimate errs high; Ray's
    # per-clip cost over the local engine's (same clips and cores) multiplies it. Neither
    # factor goes below 1: a ratio under 1 is measurement noise, not a saving
    engine_work = max(1.0, engines["core_seconds_per_clip"]["local"] / clip_cpu_s)
    overhead = max(1.0, engines["ray_per_clip_ratio"]) * engine_work
    outputs = results["outputs"]
    teacher = results.get("teacher")
    out: dict[str, Any] = {
        "clip_cpu_s": clip_cpu_s, "full_track_cpu_s": full_cpu_s,
        "ray_core_s_per_clip": ray_core_s, "ray_overhead_factor": overhead,
        "catalogues": [],
    }
    for kind, seconds, audio_s in (("preview_30s", clip_cpu_s, stages["clip_audio_s"]),
                                   ("full_track", full_cpu_s, assumptions.full_track_s)):
        per_track = seconds * overhead
        for tracks in assumptions.tracks:
            cpu_hours = tracks * per_track / 3600
            row: dict[str, Any] = {
                "tracks": tracks, "kind": kind, "cpu_s_per_track": per_track,
                "cpu_hours": cpu_hours, "gpu_hours": 0.0,
                "usd": cpu_hours * assumptions.price_per_cpu_hour,
                "wall_hours": {str(n): cpu_hours / (n * assumptions.node_cpus)
                               for n in assumptions.nodes},
                "csv_gb": tracks * outputs["csv_bytes_per_row"] / 1e9,
                "parquet_gb": tracks * outputs["parquet_bytes_per_row"] / 1e9,
                "extract_cache_gb": tracks * results["extract"]["cache_bytes_per_track"] / 1e9,
            }
            if teacher is not None:
                scale = audio_s / stages["clip_audio_s"]
                row["teacher_cpu_hours"] = (tracks * teacher["per_clip"]["mean_ms"] / 1000
                                            * scale / 3600)
                row["teacher_cache_gb"] = tracks * teacher["cache_bytes_per_clip"] * scale / 1e9
            out["catalogues"].append(row)
    return out


# --- reports -----------------------------------------------------------------------------------


def _ms(summary: dict[str, float]) -> str:
    return f"{summary['mean_ms']:.1f} | {summary['median_ms']:.1f}"


def _count(tracks: int) -> str:
    return f"{tracks // 1_000_000} M"


def _hours(hours: float, *, unit: bool = False) -> str:
    if unit and hours < 1:
        return f"{hours * 60:.0f} min" if hours >= 1 / 60 else "< 1 min"
    text = f"{hours:,.0f}" if hours >= 10 else f"{hours:.1f}"
    return f"{text} h" if unit else text


def _usd(usd: float) -> str:
    return f"{usd:,.0f}" if usd >= 10 else f"{usd:.2f}"


def estimate_lines(results: dict[str, Any]) -> list[str]:
    """The estimate as Markdown (also the generated block of docs/scaling.md)."""
    est, assumptions = results["estimate"], results["assumptions"]
    engines = results["engines"]
    nodes = assumptions["nodes"]
    local_ms = engines["core_seconds_per_clip"]["local"] * 1000
    clip_ms = est["clip_cpu_s"] * 1000
    lines = [
        f"Generated by `{results['command']}` at commit {results['commit']} "
        f"({results['machine']['cpu']}, {results['machine']['cores']} cores; model "
        f"{results['stages']['model_id']}); figures in `docs/results/stage_costs.md`.",
        "",
        f"- One 30 s clip costs **{est['clip_cpu_s'] * 1000:.0f} ms** of one core through "
        f"the four stages; a {assumptions['full_track_s']:.0f} s track "
        f"**{est['full_track_cpu_s'] * 1000:.0f} ms**.",
        f"- On Ray a clip occupies **{est['ray_core_s_per_clip'] * 1000:.0f} core-ms**, the "
        f"local engine {local_ms:.0f} ({'above' if local_ms > clip_ms else 'at or below'} "
        "the one-core stage sum); the estimate multiplies the stage sums by the local "
        "engine's core-ms over the stage sum and by Ray's per-clip cost over the local "
        f"engine's (each at least 1): **{est['ray_overhead_factor']:.2f}**.",
        f"- Assumed: {assumptions['node_cpus']}-CPU nodes, all busy; "
        f"${assumptions['price_per_cpu_hour']:.2f} per CPU-hour; full tracks of "
        f"{assumptions['full_track_s']:.0f} s on average; no GPU (the default model is numpy "
        "only: 0 GPU-hours); cluster start-up, the driver node and reading the audio from "
        "storage not counted.",
        "",
        "| tracks | audio | CPU-hours | cost (USD) | "
        + " | ".join(f"wall, {n} node{'s' if n > 1 else ''}" for n in nodes)
        + " | CSV GB | Parquet GB | extract cache GB | teacher CPU-h | teacher cache GB |",
        "|---|---|---|---|" + "---|" * len(nodes) + "---|---|---|---|---|",
    ]
    for row in est["catalogues"]:
        kind = "30 s previews" if row["kind"] == "preview_30s" else (
            f"full tracks ({assumptions['full_track_s']:.0f} s)")
        walls = " | ".join(_hours(row["wall_hours"][str(n)], unit=True) for n in nodes)
        lines.append(
            f"| {_count(row['tracks'])} | {kind} | {_hours(row['cpu_hours'])} | "
            f"{_usd(row['usd'])} | {walls} | {row['csv_gb']:,.1f} | {row['parquet_gb']:,.1f} "
            f"| {row['extract_cache_gb']:,.0f} | {_hours(row.get('teacher_cpu_hours', 0))} | "
            f"{row.get('teacher_cache_gb', 0):,.0f} |")
    return lines


def report_lines(results: dict[str, Any]) -> list[str]:
    stages, engines = results["stages"], results["engines"]
    extract, outputs = results["extract"], results["outputs"]
    machine = results["machine"]
    sizes = engines["sizes"]
    lines = [
        "# Stage costs, the Ray engine's overhead, and what a catalogue costs",
        "",
        f"`{results['command']}` (`$CLIPS` = `{results['clips_folder']}`), commit "
        f"{results['commit']}; {machine['cpu']}, {machine['cores']} cores, Python "
        f"{machine['python']}, numpy {machine['numpy']} (OpenBLAS kernel "
        f"{machine.get('blas_kernel', 'not recorded')}, OPENBLAS_CORETYPE "
        f"{machine.get('openblas_coretype', 'not recorded')}), Ray {machine['ray']}; model "
        f"{stages['model_id']}.",
        "",
        f"## Per clip, one core ({stages['per_clip']['decode']['n']} clips of "
        f"{stages['clip_audio_s']:.1f} s)",
        "",
        "| stage | mean ms | median ms |",
        "|---|---|---|",
        f"| decode (MP3 -> 16 kHz mono) | {_ms(stages['per_clip']['decode'])} |",
        f"| features (patch descriptors + student CNN) | {_ms(stages['per_clip']['features'])} |",
        f"| model (head, aggregation, Prediction) | {_ms(stages['per_clip']['model'])} |",
        *([f"| (features with every descriptor group computed, also those the head gives no "
           f"weight: not a stage) | {_ms(stages['per_clip']['features_all_groups'])} |"]
          if "features_all_groups" in stages["per_clip"] else []),
        f"| write (one CSV row) | {_ms(stages['per_clip']['write'])} |",
        f"| `moodnet extract` (paper log-mel {extract['config']['n_mels']} bands + "
        f"descriptors into the cache) | {_ms(extract['per_clip'])} |",
    ]
    if "teacher" in results:
        lines.append(f"| teacher embedding (musicnn, `bench/teacher_cache.py`, "
                     f"{results['teacher']['device']}) | {_ms(results['teacher']['per_clip'])} |")
    full = stages["full_track"]
    lines += [
        "",
        f"A {full['audio_s']:.0f} s track (clips tiled, {full['n']} tracks): decode "
        f"{full['decode_mean_ms']:.0f} ms ({full['decode_note']}), features "
        f"{full['features_mean_ms']:.0f} ms, model {full['model_mean_ms']:.1f} ms, write "
        f"{full['write_mean_ms']:.2f} ms.",
        "",
        f"## Local engine against `--engine ray` ({engines['cores']} cores, same clips)",
        "",
        f"Best of {engines['repeats']} alternated runs at {sizes[0]} and {sizes[1]} clips (the "
        "first run also reads the clips from disk); "
        "the per-clip cost is the slope between the two sizes, the fixed cost the rest. "
        "Ray's start and shutdown are timed apart from its pipeline (the pipeline includes "
        "starting its actors).",
        "",
        f"| engine | {sizes[0]} clips s | {sizes[1]} clips s | clips/s | per clip ms "
        "| core-ms per clip | fixed s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("local", "ray"):
        best = engines["best_s"][name]
        lines.append(
            f"| {name} | {best[str(sizes[0])]:.2f} | {best[str(sizes[1])]:.2f} | "
            f"{engines['clips_per_s'][name]:.1f} | {engines['per_clip_ms'][name]:.1f} | "
            f"{engines['core_seconds_per_clip'][name] * 1000:.1f} | "
            f"{engines['fixed_s'][name]:.2f} |")
    start = min(min(v) for v in engines["runs_s"]["ray_start"].values())
    stop = min(min(v) for v in engines["runs_s"]["ray_stop"].values())
    lines += [
        "",
        f"Ray overhead: **{engines['ray_overhead_per_clip_ms']:+.1f} ms per clip** "
        f"({engines['ray_per_clip_ratio']:.2f}× the local engine's per-clip cost), plus "
        f"{start:.1f} s to start the local Ray instance and {stop:.1f} s to stop it.",
        "",
        "## Sizes",
        "",
        f"Per row: CSV {outputs['csv_bytes_per_row']:.0f} B, JSONL "
        f"{outputs['jsonl_bytes_per_row']:.0f} B, Parquet {outputs['parquet_bytes_per_row']:.0f}"
        f" B ({outputs['rows']:.0f} rows in one part; larger parts compress better). Feature "
        f"cache of `moodnet extract`: {extract['cache_bytes_per_track'] / 1e3:.0f} kB per track"
        f" ({extract['config']['clip_seconds']:.0f} s clip).",
    ]
    if "teacher" in results:
        lines[-1] += (f" Teacher cache: {results['teacher']['cache_bytes_per_clip'] / 1e3:.0f}"
                      " kB per 30 s clip.")
    lines += ["", "## The estimate", "", *estimate_lines(results)]
    return lines


def update_doc(path: Path, lines: list[str]) -> None:
    """Replace the block between the markers of ``path`` (left alone when they are absent)."""
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"{path}: no {BEGIN} ... {END} block; not updated", file=sys.stderr)
        return
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    from moodnet.io_utils import atomic_write_text

    atomic_write_text(path, head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)


if __name__ == "__main__":
    sys.exit(main())
