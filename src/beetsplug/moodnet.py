"""beets plugin: the mood of library items as flexible attributes (``pip install moodnet[beets]``).

Enable it in beets' ``config.yaml``::

    plugins: moodnet
    moodnet:
        model: null        # shipped model name or training run directory (null: the default)
        write_tags: no     # also write MOOD, VALENCE, ... into the files (docs/tags.md)
        lyrics: yes        # give the model the items' lyrics field when it has one
        device: auto

``beet moodnet [QUERY]`` predicts the items matching ``QUERY`` and stores ``mood`` (happy,
tense, sad or calm), ``valence`` and ``arousal`` (floats on [-1, 1]), ``mood_quadrant`` (Q1..Q4)
and ``moodnet_model`` (which model and version) on each, so that ``beet ls mood:calm`` or
``beet ls valence:0.5..`` find them. Items already done by the same model version are skipped
(``--force`` redoes them). The values are those ``moodnet tag`` writes, from the same code.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

from beets import dbcore, ui
from beets.plugins import BeetsPlugin

FIELDS = {
    "MOOD": "mood",
    "VALENCE": "valence",
    "AROUSAL": "arousal",
    "MOOD_QUADRANT": "mood_quadrant",
    "MOODNET_MODEL": "moodnet_model",
}
"""moodnet tag key -> beets flexible attribute."""
FLOAT_FIELDS = ("valence", "arousal")


class MoodnetPlugin(BeetsPlugin):
    """``beet moodnet``: predicted mood stored as flexible attributes."""

    item_types: ClassVar[dict[str, Any]] = {
        "mood": dbcore.types.STRING,
        "valence": dbcore.types.FLOAT,
        "arousal": dbcore.types.FLOAT,
        "mood_quadrant": dbcore.types.STRING,
        "moodnet_model": dbcore.types.STRING,
    }

    def __init__(self) -> None:
        super().__init__()
        self.config.add({"model": None, "write_tags": False, "lyrics": True, "device": "auto"})

    def commands(self) -> list[ui.Subcommand]:
        command = ui.Subcommand("moodnet", help="predict the mood of items (valence, arousal, "
                                "mood, mood_quadrant)")
        command.parser.add_option("-f", "--force", action="store_true", default=False,
                                  help="also redo items done by this model version")
        command.parser.add_option("-w", "--write-tags", dest="write_tags", action="store_true",
                                  default=None, help="also write the mood tags into the files")
        command.parser.add_option("-p", "--pretend", action="store_true", default=False,
                                  help="show what would be stored; change nothing")
        command.parser.add_option("-m", "--model", dest="model", default=None,
                                  help="shipped model name or training run directory")
        command.func = self._command
        return [command]

    def _command(self, lib: Any, opts: Any, args: Sequence[str]) -> None:
        from moodnet.errors import MoodnetError

        write_tags = self.config["write_tags"].get(bool) if opts.write_tags is None else True
        try:
            failed = self.predict_items(
                list(lib.items(args)), model=opts.model or self.config["model"].get(),
                force=opts.force, write_tags=write_tags and not opts.pretend,
                pretend=opts.pretend,
            )
        except MoodnetError as exc:
            raise ui.UserError(f"moodnet: {exc}") from exc
        if failed:
            raise ui.UserError(f"moodnet: {failed} item(s) failed")

    def predict_items(
        self, items: Sequence[Any], *, model: str | None, force: bool, write_tags: bool,
        pretend: bool = False,
    ) -> int:
        """Predict ``items`` and store the mood on them; returns how many failed.

        Parameters
        ----------
        items : beets library items
        model : shipped model name or run directory (None: the default)
        force : redo items whose ``moodnet_model`` is this model's
        write_tags : also write the tags into the files (:func:`moodnet.tagging.tag_files`)
        pretend : print what would be stored, change nothing
        """
        from moodnet.predict import Predictor
        from moodnet.tagging import FAILED, model_id, predict_and_tag, tag_files

        predictor = Predictor.load(model, device=self.config["device"].as_str())
        model_name = model_id(predictor)
        todo = {_path(item): item for item in items
                if force or item.get("moodnet_model") != model_name}
        self._log.info("{} item(s) to predict, {} already done by {}",
                       len(todo), len(items) - len(todo), model_name)
        lyrics = {path: str(item.lyrics) for path, item in todo.items()
                  if self.config["lyrics"].get(bool) and str(item.get("lyrics") or "").strip()}
        outcomes = (tag_files(predictor, list(todo), write=True, lyrics=lyrics, force=True)
                    if write_tags else
                    predict_and_tag(predictor, list(todo), model=model_name, write=False,
                                    lyrics=lyrics))
        failed = 0
        for outcome in outcomes:
            if outcome.status == FAILED:
                failed += 1
                self._log.warning("{}: {}", outcome.path, outcome.problem)
            if outcome.values:  # predicted, even if its file could not be tagged
                _store(todo[outcome.path], outcome.values, pretend=pretend)
        return failed


def _path(item: Any) -> str:
    return os.fsdecode(item.path)


def _store(item: Any, values: dict[str, str], *, pretend: bool) -> None:
    fields = {FIELDS[key]: (float(value) if FIELDS[key] in FLOAT_FIELDS else value)
              for key, value in values.items()}
    ui.print_(f"{item}: " + "  ".join(f"{k}={v}" for k, v in fields.items()))
    if pretend:
        return
    item.update(fields)
    item.store()
