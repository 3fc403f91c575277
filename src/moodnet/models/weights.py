"""Weights files checked before anything is built or read in full.

A checkpoint's weights must match its config: the names, shapes and dtypes of the model's
state dict are taken from a build on PyTorch's ``meta`` device (no memory), the safetensors
header (8-byte length, JSON) is read and checked against them and against the file's size,
and only then are the tensors read. A truncated or random file, a tensor of another shape
and a pickled model (``torch.save(model)``) are one-line :class:`CheckpointError` s.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moodnet.errors import CheckpointError

if TYPE_CHECKING:
    import torch

    from moodnet.models.config import ModelConfig

MAX_HEADER_BYTES = 16 << 20
"""Largest safetensors header read (a moodnet model's header is a few kB)."""

_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
             "U8": 1, "BOOL": 1}

Expected = dict[str, tuple[int, ...]]


def expected_shapes(config: ModelConfig) -> Expected:
    """Tensor names and shapes of the state dict of ``build_model(config)``, allocation-free.

    Returns
    -------
    shapes : dict of str to tuple of int
    """
    import torch

    from moodnet.models import build_model

    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")  # loading the frozen musicnn into meta tensors
        model = build_model(config)
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}


def read_safetensors_header(path: Path) -> tuple[dict[str, Any], int]:
    """The tensor entries of a safetensors file's header and the size of its data part.

    Raises
    ------
    CheckpointError
        The file is too short, its header length does not fit the file or the header is not
        a JSON object.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            length = int.from_bytes(head, "little") if len(head) == 8 else -1
            if not 2 <= length <= min(MAX_HEADER_BYTES, size - 8):
                raise CheckpointError(
                    f"{path}: not a safetensors file or truncated (header length {length}, "
                    f"file {size} bytes)"
                )
            header = json.loads(handle.read(length))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: safetensors header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: safetensors header is not a JSON object")
    header.pop("__metadata__", None)
    return header, size - 8 - length


def check_safetensors(path: Path, expected: Expected) -> None:
    """Refuse a safetensors file whose header does not match ``expected`` or its own size.

    Raises
    ------
    CheckpointError
        Names, shapes, dtypes or data offsets do not match (the message names the tensor).
    """
    header, data_size = read_safetensors_header(path)
    _check_names(path, set(header), expected)
    for name, entry in header.items():
        _check_entry(path, name, entry, expected[name], data_size)


def _check_names(path: Path, names: set[str], expected: Expected) -> None:
    missing, extra = sorted(set(expected) - names), sorted(names - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{path}: weights do not load into the model config (missing: "
            f"{', '.join(missing[:3]) or '-'}; unexpected: {', '.join(extra[:3]) or '-'})"
        )


def _check_entry(
    path: Path, name: str, entry: object, shape: tuple[int, ...], data_size: int
) -> None:
    if not isinstance(entry, dict):
        raise CheckpointError(f"{path}: header entry {name} is not an object")
    dtype, offsets = entry.get("dtype"), entry.get("data_offsets") or []
    if dtype not in _ITEMSIZE:
        raise CheckpointError(f"{path}: {name} has dtype {dtype!r}, not a number type")
    if entry.get("shape") != list(shape):
        raise CheckpointError(
            f"{path}: weights do not load into the model config: {name} has shape "
            f"{entry.get('shape')}, the config gives {list(shape)}"
        )
    nbytes = math.prod(shape) * _ITEMSIZE[dtype]
    valid = (isinstance(offsets, list) and len(offsets) == 2
             and all(isinstance(x, int) and not isinstance(x, bool) for x in offsets))
    begin, end = (offsets[0], offsets[1]) if valid else (0, -1)
    if not 0 <= begin <= end <= data_size:
        raise CheckpointError(f"{path}: {name} lies outside the file (truncated?)")
    if end - begin != nbytes:
        raise CheckpointError(f"{path}: {name} holds {end - begin} bytes, its shape needs {nbytes}")


def load_state(path: Path, expected: Expected) -> dict[str, torch.Tensor]:
    """Read checked weights: ``model.safetensors``, or a weights-only ``model.pt``.

    Raises
    ------
    CheckpointError
        The file does not match ``expected`` or does not load (a pickled model included).
    """
    if path.suffix == ".safetensors":
        check_safetensors(path, expected)
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:  # a file changed under us, or a format corner
            raise CheckpointError(f"{path}: weights do not load ({_first_line(exc)})") from None
    return _load_torch(path, expected)


def _load_torch(path: Path, expected: Expected) -> dict[str, torch.Tensor]:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, zip errors ...
        raise CheckpointError(
            f"{path}: not a weights-only state dict (a pickled model? moodnet reads weights "
            f"only: {_first_line(exc)})"
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise CheckpointError(f"{path}: not a state dict of tensors")
    _check_names(path, set(state), expected)
    for name, tensor in state.items():
        if tuple(tensor.shape) != expected[name]:
            raise CheckpointError(
                f"{path}: weights do not load into the model config: {name} has shape "
                f"{list(tensor.shape)}, the config gives {list(expected[name])}"
            )
    return state


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
