"""``moodnet train CONFIG [--set key=value ...] [--out DIR]``: train one model."""

from __future__ import annotations

import argparse
import os
import textwrap
from typing import Any

from moodnet.cli import add_overrides_option
from moodnet.config import packaged_configs

EPILOG = """\
{names}
The manifest (moodnet data manifest) and the feature cache (moodnet extract) are set with
--set data.manifest=FILE --set data.cache_dir=DIR. The run directory receives
checkpoint.json, model.safetensors and metrics.csv (one row per epoch); the weights of the
best validation epoch are kept. For steady CPU timings set MALLOC_MMAP_THRESHOLD_=1000000000
MALLOC_TRIM_THRESHOLD_=100000000000 in the environment. Walkthrough: docs/researcher.md.

examples:
  moodnet train paper_audio --set data.manifest=work/mirex.jsonl \\
      --set data.cache_dir=work/cache --set data.labels=mirex5 --out runs/audio_mirex5
  moodnet train my_config.yaml --set optim.lr=0.01 --set max_epochs=3 --out runs/try
  torchrun --nproc-per-node 4 -m moodnet train paper_audio --set data.manifest=m.jsonl \
      --set data.cache_dir=cache --out runs/ddp     # data-parallel (docs/scaling.md)
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "train",
        help="train a model from a YAML config",
        description="Train a model on a manifest's train split, early-stopped on validation.",
        epilog=EPILOG.format(names=_shipped_configs_text()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "config", metavar="FILE_OR_NAME",
        help="training config: a YAML file or a shipped config's name",
    )
    add_overrides_option(parser)
    parser.add_argument(
        "--out", metavar="DIR", help="run directory (default: out_dir of the config)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def _shipped_configs_text() -> str:
    names = [name for name in packaged_configs() if not name.startswith("features_")]
    text = "CONFIG is a YAML file or the name of a config shipped with moodnet: "
    text += ", ".join(names) + "."
    return textwrap.fill(text, width=90, break_on_hyphens=False)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from moodnet.errors import ConfigError
    from moodnet.training import train
    from moodnet.training.config import load_train_config
    from moodnet.training.distributed import end_replica, process_group_from_env

    if _recipe(args.config) == "fast":
        if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
            raise ConfigError(f"{args.config}: the default model's recipe (scikit-learn) "
                              "trains in one process; run it without torchrun")
        return _run_fast(args)
    overrides = [*args.overrides, *(["progress=false"] if args.quiet else [])]
    config = load_train_config(args.config, overrides=overrides)
    out = Path(args.out) if args.out else config.out_dir
    if out is None:
        raise ConfigError("no run directory: pass --out DIR or set out_dir in the config")
    with process_group_from_env(device=config.device) as group:
        result = train(config, out_dir=out)
    if group is None or group.is_main:  # rank 0 saved and reports
        checkpoint = result.checkpoint
        where = f" ({group.world_size} processes)" if group is not None else ""
        print(f"saved {result.run_dir} (best epoch {checkpoint.best_epoch}){where}")
        for key, value in checkpoint.metrics.get("validation", {}).items():
            print(f"  {key} {value:.4f}")
    if group is not None:
        end_replica(0)
    return 0


def _recipe(config: str) -> str | None:
    """The ``recipe`` key of a config file (``fast`` for the default model), if any."""
    import yaml

    from moodnet.config import find_config

    try:
        data = yaml.safe_load(find_config(config).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None  # load_train_config reports the problem
    return data.get("recipe") if isinstance(data, dict) else None


def _run_fast(args: argparse.Namespace) -> int:
    from pathlib import Path

    from moodnet.config import load_config
    from moodnet.errors import ConfigError
    from moodnet.training.fast_train import FastTrainConfig, train_fast

    config = load_config(FastTrainConfig, args.config, overrides=args.overrides)
    if not args.out:
        raise ConfigError("no run directory: pass --out DIR")
    report = train_fast(config, out_dir=Path(args.out))
    head = report["head"]
    print(f"saved {args.out} ({report['n_train']} training tracks; C valence/arousal "
          f"{head['c'][0]}/{head['c'][1]}, scale {head['scale'][0]:.3f}/{head['scale'][1]:.3f})")
    for key, value in report.get("test", {}).items():
        print(f"  test {key} {value:.4f}")
    return 0
