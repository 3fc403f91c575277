"""The ``moodnet`` command line: one module per subcommand, listed in ``SUBCOMMANDS``.

Each subcommand module defines ``add_parser(subparsers) -> argparse.ArgumentParser`` which
registers itself and sets ``func`` (``args -> exit code``). Heavy imports happen inside ``func``
so that ``moodnet --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import re
import sys
from collections.abc import Iterator, Sequence

from moodnet.core import DEFAULT_DEVICE, keep_heap_for_arrays
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


_RST_ROLE = re.compile(r":(?:func|class|meth|data|mod|attr):`~?([^`]+)`")


def plain_help(text: str | None) -> str | None:
    """Help text without reStructuredText: ````x```` and ``:func:`x``` become ``x``, a
    paragraph's closing ``::`` one ``:`` (``Examples::`` -> ``examples:``)."""
    if text is None:
        return None
    text = _RST_ROLE.sub(r"\1", text).replace("``", "")
    text = re.sub(r"^Examples::$", "examples:", text, flags=re.MULTILINE)
    return re.sub(r"::$", ":", text, flags=re.MULTILINE)


def _plain_subparsers(parser: argparse.ArgumentParser) -> None:
    """:func:`plain_help` over the descriptions and epilogs of every (nested) subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.description = plain_help(sub.description)
                sub.epilog = plain_help(sub.epilog)
                _plain_subparsers(sub)


def did_you_mean(argv: Sequence[str]) -> str | None:
    """The usage error for a mistyped subcommand (``moodnet predcit``), None when the command
    is known or absent: names the close ones (difflib) or lists them all."""
    word = next((a for a in argv if not a.startswith("-")), None)
    if word is None or word in SUBCOMMANDS or any(a in ("-h", "--help", "--version")
                                                  for a in argv[: argv.index(word)]):
        return None
    close = difflib.get_close_matches(word, list(SUBCOMMANDS), n=3, cutoff=0.6)
    if close:
        return f"unknown command {word!r}; did you mean {' or '.join(close)}?"
    return f"unknown command {word!r}; the commands are {', '.join(SUBCOMMANDS)}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moodnet",
        description="Music mood on the valence/arousal plane from audio and lyrics.",
    )
    parser.add_argument("--version", action="version", version=f"moodnet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMANDS.values():
        importlib.import_module(f"moodnet.cli.{module_name}").add_parser(subparsers)
    _plain_subparsers(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    mistyped = did_you_mean(sys.argv[1:] if argv is None else list(argv))
    if mistyped is not None:
        parser.error(mistyped)
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for results that record it
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if argv is None:  # the console command (not a call from Python): no decoder chatter
        from moodnet.audio.io import silence_native_stderr

        silence_native_stderr()
        keep_heap_for_arrays()
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
