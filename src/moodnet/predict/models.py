"""Which model a name means: the models shipped inside the package, or a run directory."""

from __future__ import annotations

from pathlib import Path

from moodnet.errors import CheckpointError

MODELS: dict[str, str] = {
    "default": "assets/models/default",
    "musicnn-head": "assets/models/musicnn_head",
}
"""Names of shipped models -> folder inside the ``moodnet`` package."""


def resolve_model_dir(name_or_dir: str | Path | None) -> Path:
    """The checkpoint folder of a shipped model name (default when None) or a run directory.

    Raises
    ------
    CheckpointError
        Neither a known name nor a folder holding ``checkpoint.json``.
    """
    from importlib.resources import files

    key = "default" if name_or_dir is None else str(name_or_dir)
    if key in MODELS:
        folder = Path(str(files("moodnet").joinpath(MODELS[key])))
        if not (folder / "checkpoint.json").is_file():
            raise CheckpointError(
                f"the shipped model {key!r} is missing from this installation ({folder}); "
                "train one and pass its run directory instead"
            )
        return folder
    folder = Path(key).expanduser()
    if not folder.is_dir():
        raise CheckpointError(
            f"{folder}: not a model name ({', '.join(sorted(MODELS))}) nor a run directory"
        )
    if not (folder / "checkpoint.json").is_file():
        raise CheckpointError(f"{folder}: no checkpoint.json in this run directory")
    return folder.resolve()
