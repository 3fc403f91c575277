"""Rerun a small, fast part of a committed results table and compare it with the committed figures.

The full tables take minutes to tens of minutes on two cores (``scripts/reproduce_tables.sh``);
this reruns only the cells asked for (default: the MIREX table's lyrics-only VA cell, about 30 s
with building the manifest, and no feature extraction: lyrics cells read no audio) with the
very command the table was made with, and compares every number of those cells in
``results.json`` (values, confidence intervals, chance levels, best epoch) with the committed
file. Audio cells extract the table's features first (about 20 s for the MIREX-like clips, or
reuse ``--cache``). A code change that moves a committed figure shows up here::

    MOODNET_DATA=../shared/data python scripts/check_results.py
    MOODNET_DATA=../shared/data python scripts/check_results.py --cell kmeans4:lyrics \\
        --cell va:audio --cache work/cache

Exit status: 0 when every compared number agrees within ``--tolerance``, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "results"
TABLES = {
    # table folder -> (dataset adapter, folder under $MOODNET_DATA, extra `moodnet table` args);
    # as in scripts/reproduce_tables.sh
    "mirex": ("mirex", "mirex_multimodal", ["--set", "data.lexicon_dir={lex}/warriner2013"]),
}
NO_AUDIO = ("lyrics", "svm_lyrics")
MODALITIES = ("audio", "lyrics", "bimodal", "late", "svm_audio", "svm_lyrics")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", choices=sorted(TABLES), default="mirex")
    parser.add_argument(
        "--cell", action="append", metavar="SCHEME:MODALITY",
        help=f"a cell to rerun (repeatable; default va:lyrics); modalities: "
        f"{', '.join(MODALITIES)}",
    )  # fmt: skip
    parser.add_argument("--cache", type=Path, help="feature cache for audio cells (default: "
                        "extracted into the work folder)")  # fmt: skip
    parser.add_argument("--data", type=Path, help="shared data folder (default: $MOODNET_DATA)")
    parser.add_argument("--work", type=Path, help="folder for the manifest and the rerun table "
                        "(default: a temporary folder)")  # fmt: skip
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-6,
        help="largest absolute difference accepted (default 1e-6: reruns differ by float32 "
        "rounding, about 1e-8; the tables print 3 decimals)",
    )
    args = parser.parse_args(argv)
    args.cell = args.cell or ["va:lyrics"]
    for cell in args.cell:
        scheme, _, modality = cell.partition(":")
        if not scheme or modality not in MODALITIES:
            parser.error(f"--cell {cell}: expected SCHEME:MODALITY with MODALITY in {MODALITIES}")
    data = args.data or (Path(os.environ["MOODNET_DATA"]) if "MOODNET_DATA" in os.environ else None)
    if data is None or not data.is_dir():
        parser.error("pass --data or set MOODNET_DATA to the shared data folder")
    args.data = data.resolve()
    return args


def rerun(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Build the manifest and rerun the cells with ``moodnet table``; its results.json."""
    from moodnet.cli import main

    adapter, folder, extra = TABLES[args.table]
    lexicons = args.data / "lexicons"
    manifest = work / f"{args.table}.jsonl"
    code = main(["data", "manifest", adapter, str(args.data / folder), "--lexicons", str(lexicons),
                 "--split", "artist", "--seed", "0", "--out", str(manifest)])  # fmt: skip
    if code != 0:
        raise SystemExit(f"check_results: building {manifest} failed")
    schemes = sorted({cell.split(":")[0] for cell in args.cell})
    modalities = sorted({cell.split(":")[1] for cell in args.cell})
    out = work / "table"
    extra = [arg.format(lex=lexicons) for arg in extra]
    cache = args.cache or work / "cache"
    if set(modalities) - set(NO_AUDIO) and main(["extract", str(manifest), "--cache", str(cache)]):
        raise SystemExit("check_results: moodnet extract failed")
    code = main(["table", "--manifest", str(manifest), "--cache", str(cache),
                 "--config", "table", "--out", str(out), "--schemes", *schemes,
                 "--modalities", *modalities, *extra])  # fmt: skip
    if code != 0:
        raise SystemExit("check_results: moodnet table failed")
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def cell_of(results: dict[str, Any], scheme: str, modality: str) -> dict[str, Any]:
    for cell in results["cells"]:
        if cell["scheme"] == scheme and cell["modality"] == modality:
            return {key: value for key, value in cell.items() if key != "seconds"}
    raise SystemExit(f"check_results: no cell {scheme}:{modality} in the results")


def differences(committed: Any, rerun: Any, *, tolerance: float, where: str = "") -> Iterator[str]:
    """Every leaf where the two JSON trees differ (numbers: by more than ``tolerance``)."""
    if isinstance(committed, dict) and isinstance(rerun, dict):
        for key in sorted(set(committed) | set(rerun)):
            yield from differences(committed.get(key), rerun.get(key), tolerance=tolerance,
                                   where=f"{where}.{key}")  # fmt: skip
    elif isinstance(committed, list) and isinstance(rerun, list) and len(committed) == len(rerun):
        for i, (a, b) in enumerate(zip(committed, rerun, strict=True)):
            yield from differences(a, b, tolerance=tolerance, where=f"{where}[{i}]")
    elif _number(committed) and _number(rerun):
        if not math.isclose(committed, rerun, rel_tol=0.0, abs_tol=tolerance):
            yield f"{where}: committed {committed!r}, rerun {rerun!r}"
    elif committed != rerun:
        yield f"{where}: committed {committed!r}, rerun {rerun!r}"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def headline(cell: dict[str, Any]) -> str:
    """Test R² (valence, arousal) or test accuracy of a cell, as the table shows it."""
    test = cell["evaluations"]["test"]
    if test.get("regression"):
        dims = {d["name"]: d["r2"]["value"] for d in test["regression"]["dimensions"]}
        return f"test R² valence {dims['valence']:.4f}, arousal {dims['arousal']:.4f}"
    return f"test accuracy {test['classification']['accuracy']['value']:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    committed = json.loads((RESULTS / args.table / "results.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="moodnet-check-") as scratch:
        work = (args.work or Path(scratch)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        results = rerun(args, work)
    failed = False
    if committed["meta"]["n_tracks"] != results["meta"]["n_tracks"]:
        print(f"tracks per split: committed {committed['meta']['n_tracks']}, "
              f"rerun {results['meta']['n_tracks']}")  # fmt: skip
        failed = True
    for cell in args.cell:
        scheme, _, modality = cell.partition(":")
        old, new = cell_of(committed, scheme, modality), cell_of(results, scheme, modality)
        found = list(differences(old, new, tolerance=args.tolerance))
        print(f"{args.table} {cell}: committed {headline(old)}; rerun {headline(new)}: "
              f"{'the same' if not found else f'{len(found)} numbers differ'}")  # fmt: skip
        for line in found[:20]:
            print(f"  {line}")
        failed |= bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
