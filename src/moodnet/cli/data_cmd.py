"""``moodnet data``: build manifests from datasets (with splits) and validate them."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moodnet.track import Track


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "data", help="build and validate dataset manifests", description=__doc__
    )
    commands = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    manifest = commands.add_parser(
        "manifest",
        help="convert a dataset into a JSONL manifest with splits",
        description="Convert a dataset into a JSONL manifest (absolute paths, split filled).",
    )
    manifest.add_argument("dataset", metavar="NAME",
                          help="dataset adapter name (csv, deezer, mirex, 4q, pmemo)")
    manifest.add_argument("root", metavar="PATH", type=Path,
                          help="the dataset folder (or CSV file)")
    manifest.add_argument("--out", metavar="FILE", type=Path, required=True,
                          help="manifest to write (.jsonl)")
    _add_source_options(manifest)
    manifest.add_argument(
        "--split",
        default="auto",
        help="artist (seeded artist-disjoint stratified 70/15/15), given (the dataset's own), "
        "none, a split JSON to reuse, or auto (given when the dataset has one, else artist)",
    )
    manifest.add_argument("--seed", metavar="N", type=int, default=0,
                          help="seed of the artist split")
    manifest.add_argument(
        "--fractions",
        type=float,
        nargs=3,
        default=(0.70, 0.15, 0.15),
        metavar=("TRAIN", "VALID", "TEST"),
        help="split shares (default 0.70 0.15 0.15)",
    )
    manifest.add_argument(
        "--folds",
        type=int,
        default=0,
        metavar="N",
        help="also write N artist-disjoint stratified folds to OUT.folds.json",
    )
    manifest.set_defaults(func=run_manifest)

    validate = commands.add_parser(
        "validate",
        help="report missing/unreadable audio and lyrics and label problems",
        description="Check every track of a manifest or dataset; exit 1 when there are errors.",
    )
    validate.add_argument("source", metavar="SOURCE",
                          help="a manifest (.jsonl) or a dataset adapter name")
    validate.add_argument("root", metavar="DIR", nargs="?", type=Path,
                          help="dataset folder (with a name)")
    _add_source_options(validate)
    validate.add_argument("--no-audio", action="store_true", help="skip the audio file checks")
    validate.add_argument("--no-lyrics", action="store_true", help="skip the lyrics file checks")
    validate.add_argument(
        "--require-va", action="store_true", help="a track without VA is an error"
    )
    validate.add_argument(
        "--require-audio", action="store_true", help="a track without audio is an error"
    )
    validate.add_argument("--limit", metavar="N", type=int, default=50,
                          help="problems to print (default 50)")
    validate.set_defaults(func=run_validate)

    merge = commands.add_parser(
        "merge",
        help="combine manifests into one (splits kept)",
        description=(
            "Concatenate manifests, keeping every track's split. When an id occurs twice, "
            "every id is prefixed with its dataset (mirex_001, 4q_MT0000011357). "
            "--label quadrant sets each track's label to its quadrant: the given label when "
            "it is already Q1..Q4 (4Q's human-validated quadrants), else the quadrant of its "
            "valence/arousal (Q1 = V>0,A>0; Q2 = V<=0,A>0; Q3 = V<=0,A<=0; Q4 = V>0,A<=0). "
            "Each input is artist-disjoint on its own; an artist found in several splits "
            "across the inputs is handled by --artist-overlap."
        ),
    )
    merge.add_argument("manifests", nargs="+", type=Path, metavar="FILE", help=".jsonl manifests")
    merge.add_argument("--out", metavar="FILE", type=Path, required=True,
                       help="manifest to write (.jsonl)")
    merge.add_argument(
        "--label",
        choices=("given", "quadrant"),
        default="given",
        help="keep the given labels (default) or set quadrant labels",
    )
    merge.add_argument(
        "--prefix-ids",
        choices=("auto", "always", "never"),
        default="auto",
        help="prefix ids with the dataset name: when ids collide (auto), always or never",
    )
    merge.add_argument(
        "--artist-overlap",
        choices=("drop", "move", "keep"),
        default="drop",
        help="an artist in several splits (across the inputs): drop its tracks from the less "
        "held-out splits (default; test sets stay as they are), move them to its most "
        "held-out split (test > validation > train), or keep them",
    )
    merge.set_defaults(func=run_merge)
    return parser


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lexicons",
        metavar="DIR", type=Path, help="folder with the Warriner / NRC-VAD files (tag -> VA)"
    )
    parser.add_argument("--audio-dir", metavar="DIR", type=Path,
                        help="look audio files up in this folder")
    parser.add_argument("--lyrics-dir", metavar="DIR", type=Path,
                        help="look lyrics files up in this folder")


def load_dataset(args: argparse.Namespace, name: str, root: Path) -> list[Track]:
    from moodnet.data.adapters import get_adapter
    from moodnet.labels.lexicon import load_lexicons

    adapter = get_adapter(name)
    lexicons = load_lexicons(args.lexicons) if args.lexicons else None
    return adapter(root, lexicons=lexicons, audio_dir=args.audio_dir, lyrics_dir=args.lyrics_dir)


def _split(tracks: list[Track], args: argparse.Namespace) -> tuple[list[Track], str]:
    from moodnet.data import splits
    from moodnet.errors import ParameterError

    method = args.split
    if method == "auto":
        method = "given" if tracks and all(t.split for t in tracks) else "artist"
    if method == "none":
        return [t.with_(split=None) for t in tracks], method
    if method == "given":
        return splits.apply_split(tracks, splits.given_split(tracks)), method
    if method == "artist":
        assignment = splits.artist_split(tracks, fractions=args.fractions, seed=args.seed)
        path = args.out.with_suffix(".splits.json")
        splits.save_splits(
            assignment, path, method="artist", seed=args.seed, fractions=args.fractions
        )
        print(f"split saved to {path}")
        return splits.apply_split(tracks, assignment), method
    path = Path(method)
    if path.suffix != ".json":
        raise ParameterError(f"--split {method!r}: expected artist, given, none, auto or a .json")
    return splits.apply_split(tracks, splits.load_splits(path)), f"file {path}"


def _print_split_report(tracks: Sequence[Track]) -> None:
    """Counts per split, then how many artists cross splits (0 for an artist-disjoint split)."""
    from moodnet.data.splits import check_artist_disjoint

    _print_counts(tracks)
    shared = check_artist_disjoint(tracks)
    print(
        f"artists in more than one split: {len(shared)}"
        + (f" (e.g. {list(shared)[:8]})" if shared else "")
    )


def _print_counts(tracks: Sequence[Track]) -> None:
    from moodnet.track import SPLITS

    per_split = Counter(t.split for t in tracks)
    labels = sorted({t.label for t in tracks if t.label is not None})
    counts = Counter((t.split, t.label) for t in tracks)
    header = f"{'split':<11}{'tracks':>7}{'VA':>7}{'audio':>7}{'lyrics':>7}" + "".join(
        f"{label:>10}" for label in labels
    )
    print(header)
    for split in (*SPLITS, None):
        if not per_split.get(split):
            continue
        members = [t for t in tracks if t.split == split]
        row = (
            f"{split or '-':<11}{len(members):>7}{sum(t.has_va for t in members):>7}"
            f"{sum(bool(t.audio) for t in members):>7}{sum(t.has_lyrics for t in members):>7}"
        )
        print(row + "".join(f"{counts[(split, label)]:>10}" for label in labels))


def run_manifest(args: argparse.Namespace) -> int:
    from moodnet.data import splits
    from moodnet.data.manifest import write_manifest

    tracks = load_dataset(args, args.dataset, args.root)
    tracks, method = _split(tracks, args)
    out = write_manifest(tracks, args.out)
    print(f"wrote {len(tracks)} tracks to {out} (split: {method})")
    if args.folds:
        folds = splits.artist_folds(tracks, n_folds=args.folds, seed=args.seed)
        path = splits.save_folds(folds, args.out.with_suffix(".folds.json"), seed=args.seed)
        print(
            f"{args.folds} folds saved to {path}: sizes {sorted(Counter(folds.values()).items())}"
        )
    _print_split_report(tracks)
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from moodnet.core import VA_RANGE
    from moodnet.data.adapters import ADAPTERS
    from moodnet.data.manifest import read_manifest
    from moodnet.data.validate import validate
    from moodnet.errors import ParameterError

    if args.root is not None:
        tracks = load_dataset(args, args.source, args.root)
    elif Path(args.source).is_file():
        tracks = read_manifest(args.source)
    else:
        raise ParameterError(f"{args.source}: not a manifest file (give ROOT with a dataset name)")
    names = {t.dataset for t in tracks}
    adapter = ADAPTERS.get(names.pop()) if len(names) == 1 else None
    report = validate(
        tracks,
        check_audio=not args.no_audio,
        check_lyrics=not args.no_lyrics,
        require_audio=args.require_audio,
        require_va=args.require_va,
        va_range=adapter.va_range if adapter else VA_RANGE,
        classes=adapter.classes if adapter else None,
    )
    print(report.format(limit=args.limit))
    return 0 if report.ok else 1


def quadrant_label(track: Track) -> str | None:
    """The track's quadrant: its label when that is Q1..Q4, else the quadrant of its VA."""
    from moodnet.core import QUADRANTS, quadrant_of

    if track.label in QUADRANTS:
        return track.label
    if track.valence is None or track.arousal is None:
        return None
    return quadrant_of(track.valence, track.arousal)


def merge_manifests(
    groups: Sequence[Sequence[Track]],
    *,
    label: str = "given",
    prefix_ids: str = "auto",
    artist_overlap: str = "drop",
) -> list[Track]:
    """Concatenate track lists (splits kept), prefixing ids with the dataset on collisions.

    Parameters
    ----------
    groups : the tracks of each manifest
    label : ``given`` (labels as they are) or ``quadrant`` (see :func:`quadrant_label`)
    prefix_ids : ``auto`` (prefix all ids when any id occurs twice), ``always`` or ``never``
    artist_overlap : for an artist found in several splits: ``drop`` (its tracks in less
        held-out splits get no split), ``move`` (all its tracks go to its most held-out split;
        test > validation > train) or ``keep``

    Returns
    -------
    list[Track]
    """
    from moodnet.errors import DataError

    tracks = [track for group in groups for track in group]
    counts = Counter(t.id for t in tracks)
    prefix = prefix_ids == "always" or (
        prefix_ids == "auto" and max(counts.values(), default=1) > 1
    )
    if prefix:
        tracks = [t.with_(id=f"{t.dataset}_{t.id}" if t.dataset else t.id) for t in tracks]
    duplicates = sorted(i for i, n in Counter(t.id for t in tracks).items() if n > 1)
    if duplicates:
        raise DataError(f"merged manifest: ids occur more than once: {duplicates[:8]}")
    if label == "quadrant":
        tracks = [t.with_(label=quadrant_label(t)) for t in tracks]
    return _resolve_artist_overlap(tracks, artist_overlap) if artist_overlap != "keep" else tracks


def _resolve_artist_overlap(tracks: list[Track], how: str) -> list[Track]:
    from moodnet.data.splits import check_artist_disjoint, normalise_artist
    from moodnet.track import SPLITS

    shared = check_artist_disjoint(tracks)
    held_out = {artist: max(splits, key=SPLITS.index) for artist, splits in shared.items()}
    resolved = []
    for track in tracks:
        target = held_out.get(normalise_artist(track.artist)) if track.artist else None
        if target is not None and track.split != target:
            track = track.with_(split=target if how == "move" else None)
        resolved.append(track)
    return resolved


def run_merge(args: argparse.Namespace) -> int:
    from moodnet.data.manifest import read_manifest, write_manifest

    groups = [read_manifest(path) for path in args.manifests]
    tracks = merge_manifests(
        groups, label=args.label, prefix_ids=args.prefix_ids, artist_overlap=args.artist_overlap
    )
    out = write_manifest(tracks, args.out)
    print(f"wrote {len(tracks)} tracks from {len(groups)} manifests to {out}")
    unsplit = sum(t.split is None for t in tracks)
    if unsplit:
        print(f"{unsplit} tracks left without a split (artist in a more held-out split)")
    _print_split_report(tracks)
    return 0
