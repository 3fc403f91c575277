"""Tag a file without ever damaging it: tag a copy, check it, then swap it in atomically.

The copy lives in the file's own folder (so the final ``os.replace`` is atomic and never
crosses file systems). Before the swap the copy must read back with exactly the new tags, and
its audio stream must be bit-identical to the original's: the compressed audio packets, as
``ffmpeg -map 0:a -c copy`` would copy them, hash the same. Anything else leaves the original
untouched and raises :class:`moodnet.errors.TagError`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from moodnet.errors import TagError
from moodnet.tagging.formats import open_audio, read_mood_tags, set_mood_tags


def audio_stream_digest(path: Path) -> str:
    """SHA-256 of the first audio stream's packets (their bytes, in order), metadata excluded.

    Parameters
    ----------
    path : an audio file PyAV (FFmpeg) can demux

    Returns
    -------
    digest : str, 64 hex digits

    Raises
    ------
    TagError
        The file does not demux, or holds no audio stream or no audio packet.
    """
    import av

    digest = hashlib.sha256()
    packets = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise TagError(path, "no audio stream in it")
            stream = container.streams.audio[0]
            for packet in container.demux(stream):
                if packet.size:
                    digest.update(bytes(packet))
                    packets += 1
    except av.error.FFmpegError as exc:
        raise TagError(path, f"its audio does not demux ({exc})") from exc
    if not packets:
        raise TagError(path, "no audio data in it")
    return digest.hexdigest()


def check_writable(path: Path) -> None:
    """Raise :class:`TagError` unless ``path`` is a regular file this process may rewrite.

    A file without any write permission bit counts as read-only even for root, who could
    otherwise replace it: its owner asked for it not to change.
    """
    try:
        info = path.stat()
    except OSError as exc:
        raise TagError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise TagError(path, "not a regular file")
    if not info.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise TagError(path, "the file is read-only; not tagged")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise TagError(path, f"its folder {path.parent} is read-only; not tagged")


def write_tags_safely(path: str | Path, values: Mapping[str, str]) -> None:
    """Write ``values`` (key -> text) into ``path``'s tags so that the file is never damaged.

    Parameters
    ----------
    path : an audio file (see :mod:`moodnet.tagging.formats` for the formats)
    values : key -> text, e.g. from :func:`moodnet.tagging.tag_values`

    Raises
    ------
    TagError
        The file is read-only, not a taggable format, damaged, or the tagged copy failed a
        check; ``path`` is then unchanged.
    """
    path = Path(path)
    check_writable(path)
    before = audio_stream_digest(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.moodnet-",
                                    suffix=path.suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(path, tmp)
        shutil.copymode(path, tmp)
        _tag_and_verify(tmp, values, original=path, audio_digest=before)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise TagError(path, f"could not be rewritten ({exc.strerror or exc})") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _tag_and_verify(
    copy: Path, values: Mapping[str, str], *, original: Path, audio_digest: str,
) -> None:
    """Tag ``copy`` and check it; problems are reported under the ``original``'s name."""
    import mutagen

    try:
        set_mood_tags(open_audio(copy), values)
        read_back = read_mood_tags(open_audio(copy))
        after = audio_stream_digest(copy)
    except mutagen.MutagenError as exc:
        raise TagError(original, f"mutagen could not write its tags ({exc})") from exc
    except TagError as exc:
        raise TagError(original, f"the tagged copy failed: {exc.problem}; not tagged") from exc
    wrong = [key for key, value in values.items() if read_back.get(key) != value]
    if wrong:
        raise TagError(original, f"the tagged copy read back other values for {', '.join(wrong)}"
                       "; not tagged")
    if after != audio_digest:
        raise TagError(original, "tagging changed its audio stream; not tagged")
