"""``moodnet extract MANIFEST --cache DIR``: decode audio and cache log-mel features."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "extract",
        help="compute and cache log-mel features (and descriptors) of a manifest's audio",
        description=(
            "Decode every track's audio, crop it to a clip and cache its log-mel spectrogram "
            "and classical descriptors. Already cached files are skipped, so an interrupted "
            "run can be restarted. Exits with 1 when any file failed."
        ),
    )
    parser.add_argument("manifest", metavar="FILE", help="JSONL manifest of tracks")
    parser.add_argument("--cache", required=True, metavar="DIR", help="feature cache folder")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="FeatureConfig: a YAML file or a shipped config's name (features_musicnn for the "
        "musicnn models); the options below override it",
    )
    parser.add_argument("--n-mels", metavar="N", type=int, help="mel bands (default 40)")
    parser.add_argument("--clip-seconds", metavar="SECONDS", type=float,
                        help="clip length in seconds (default 30)")
    parser.add_argument(
        "--crop", choices=("first", "centre", "random"), help="where the clip is taken (centre)"
    )
    parser.add_argument("--workers", metavar="N", type=int, help="processes (default: all cores)")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="local: this machine's processes (default); ray: Ray tasks on a "
                        "Ray cluster, the cache on storage every node shares "
                        "(pip install 'moodnet[ray]'; docs/scaling.md)")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --engine ray: the Ray cluster (auto, host:6379, "
                        "ray://host:10001); default: a local Ray instance")
    parser.add_argument(
        "--no-descriptors", action="store_true", help="skip the classical descriptor vectors"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from moodnet.audio.features import FeatureConfig
    from moodnet.config import load_config
    from moodnet.data.extract import extract
    from moodnet.data.manifest import read_manifest
    from moodnet.errors import ParameterError

    config = load_config(FeatureConfig, args.config) if args.config else FeatureConfig()
    changes = {
        name: value
        for name, value in (
            ("n_mels", args.n_mels),
            ("clip_seconds", args.clip_seconds),
            ("crop", args.crop),
        )
        if value is not None
    }
    config = replace(config, **changes)
    if args.address is not None and args.engine != "ray":
        raise ParameterError("--address is for --engine ray")
    tracks = read_manifest(args.manifest)
    if args.engine == "ray":
        from moodnet.data.ray_extract import extract_on_ray

        report = extract_on_ray(tracks, config=config, cache_dir=args.cache,
                                descriptors=not args.no_descriptors, address=args.address,
                                progress=not args.quiet)
    else:
        report = extract(
            tracks,
            config=config,
            cache_dir=args.cache,
            workers=args.workers,
            progress=not args.quiet,
            descriptors=not args.no_descriptors,
        )
    print(report.summary())
    for track_id, message in sorted(report.failed.items()):
        print(f"  failed {track_id}: {message}")
    return 1 if report.failed else 0
