"""``moodnet labels``: class counts and chance levels of a label scheme, or tag -> VA coverage.

Examples::

    moodnet labels kmeans16 --manifest runs/mirex.jsonl
    moodnet labels abs16 --dataset deezer --root $MOODNET_DATA/deezer_mood --save abs16.json
    moodnet labels coverage --manifest 4q.jsonl --lexicons $MOODNET_DATA/lexicons --per-tag
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moodnet.labels.lexicon import Lexicons
    from moodnet.labels.schemes import LabelScheme
    from moodnet.labels.tags import TagVA
    from moodnet.track import Track


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "labels",
        help="label schemes (class counts, chance levels) and tag -> VA coverage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "what",
        metavar="SCHEME|coverage",
        help="a label scheme (va, quadrant, kmeans4/16/64, abs4/16/64, given, mirex5) "
        "or 'coverage' for the tag -> VA report",
    )
    parser.add_argument("--manifest", metavar="FILE", type=Path, help="a JSONL manifest")
    parser.add_argument("--dataset", metavar="NAME", help="a dataset adapter name (with --root)")
    parser.add_argument("--root", metavar="DIR", type=Path, help="the dataset folder")
    parser.add_argument("--lexicons", metavar="DIR", type=Path,
                        help="folder with the Warriner / NRC-VAD files")
    parser.add_argument("--seed", metavar="N", type=int, default=0, help="k-means seed (default 0)")
    parser.add_argument(
        "--bounds", default="auto", help="abs grid bounds: auto, unit, zscore, train or LOW,HIGH"
    )
    parser.add_argument("--save", metavar="FILE", type=Path, help="write the fitted scheme as JSON")
    parser.add_argument(
        "--tracks", action="store_true", help="coverage: print every track's step and words"
    )
    parser.add_argument(
        "--per-tag", action="store_true", help="coverage: print every distinct tag's VA and words"
    )
    parser.set_defaults(func=run)
    return parser


def _tracks(args: argparse.Namespace) -> list[Track]:
    from moodnet.data.adapters import get_adapter
    from moodnet.data.manifest import read_manifest
    from moodnet.errors import ParameterError
    from moodnet.labels.lexicon import load_lexicons

    if args.manifest is not None:
        return read_manifest(args.manifest)
    if args.dataset is None or args.root is None:
        raise ParameterError("give --manifest, or --dataset with --root")
    lexicons = load_lexicons(args.lexicons) if args.lexicons and args.what != "coverage" else None
    return get_adapter(args.dataset)(args.root, lexicons=lexicons)


def run(args: argparse.Namespace) -> int:
    tracks = _tracks(args)
    if args.what == "coverage":
        return run_coverage(tracks, args)
    return run_scheme(tracks, args)


def _scheme_options(args: argparse.Namespace) -> dict[str, object]:
    if args.what.startswith("kmeans"):
        return {"seed": args.seed}
    if args.what.startswith("abs"):
        bounds = args.bounds
        if "," in bounds:
            return {"bounds": tuple(float(b) for b in bounds.split(","))}
        return {"bounds": bounds}
    return {}


def run_scheme(tracks: list[Track], args: argparse.Namespace) -> int:
    import numpy as np

    from moodnet.data.manifest import by_split
    from moodnet.errors import DataError
    from moodnet.io_utils import atomic_write_text
    from moodnet.labels.schemes import chance_levels, make_scheme
    from moodnet.track import SPLITS

    scheme = make_scheme(args.what, **_scheme_options(args))
    parts = {s: by_split(tracks, s) for s in SPLITS}
    if not parts["train"]:
        raise DataError("no training tracks: build the manifest with a split first")
    scheme.fit_tracks(parts["train"])
    print(f"scheme {scheme.name} ({scheme.kind}); fitted on {len(parts['train'])} train tracks")
    if args.save:
        atomic_write_text(args.save, json.dumps(scheme.to_json(), indent=1) + "\n")
        print(f"saved to {args.save}")
    if scheme.kind == "regression":
        for split, members in parts.items():
            if members:
                va = scheme.assign_tracks(members)
                mean, sd = va.mean(0).round(3), va.std(0).round(3)
                print(f"{split:<11}{len(members):>7}  mean {mean}  sd {sd}")
        return 0
    _describe_scheme(scheme)
    labels = {s: scheme.assign_tracks(m) for s, m in parts.items() if m}
    k = scheme.n_classes
    print(f"{'class':<10}" + "".join(f"{s:>12}" for s in labels))
    counts = {s: np.bincount(ids, minlength=k) for s, ids in labels.items()}
    for i, name in enumerate(scheme.class_names):
        centre = (
            ""
            if scheme.centres is None
            else f"  ({scheme.centres[i, 0]:+.2f}, {scheme.centres[i, 1]:+.2f})"
        )
        print(f"{name:<10}" + "".join(f"{counts[s][i]:>12}" for s in labels) + centre)
    print(f"{'empty':<10}" + "".join(f"{int((counts[s] == 0).sum()):>12}" for s in labels))
    for split in ("validation", "test"):
        if split in labels:
            levels = chance_levels(labels["train"], labels[split], k)
            majority_name = scheme.class_names[levels.majority_class]
            print(
                f"chance on {split}: majority (train class {majority_name}) "
                f"{levels.majority:.3f}, uniform {levels.uniform:.3f}, "
                f"{split} majority {levels.eval_majority:.3f}"
            )
    return 0


def _describe_scheme(scheme: LabelScheme) -> None:
    state = scheme.state()
    details = {k: v for k, v in state.items() if k not in ("class_names", "centres")}
    if details or scheme.options():
        print("options", scheme.options(), "state", details)


def _agreement(tracks: list[Track], results: list[TagVA]) -> None:
    import numpy as np

    from moodnet.core import QUADRANTS, quadrant_ids

    labelled = [
        (t, r) for t, r in zip(tracks, results, strict=True) if t.label and r.valence is not None
    ]
    if not labelled:
        return
    by_label: dict[str, list[tuple[float, float, str]]] = {}
    for track, result in labelled:
        if result.valence is None or result.arousal is None:
            continue
        by_label.setdefault(str(track.label), []).append(
            (result.valence, result.arousal, result.step)
        )
    print("tag-derived VA per given label (lexicon steps only; quadrant counts Q1 Q2 Q3 Q4):")
    for label, values in sorted(by_label.items()):
        lexical = np.array([(v, a) for v, a, step in values if step in ("warriner", "nrc")])
        if not len(lexical):
            print(f"  {label:<10} no lexicon-derived VA")
            continue
        quadrants = np.bincount(quadrant_ids(lexical), minlength=4)
        mean = lexical.mean(axis=0)
        print(
            f"  {label:<10} n {len(lexical):>4}  mean V {mean[0]:+.3f} A {mean[1]:+.3f}  "
            f"quadrants {quadrants.tolist()}"
        )
    if set(by_label) <= set(QUADRANTS):
        for steps, title in (
            (("warriner", "nrc"), "lexicon steps"),
            (("warriner", "nrc", "prior"), "all"),
        ):
            chosen = [(t, r) for t, r in labelled if r.step in steps]
            if not chosen:
                continue
            va = np.array([(r.valence, r.arousal) for _, r in chosen])
            given = np.array([QUADRANTS.index(str(t.label)) for t, _ in chosen])
            predicted = quadrant_ids(va)
            accuracy = float((predicted == given).mean())
            v_acc = float(((va[:, 0] > 0) == np.isin(given, (0, 3))).mean())
            a_acc = float(((va[:, 1] > 0) == np.isin(given, (0, 1))).mean())
            print(
                f"quadrant of tag VA vs given quadrant ({title}, n={len(chosen)}): "
                f"accuracy {accuracy:.3f} (valence sign {v_acc:.3f}, arousal sign {a_acc:.3f})"
            )
            matrix = np.zeros((4, 4), dtype=int)
            np.add.at(matrix, (given, predicted), 1)
            print(
                "  confusion (rows given Q1..Q4, columns from tags Q1..Q4): " + str(matrix.tolist())
            )


def _per_tag(tracks: list[Track], lexicons: Lexicons) -> None:
    from moodnet.labels.tags import tag_va

    counts = Counter(tag for t in tracks for tag in t.tags)
    labels: dict[str, Counter[str]] = {}
    for track in tracks:
        for tag in track.tags:
            labels.setdefault(tag, Counter())[str(track.label)] += 1
    print("tag\ttracks\tlabels\tvalence\tarousal\twords")
    for tag in sorted(counts, key=str.lower):
        result = tag_va(tag, lexicons=lexicons)
        va = "-\t-" if result.valence is None else f"{result.valence:+.3f}\t{result.arousal:+.3f}"
        words = ", ".join(f"{m.word}->{m.form}[{m.source}]" for m in result.matched)
        missing = " ".join(f"{w}[missing]" for w in result.missing)
        top = ",".join(label for label, _ in labels[tag].most_common(2))
        print(f"{tag}\t{counts[tag]}\t{top}\t{va}\t{' '.join(p for p in (words, missing) if p)}")


def run_coverage(tracks: list[Track], args: argparse.Namespace) -> int:
    from moodnet.errors import ParameterError
    from moodnet.labels.lexicon import load_lexicons
    from moodnet.labels.tags import tags_to_va

    if args.lexicons is None:
        raise ParameterError("coverage needs --lexicons DIR")
    lexicons = load_lexicons(args.lexicons)
    print(
        f"lexicons: warriner {len(lexicons.warriner)} words"
        + (f", nrc {len(lexicons.nrc)} words" if lexicons.nrc is not None else "")
    )
    results, report = tags_to_va(tracks, lexicons=lexicons)
    print(report.format())
    tag_counts = Counter(tag for t in tracks for tag in t.tags)
    print(f"distinct tags {len(tag_counts)}; tracks with tags {sum(bool(t.tags) for t in tracks)}")
    _agreement(tracks, results)
    if args.per_tag:
        _per_tag(tracks, lexicons)
    if args.tracks:
        for result in results:
            words = ", ".join(f"{m.word}->{m.form}[{m.source}]" for m in result.matched)
            missing = ", ".join(result.missing)
            va = "-" if result.valence is None else f"{result.valence:+.3f} {result.arousal:+.3f}"
            print(f"{result.id}\t{result.step}\t{va}\t{words}\tmissing: {missing or '-'}")
    return 0
