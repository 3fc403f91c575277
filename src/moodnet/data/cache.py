"""On-disk cache of per-file features, keyed by audio content and feature config.

Layout under ``root``::

    root/<config.key()>/config.json            the FeatureConfig, for humans and tools
    root/<config.key()>/mel/<ab>/<hash>.npy     log-mel, (n_mels, n_frames) float32
    root/<config.key()>/descriptors/<ab>/<hash>.npy   descriptor vector (see descriptors.py)
    root/<config.key()>/stacks/<digest>.npy     stacked arrays made by load_stack(mmap=True)
    root/content_hashes.json                    path -> (size, mtime_ns, hash) memo

``<hash>`` is the BLAKE2b (128-bit) hash of the audio file's bytes, so renamed or duplicated
files share an entry and an edited file gets a new one. Every file is written atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from moodnet.audio.descriptors import DESCRIPTOR_VERSION
from moodnet.audio.features import FeatureConfig
from moodnet.audio.io import check_regular_file
from moodnet.errors import DataError, FileProblem, ParameterError
from moodnet.io_utils import atomic_write, atomic_write_text
from moodnet.track import Track

KINDS = ("mel", "descriptors")
_HASH_MEMO = "content_hashes.json"
_CHUNK = 1 << 20


def content_hash(path: str | Path) -> str:
    """BLAKE2b-128 hex digest of a file's bytes.

    Raises
    ------
    FileProblem
        The file is missing, empty, not a regular file (a FIFO, a device) or cannot be read.
    """
    path = check_regular_file(path)  # a FIFO or a link to /dev/zero would never end
    digest = hashlib.blake2b(digest_size=16)
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError as exc:
        raise FileProblem(path, "file not found") from exc
    except OSError as exc:
        raise FileProblem(path, f"cannot read ({exc.strerror})") from exc
    return digest.hexdigest()


def file_identity(audio_path: str | Path) -> tuple[Path, int, int]:
    """The resolved path, size in bytes and mtime (ns) that the hash memo is keyed by.

    Raises
    ------
    FileProblem
        The file does not exist.
    """
    path = Path(audio_path).expanduser().resolve()
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise FileProblem(path, "file not found") from exc
    return path, stat.st_size, stat.st_mtime_ns


class FeatureCache:
    """Features of audio files for one :class:`~moodnet.audio.FeatureConfig`.

    Parameters
    ----------
    root : cache folder (created on first write); several configs can share it
    config : the feature definition whose arrays this cache holds

    Entries are addressed by audio file path (hashed on use, with a size/mtime memo) or
    directly by content hash. ``kind`` is ``"mel"`` or ``"descriptors"``.
    """

    def __init__(self, root: str | Path, config: FeatureConfig) -> None:
        self.root = Path(root).expanduser().resolve()
        self.config = config
        self.dir = self.root / config.key()
        self._memo: dict[str, tuple[int, int, str]] | None = None
        self._memo_dirty = False

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r}, key={self.config.key()!r})"

    # --- keys ----------------------------------------------------------------------------------

    def key_for(self, audio_path: str | Path) -> str:
        """Content hash of an audio file, reusing the memo when size and mtime are unchanged."""
        path, size, mtime_ns = file_identity(audio_path)
        memo = self._load_memo()
        known = memo.get(str(path))
        if known and known[0] == size and known[1] == mtime_ns:
            return known[2]
        digest = content_hash(path)
        self.remember(path, size=size, mtime_ns=mtime_ns, key=digest)
        return digest

    def remember(self, path: str | Path, *, size: int, mtime_ns: int, key: str) -> None:
        """Add a content hash computed elsewhere (a cluster task) to the path -> hash memo
        (saved by :meth:`save_memo`); ``path`` as :func:`file_identity` resolved it."""
        self._load_memo()[str(path)] = (int(size), int(mtime_ns), key)
        self._memo_dirty = True

    def save_memo(self) -> None:
        """Persist the path -> hash memo (atomic; merged with what is on disk)."""
        if not self._memo_dirty or self._memo is None:
            return
        merged = {**self._read_memo_file(), **self._memo}
        text = json.dumps({k: list(v) for k, v in sorted(merged.items())})
        try:
            atomic_write_text(self.root / _HASH_MEMO, text)
        except OSError:
            return  # a read-only cache still works, it just hashes again next time
        self._memo_dirty = False

    def _load_memo(self) -> dict[str, tuple[int, int, str]]:
        if self._memo is None:
            self._memo = self._read_memo_file()
        return self._memo

    def _read_memo_file(self) -> dict[str, tuple[int, int, str]]:
        try:
            raw = json.loads((self.root / _HASH_MEMO).read_text(encoding="utf-8"))
            return {str(k): (int(v[0]), int(v[1]), str(v[2])) for k, v in raw.items()}
        except (OSError, ValueError, TypeError, IndexError, AttributeError):
            return {}

    def _resolve(self, item: str | Path) -> str:
        """A content hash given either a hash or an audio path."""
        if isinstance(item, str) and _looks_like_hash(item):
            return item
        return self.key_for(item)

    # --- entries -------------------------------------------------------------------------------

    def path_for(self, key: str, *, kind: str = "mel") -> Path:
        """Where the ``kind`` array of content hash ``key`` lives."""
        _check_kind(kind)
        return self.dir / kind / key[:2] / f"{key}.npy"

    def contains(self, item: str | Path, *, kind: str = "mel") -> bool:
        """Whether the ``kind`` array of an audio path (or content hash) is cached."""
        return self.path_for(self._resolve(item), kind=kind).is_file()

    def get(self, item: str | Path, *, kind: str = "mel", mmap: bool = False) -> np.ndarray | None:
        """The cached array of an audio path (or content hash), or None when absent."""
        path = self.path_for(self._resolve(item), kind=kind)
        try:
            return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: corrupt cache entry ({exc}); delete it") from exc

    def put(self, item: str | Path, array: np.ndarray, *, kind: str = "mel") -> Path:
        """Store an array for an audio path (or content hash), atomically; returns its path."""
        expected = self.expected_shape(kind)
        array = np.asarray(array, dtype=np.float32)
        if array.shape != expected:
            raise ParameterError(f"{kind} array has shape {array.shape}, expected {expected}")
        self._write_config()
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        path = self.path_for(self._resolve(item), kind=kind)
        return atomic_write(path, lambda handle: handle.write(buffer.getbuffer()))

    def expected_shape(self, kind: str) -> tuple[int, ...]:
        """Shape of one entry: ``(n_mels, n_frames)`` or ``(n_descriptors,)``."""
        _check_kind(kind)
        if kind == "mel":
            return (self.config.n_mels, self.config.n_frames)
        from moodnet.audio.descriptors import descriptor_names

        return (len(descriptor_names()),)

    def _write_config(self) -> None:
        target = self.dir / "config.json"
        if target.is_file():
            return
        data = {"feature_config": self.config.to_dict(), "descriptor_version": DESCRIPTOR_VERSION}
        atomic_write_text(target, json.dumps(data, indent=2) + "\n")

    # --- stacks --------------------------------------------------------------------------------

    def load_stack(
        self,
        items: Sequence[Track] | Sequence[str | Path],
        *,
        kind: str = "mel",
        mmap: bool = False,
    ) -> np.ndarray:
        """Stack the cached arrays of many tracks (or audio paths / hashes), in order.

        Parameters
        ----------
        items : tracks (their ``audio`` path is used), audio paths or content hashes
        kind : ``"mel"`` or ``"descriptors"``
        mmap : build (once) a stacked ``.npy`` under ``stacks/`` and return a read-only
            memory map of it; repeated calls with the same items are then nearly free.
            Each distinct item list gets its own file (N x entry size); delete ``stacks/``
            to reclaim the space

        Returns
        -------
        stack : np.ndarray [shape=(N, n_mels, n_frames) or (N, n_descriptors)], float32

        Raises
        ------
        DataError
            Some items are not cached (the message lists the first few).
        """
        keys = self._keys_of(items)
        self.save_memo()
        missing = [label for label, key in keys if not self.path_for(key, kind=kind).is_file()]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise DataError(
                f"{len(missing)} of {len(keys)} items have no cached {kind} in {self.dir} "
                f"({shown}); run `moodnet extract` first"
            )
        if mmap:
            return self._stack_file([key for _, key in keys], kind=kind)
        out = np.empty((len(keys), *self.expected_shape(kind)), dtype=np.float32)
        for index, (_, key) in enumerate(keys):
            out[index] = np.load(self.path_for(key, kind=kind), allow_pickle=False)
        return out

    def _keys_of(self, items: Iterable[Track] | Iterable[str | Path]) -> list[tuple[str, str]]:
        keys = []
        for item in items:
            if isinstance(item, Track):
                if item.audio is None:
                    raise DataError(f"track {item.id} has no audio file")
                keys.append((item.id, self.key_for(item.audio)))
            else:
                keys.append((str(item), self._resolve(item)))
        return keys

    def _stack_file(self, keys: list[str], *, kind: str) -> np.ndarray:
        digest = hashlib.blake2b("\n".join(keys).encode(), digest_size=10).hexdigest()
        path = self.dir / "stacks" / f"{kind}_{len(keys)}_{digest}.npy"
        if not path.is_file():
            shape = (len(keys), *self.expected_shape(kind))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                stack = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)
                for index, key in enumerate(keys):
                    stack[index] = np.load(self.path_for(key, kind=kind), allow_pickle=False)
                stack.flush()
                del stack
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        return np.load(path, mmap_mode="r", allow_pickle=False)


def _looks_like_hash(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ParameterError(f"kind={kind!r} must be one of {KINDS}")
