"""Batch prediction over many files: which way of using the cores is fastest?

Strategies, each over the same files (imports and model loading included in the timing):

- ``serial``: one process decodes, computes the log-mel and runs the model.
- ``decode-pool``: ``predict_many(workers=N, pool="decode")``: N torch-free processes decode
  and compute the log-mel; the model runs in the main process.
- ``model-pool``: ``predict_many(workers=N, pool="model")``: N processes, each loading the
  model once (one torch thread) and predicting whole files (the CPU default).

Usage::

    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000 \\
    python bench/bench_predict.py AUDIO_DIR [--model RUN_DIR] [--limit 60] [--workers 2]

Without ``--model`` a random-weight paper-ConvNet checkpoint with the default features
(30 s clips, 40 mel bands) is built in a temp folder: the timing does not depend on weights.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def build_random_checkpoint(run_dir: Path) -> Path:
    import torch

    from moodnet.audio import FeatureConfig
    from moodnet.models import build_model
    from moodnet.models.checkpoint import Checkpoint, save_checkpoint
    from moodnet.models.config import PaperAudioConfig

    features = FeatureConfig()
    config = PaperAudioConfig(task="multitask", n_classes=4).with_features(features)
    torch.manual_seed(0)
    checkpoint = Checkpoint(model=build_model(config), model_config=config,
                            features=features.to_dict(), class_names=("Q1", "Q2", "Q3", "Q4"))
    return save_checkpoint(checkpoint, run_dir)


def _run(paths: list[str], model: str, *, workers: int, pool: str, threads: int) -> int:
    import torch

    from moodnet.predict import Prediction, Predictor

    if threads:
        torch.set_num_threads(threads)
    predictor = Predictor.load(model, device="cpu")
    results = predictor.predict_many(paths, workers=workers, pool=pool)
    return sum(isinstance(r, Prediction) for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("audio_dir", type=Path)
    parser.add_argument("--model", help="run directory (default: random paper ConvNet)")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=("serial", "decode-pool", "model-pool"))
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads of the main process (0: torch's default; the "
                        "model-pool workers always use 1)")
    args = parser.parse_args()
    paths = sorted(str(p) for p in args.audio_dir.rglob("*.mp3"))[: args.limit]
    model = args.model or str(build_random_checkpoint(Path(tempfile.mkdtemp()) / "run"))
    runs = {
        "serial": lambda: _run(paths, model, workers=1, pool="auto", threads=args.threads),
        "decode-pool": lambda: _run(paths, model, workers=args.workers, pool="decode",
                                    threads=args.threads),
        "model-pool": lambda: _run(paths, model, workers=args.workers, pool="model",
                                   threads=args.threads),
    }
    for name, run in runs.items():
        if args.only and name != args.only:
            continue
        start = time.perf_counter()
        done = run()
        seconds = time.perf_counter() - start
        print(f"{name:<12} workers={args.workers if name != 'serial' else 1} "
              f"threads={args.threads or 'default'}  {done} files  "
              f"{seconds:6.2f} s  {done / seconds:6.1f} files/s", flush=True)


if __name__ == "__main__":
    main()
