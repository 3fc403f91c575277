"""``moodnet train CONFIG.yaml [--set key=value ...] [--out DIR]``: train one model."""

from __future__ import annotations

import argparse
from typing import Any

from moodnet.cli import add_overrides_option

EPILOG = """\
The run directory receives checkpoint.json, model.safetensors and metrics.csv (one row per
epoch). The weights of the best validation epoch are kept. For steady CPU timings set
MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000 in the environment.

examples:
  moodnet train configs/paper_audio.yaml --set data.labels=mirex5 --out runs/audio_mirex5
  moodnet train configs/debug.yaml --set optim.lr=0.01 --set max_epochs=3
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "train",
        help="train a model from a YAML config",
        description="Train a model on a manifest's train split, early-stopped on validation.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", metavar="CONFIG.yaml", help="training config (YAML)")
    add_overrides_option(parser)
    parser.add_argument(
        "--out", metavar="DIR", help="run directory (default: out_dir of the config)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from moodnet.errors import ConfigError
    from moodnet.training import train
    from moodnet.training.config import load_train_config

    overrides = [*args.overrides, *(["progress=false"] if args.quiet else [])]
    config = load_train_config(args.config, overrides=overrides)
    out = Path(args.out) if args.out else config.out_dir
    if out is None:
        raise ConfigError("no run directory: pass --out DIR or set out_dir in the config")
    result = train(config, out_dir=out)
    checkpoint = result.checkpoint
    print(f"saved {result.run_dir} (best epoch {checkpoint.best_epoch})")
    for key, value in checkpoint.metrics.get("validation", {}).items():
        print(f"  {key} {value:.4f}")
    return 0
