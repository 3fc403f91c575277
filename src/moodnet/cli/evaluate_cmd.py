"""``moodnet evaluate RUN_DIR [--split test] [--manifest M]``: metrics with chance and CIs."""

from __future__ import annotations

import argparse
from typing import Any

from moodnet.cli import add_device_option

EPILOG = """\
Chance levels: R² and RMSE of predicting the train mean; accuracy of the train majority class
and of uniform guessing; macro-F1 of the majority class. Intervals are 95% percentile
bootstrap intervals over tracks (seeded).

examples:
  moodnet evaluate runs/audio_va
  moodnet evaluate runs/audio_va --manifest other.jsonl --cache cache/features --split test
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained run on a manifest split",
        description="Evaluate a training run directory on one split of a manifest.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", metavar="DIR", help="training run directory")
    parser.add_argument("--split", default="test", choices=("train", "validation", "test"))
    parser.add_argument("--manifest", metavar="FILE", help="manifest (default: the training one)")
    parser.add_argument("--cache", metavar="DIR", help="feature cache (default: the training one)")
    parser.add_argument(
        "--out", metavar="FILE", help="metrics file (default: DIR/eval_SPLIT.json)"
    )
    parser.add_argument("--n-boot", metavar="N", type=int, default=1000,
                        help="bootstrap resamples (1000)")
    parser.add_argument("--seed", metavar="N", type=int, default=0, help="bootstrap seed (0)")
    add_device_option(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from moodnet.data.manifest import by_split, read_manifest
    from moodnet.errors import ConfigError
    from moodnet.evaluation.evaluate import evaluate_arrays
    from moodnet.io_utils import atomic_write_text
    from moodnet.models.checkpoint import load_checkpoint
    from moodnet.training.data import arrays_for_checkpoint

    checkpoint = load_checkpoint(args.run_dir, device=args.device)
    data_config = (checkpoint.train_config or {}).get("data", {})
    manifest = args.manifest or data_config.get("manifest")
    cache = args.cache or data_config.get("cache_dir")
    if manifest is None:
        raise ConfigError("no manifest: pass --manifest (the run does not name one)")
    tracks = by_split(read_manifest(manifest), args.split)
    data = arrays_for_checkpoint(checkpoint, tracks, cache_dir=cache)
    evaluation = evaluate_arrays(
        checkpoint,
        data,
        name=f"{Path(manifest).name}:{args.split}",
        n_boot=args.n_boot,
        seed=args.seed,
    )
    print(evaluation.format())
    out = Path(args.out) if args.out else Path(args.run_dir) / f"eval_{args.split}.json"
    atomic_write_text(out, json.dumps(evaluation.to_json(), indent=1) + "\n")
    print(f"wrote {out}")
    return 0
