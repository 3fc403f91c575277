"""Reading and setting the mood tags in each container's own metadata, with mutagen.

* ID3 (MP3, WAV, AIFF): one ``TXXX`` frame per key (``TXXX:MOOD``, ``TXXX:VALENCE``, ...) and,
  in ID3v2.4 tags, the standard mood frame ``TMOO``; a file's ID3v2.3 tag stays v2.3
  (which has no ``TMOO``).
* Vorbis comments (FLAC, Ogg Vorbis, Opus, Ogg FLAC, Speex): the keys as field names.
* MP4 (M4A, MP4): freeform atoms ``----:com.apple.iTunes:<KEY>``, UTF-8.

Other tags in the file are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moodnet.errors import TagError
from moodnet.tagging.keys import MOOD, TAG_KEYS

MP4_PREFIX = "----:com.apple.iTunes:"


def open_audio(path: Path) -> Any:
    """The file opened by mutagen, with an (empty) tag block added when it had none.

    Raises
    ------
    TagError
        mutagen does not know the format, the file is damaged, or it has no tag kind this
        module writes.
    """
    import mutagen

    try:
        audio = mutagen.File(path)
    except mutagen.MutagenError as exc:
        raise TagError(path, "cannot read its metadata: the file looks damaged or is not the "
                       f"format its name says{_reason(exc)}") from exc
    if audio is None:
        raise TagError(path, "not an audio format moodnet can tag (MP3, FLAC, Ogg, Opus, M4A, "
                       "WAV, AIFF)")
    if audio.tags is None:
        audio.add_tags()
    _kind(audio, path)
    return audio


def read_mood_tags(audio: Any) -> dict[str, str]:
    """The mood keys present in an opened file, key -> first value (absent keys left out)."""
    kind = _kind(audio, Path(str(audio.filename)))
    tags = audio.tags
    found: dict[str, str] = {}
    for key in TAG_KEYS:
        if kind == "id3":
            frame = tags.get(f"TXXX:{key}") or (tags.get("TMOO") if key == MOOD else None)
            value = str(frame.text[0]) if frame is not None and frame.text else None
        elif kind == "mp4":
            atoms = tags.get(MP4_PREFIX + key)
            value = bytes(atoms[0]).decode("utf-8", "replace") if atoms else None
        else:
            values = tags.get(key)
            value = str(values[0]) if values else None
        if value is not None:
            found[key] = value
    return found


def set_mood_tags(audio: Any, values: Mapping[str, str]) -> None:
    """Put ``values`` (key -> text) into an opened file's tags, replacing earlier values of
    the same keys, and save it (in place)."""
    kind = _kind(audio, Path(str(audio.filename)))
    if kind == "id3":
        _set_id3(audio, values)
    elif kind == "mp4":
        from mutagen.mp4 import AtomDataType, MP4FreeForm

        for key, value in values.items():
            audio.tags[MP4_PREFIX + key] = [
                MP4FreeForm(value.encode("utf-8"), dataformat=AtomDataType.UTF8)
            ]
        audio.save()
    else:
        for key, value in values.items():
            audio.tags[key] = [value]
        audio.save()


def _set_id3(audio: Any, values: Mapping[str, str]) -> None:
    from mutagen.id3 import TMOO, TXXX

    tags = audio.tags
    version = 3 if tuple(tags.version[:2]) == (2, 3) else 4
    if version == 3:
        tags.update_to_v23()
    for key, value in values.items():
        tags.delall(f"TXXX:{key}")
        tags.add(TXXX(encoding=1 if version == 3 else 3, desc=key, text=[value]))
    if version == 4 and MOOD in values:
        tags.delall("TMOO")
        tags.add(TMOO(encoding=3, text=[values[MOOD]]))
    audio.save(v2_version=version)


def _kind(audio: Any, path: Path) -> str:
    from mutagen._vorbis import VCommentDict
    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4Tags

    tags = audio.tags
    if isinstance(tags, ID3):
        return "id3"
    if isinstance(tags, MP4Tags):
        return "mp4"
    if isinstance(tags, VCommentDict):
        return "vorbis"
    raise TagError(path, f"moodnet does not write {type(tags).__name__} tags "
                   "(it writes ID3, Vorbis comments and MP4 atoms)")


def _reason(exc: BaseException) -> str:
    """`` (mutagen's words)``, or "" when mutagen has none."""
    text = str(exc).strip()
    return f" ({text})" if text else ""
