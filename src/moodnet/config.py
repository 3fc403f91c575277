"""Typed configuration: dataclasses read from and written to YAML, with dotted overrides.

A config is a (possibly nested) dataclass. ``load_config(Cls, path, overrides=["a.b=3"])``
reads YAML, applies ``key=value`` overrides (values parsed as YAML) and builds the
dataclass, rejecting unknown keys with a :class:`~moodnet.errors.ConfigError`.

A field may be typed with a tagged union's base class (``moodnet.models.config.ModelConfig``):
a class with a ``from_tagged(data, where=...)`` classmethod is read by it, and an instance
with a ``to_tagged()`` method is written by it (``{"name": ..., **fields}``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from moodnet.errors import ConfigError

T = TypeVar("T")
CONFIGS_FOLDER = "configs"
"""Folder of the packaged YAML configs inside the ``moodnet`` package."""


def to_dict(config: Any) -> dict[str, Any]:
    """Turn a config dataclass into plain YAML/JSON-able data (tuples become lists)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ConfigError(f"not a config dataclass instance: {config!r}")
    plain: dict[str, Any] = _plain(config)
    return plain


def _plain(value: Any) -> Any:
    tagged = getattr(value, "to_tagged", None)
    if callable(tagged):
        return _plain(tagged())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: _plain(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Build dataclass ``cls`` from a mapping, recursing into nested dataclass fields."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown key(s) {unknown}; known: {sorted(names)}")
    kwargs = {
        key: coerce_value(hints[key], value, f"{cls.__name__}.{key}")
        for key, value in data.items()
    }
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{cls.__name__}: {exc}") from exc


def coerce_value(hint: Any, value: Any, where: str) -> Any:
    """``value`` read from YAML/JSON as the type ``hint`` (nested dataclasses built, lists
    made tuples, numbers written as strings made floats); ``where`` names it in errors."""
    origin = typing.get_origin(hint)
    parse = getattr(hint, "from_tagged", None)
    if isinstance(hint, type) and callable(parse):
        return parse(value, where=where)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_dict(hint, value)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return coerce_value(args[0], value, where) if len(args) == 1 else value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        hint_args = typing.get_args(hint)
        inner = hint_args[0] if hint_args else Any
        return tuple(coerce_value(inner, v, where) for v in value)
    if hint is float and isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return float(value)  # YAML 1.1 reads "1e-3" as a string
        except ValueError as exc:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from exc
    if hint is Path and isinstance(value, str):
        return Path(value)
    return value


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides to nested ``data`` (in place) and return it."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
        node[leaf] = yaml.safe_load(raw)
    return data


def packaged_configs() -> dict[str, Path]:
    """The configs shipped inside the package (``moodnet/configs/*.yaml``): name -> file."""
    from importlib.resources import files

    folder = Path(str(files("moodnet").joinpath(CONFIGS_FOLDER)))
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def find_config(name_or_path: str | Path) -> Path:
    """A config file: an existing path as given, else a packaged config by name.

    Parameters
    ----------
    name_or_path : a YAML file, or the name of one of :func:`packaged_configs`
        (``paper_audio`` or ``paper_audio.yaml``)

    Raises
    ------
    ConfigError
        Neither an existing file nor a packaged config's name.
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    known = packaged_configs()
    name = path.name[: -len(".yaml")] if path.name.endswith(".yaml") else path.name
    if path.parent == Path(".") and name in known:
        return known[name]
    raise ConfigError(
        f"{name_or_path}: no such config file, nor a config shipped with moodnet "
        f"({', '.join(known)})"
    )


def load_config(
    cls: type[T], path: str | Path | None = None, *, overrides: Iterable[str] = ()
) -> T:
    """Read YAML ``path`` (or start from defaults) into ``cls`` after applying overrides.

    ``path`` is a file or the name of a packaged config (see :func:`find_config`).
    """
    data: dict[str, Any] = {}
    if path is not None:
        path = find_config(path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML ({exc})") from exc
        data = loaded or {}
    return from_dict(cls, apply_overrides(data, overrides))
