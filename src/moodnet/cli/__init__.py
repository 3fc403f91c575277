"""The ``moodnet`` command line: one module per subcommand, listed in ``SUBCOMMANDS``.

Each subcommand module defines ``add_parser(subparsers) -> argparse.ArgumentParser`` which
registers itself and sets ``func`` (``args -> exit code``). Heavy imports happen inside ``func``
so that ``moodnet --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Iterator, Sequence

from moodnet.core import DEFAULT_DEVICE
from moodnet.errors import MoodnetError
from moodnet.version import __version__

# subcommand name -> module under moodnet.cli
SUBCOMMANDS: dict[str, str] = {
    "data": "data_cmd",
    "labels": "labels_cmd",
    "extract": "extract_cmd",
    "train": "train_cmd",
    "evaluate": "evaluate_cmd",
    "table": "table_cmd",
    "predict": "predict_cmd",
    "demo": "demo_cmd",
    "serve": "serve_cmd",
    "tag": "tag_cmd",
    "playlist": "playlist_cmd",
}


def add_overrides_option(parser: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable) into ``args.overrides``, for commands reading a config."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value (dotted key, YAML value); repeatable",
    )


def add_device_option(parser: argparse.ArgumentParser) -> None:
    """``--device`` into ``args.device`` (default :data:`moodnet.core.DEFAULT_DEVICE`)."""
    parser.add_argument(
        "--device",
        default=DEFAULT_DEVICE,
        help=f"auto (CUDA when present, else CPU), cpu or cuda (default: {DEFAULT_DEVICE})",
    )


@contextlib.contextmanager
def _torch_threads_kept() -> Iterator[None]:
    """Commands set torch to one thread for the process (``one_torch_thread``); a caller that
    runs :func:`main` in its own process (tests, notebooks) gets its setting back."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        if torch is not None and before is not None:
            torch.set_num_threads(before)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moodnet",
        description="Music mood on the valence/arousal plane from audio and lyrics.",
    )
    parser.add_argument("--version", action="version", version=f"moodnet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMANDS.values():
        importlib.import_module(f"moodnet.cli.{module_name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with _torch_threads_kept():
            return int(args.func(args) or 0)
    except MoodnetError as exc:
        print(f"moodnet {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"moodnet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
