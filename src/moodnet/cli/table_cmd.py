"""``moodnet table --manifest M --cache DIR --out docs/results/NAME``: the results table."""

from __future__ import annotations

import argparse
from typing import Any

from moodnet.cli import add_overrides_option

EPILOG = """\
Trains one model per cell (label scheme x modality) on the manifest's train split, early-stopped
on validation, and evaluates it on train and test. The columns' models come from the config's
model: a fusion model (as in table and table_musicnn) gives the bimodal column and its
branches the audio and lyrics columns. Writes table.md, table.csv (every metric),
results.json and va_scatter.png into --out. Schemes that cannot be fitted (e.g. more k-means
clusters than distinct VA points) are reported as missing cells.

examples:
  moodnet table --manifest manifests/mirex.jsonl --cache cache/features \\
      --config table --out docs/results/mirex
  moodnet table --manifest m.jsonl --cache c --out out --config table \\
      --modalities audio lyrics bimodal late svm_audio svm_lyrics \\
      --set data.lexicon_dir=$MOODNET_DATA/lexicons/warriner2013
  moodnet table --manifest m.jsonl --cache c --out out --schemes va given --modalities audio
  moodnet table --manifest m.jsonl --cache c --out out --config table \\
      --set features.n_mels=128 --audio-model short_chunk
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from moodnet.experiments.table import (
        ALL_MODALITIES,
        DEFAULT_MODELS,
        DEFAULT_SCHEMES,
        MODALITIES,
    )

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "table",
        help="train and evaluate audio / lyrics / bi-modal models for every label scheme",
        description="Build the results table (rows: targets; columns: modality x split).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--manifest", required=True, metavar="FILE",
                        help="JSONL manifest with splits")
    parser.add_argument("--cache", required=True, metavar="DIR", help="feature cache folder")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="base training config for every cell: a YAML file or a shipped config's name "
        "(table is tuned for it; table_musicnn for the musicnn columns)",
    )
    add_overrides_option(parser)
    parser.add_argument(
        "--schemes",
        nargs="+",
        default=list(DEFAULT_SCHEMES),
        metavar="S",
        help=f"rows (default: {' '.join(DEFAULT_SCHEMES)})",
    )
    parser.add_argument(
        "--modalities",
        nargs="+",
        default=list(MODALITIES),
        choices=ALL_MODALITIES,
        help=f"column groups (default: {' '.join(MODALITIES)}; svm_* = classical baselines)",
    )
    for modality, name in DEFAULT_MODELS.items():
        parser.add_argument(
            f"--{modality}-model",
            metavar="NAME",
            help=f"registry model of the {modality} column (default: the config's own; else "
            f"{name}); a model the config does not hold gets its defaults",
        )
    parser.add_argument(
        "--subset",
        choices=("all", "with_lyrics"),
        default="all",
        help="evaluate on all tracks or only those with lyrics (all)",
    )
    parser.add_argument("--runs", metavar="DIR", help="also keep every cell's run directory here")
    parser.add_argument("--n-boot", metavar="N", type=int, default=1000,
                        help="bootstrap resamples (1000)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys
    from dataclasses import replace
    from pathlib import Path

    from moodnet.experiments.table import compute_table, write_table
    from moodnet.training.config import load_train_config
    from moodnet.version import __version__, source_commit

    config = load_train_config(args.config, overrides=["progress=false", *args.overrides])
    data = replace(config.data, manifest=Path(args.manifest), cache_dir=Path(args.cache))
    config = replace(config, data=data)
    models = {m: getattr(args, f"{m}_model") for m in ("audio", "lyrics", "bimodal")}
    table = compute_table(
        config,
        schemes=args.schemes,
        modalities=args.modalities,
        models=models,
        subset=args.subset,
        n_boot=args.n_boot,
        runs_dir=args.runs,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    table.meta.update(command=shlex.join(["moodnet", *args.argv]), commit=source_commit(),
                      moodnet_version=__version__)
    for path in write_table(table, args.out):
        print(f"wrote {path}")
    print(table.to_markdown())
    return 0
