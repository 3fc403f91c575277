"""Word vocabulary built on training lyrics only, stored in checkpoints as JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from moodnet.errors import CheckpointError, ParameterError

__all__ = ["OOV_ID", "OOV_TOKEN", "PAD_ID", "PAD_TOKEN", "Vocabulary"]

PAD_TOKEN = "<pad>"
OOV_TOKEN = "<unk>"
PAD_ID = 0
OOV_ID = 1
_FORMAT = "moodnet-vocabulary"
_VERSION = 1


class Vocabulary:
    """Token <-> id mapping with ``PAD_ID = 0`` and ``OOV_ID = 1``.

    Build it with :meth:`build` on the *training* token lists only (tokens from
    :func:`moodnet.lyrics.tokenise`); words seen only in validation or test data are OOV.

    Parameters
    ----------
    words : sequence of str
        Words in id order, starting at id 2 (no special tokens, no duplicates).
    counts : sequence of int, optional
        Training count of each word (same length as ``words``).
    n_train_tokens : int, optional
        Number of training tokens the vocabulary was built from (OOV ones included).
    """

    def __init__(
        self,
        words: Sequence[str],
        *,
        counts: Sequence[int] | None = None,
        n_train_tokens: int | None = None,
    ) -> None:
        words = list(words)
        if {PAD_TOKEN, OOV_TOKEN} & set(words) or len(set(words)) != len(words):
            raise ParameterError("vocabulary words must be unique and exclude <pad> and <unk>")
        if counts is not None and len(counts) != len(words):
            raise ParameterError(f"{len(counts)} counts for {len(words)} words")
        self._tokens: tuple[str, ...] = (PAD_TOKEN, OOV_TOKEN, *words)
        self._ids = {token: index for index, token in enumerate(self._tokens)}
        self._counts = tuple(int(count) for count in counts) if counts is not None else None
        self._n_train_tokens = n_train_tokens

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        *,
        min_count: int = 2,
        max_size: int = 20000,
    ) -> Vocabulary:
        """Count training tokens and keep the frequent ones.

        Parameters
        ----------
        token_lists : iterable of sequences of str
            One token list per *training* song.
        min_count : int >= 1
            Words seen fewer times are OOV.
        max_size : int >= 2
            Largest vocabulary size, ``<pad>`` and ``<unk>`` included; the most frequent
            words are kept (ties broken alphabetically, so the result is deterministic).

        Returns
        -------
        vocabulary : Vocabulary
        """
        if min_count < 1:
            raise ParameterError(f"min_count must be >= 1, got {min_count}")
        if max_size < 2:
            raise ParameterError(f"max_size must be >= 2 (pad and OOV), got {max_size}")
        counter: Counter[str] = Counter()
        for tokens in token_lists:
            counter.update(tokens)
        n_train_tokens = sum(counter.values())
        for special in (PAD_TOKEN, OOV_TOKEN):
            counter.pop(special, None)
        ranked = sorted(
            (item for item in counter.items() if item[1] >= min_count),
            key=lambda item: (-item[1], item[0]),
        )[: max_size - 2]
        return cls(
            [word for word, _ in ranked],
            counts=[count for _, count in ranked],
            n_train_tokens=n_train_tokens,
        )

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._ids

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self._tokens == other._tokens

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} entries)"

    @property
    def tokens(self) -> tuple[str, ...]:
        """All entries in id order, ``<pad>`` and ``<unk>`` first."""
        return self._tokens

    @property
    def words(self) -> tuple[str, ...]:
        """The real words (ids 2 and up)."""
        return self._tokens[2:]

    @property
    def counts(self) -> tuple[int, ...] | None:
        """Training count of each word in :attr:`words`, if known."""
        return self._counts

    @property
    def n_train_tokens(self) -> int | None:
        """Number of training tokens counted by :meth:`build` (OOV ones included), if known."""
        return self._n_train_tokens

    def ids(self, tokens: Iterable[str]) -> list[int]:
        """Ids of all ``tokens``, unknown ones as ``OOV_ID``; no padding, no truncation."""
        get = self._ids.get
        return [get(token, OOV_ID) for token in tokens]

    def encode(self, tokens: Sequence[str], *, max_len: int) -> np.ndarray:
        """Encode the *first* ``max_len`` tokens, padding the end with ``PAD_ID``.

        Parameters
        ----------
        tokens : sequence of str
        max_len : int > 0

        Returns
        -------
        ids : np.ndarray [shape=(max_len,)], int64
        """
        if max_len <= 0:
            raise ParameterError(f"max_len must be positive, got {max_len}")
        out = np.full(max_len, PAD_ID, dtype=np.int64)
        ids = self.ids(tokens[:max_len])
        out[: len(ids)] = ids
        return out

    def oov_rate(self, token_lists: Iterable[Sequence[str]]) -> float:
        """Share of tokens (all occurrences, over all lists) that are not in the vocabulary.

        Parameters
        ----------
        token_lists : iterable of sequences of str

        Returns
        -------
        rate : float in [0, 1]; NaN when there are no tokens
        """
        n_tokens = n_oov = 0
        for tokens in token_lists:
            n_tokens += len(tokens)
            n_oov += sum(1 for token in tokens if token not in self._ids)
        return n_oov / n_tokens if n_tokens else float("nan")

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for ``checkpoint.json``); :meth:`from_json` inverts it."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "pad_token": PAD_TOKEN,
            "oov_token": OOV_TOKEN,
            "words": list(self.words),
            "counts": list(self._counts) if self._counts is not None else None,
            "n_train_tokens": self._n_train_tokens,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> Vocabulary:
        """Rebuild a vocabulary from :meth:`to_json` output (a dict or its JSON text).

        Raises
        ------
        CheckpointError
            If the data is not a moodnet vocabulary of a known version.
        """
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as error:
                raise CheckpointError(f"vocabulary: not valid JSON ({error})") from None
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise CheckpointError(f"vocabulary: not a {_FORMAT!r} object")
        if data.get("version") != _VERSION:
            raise CheckpointError(
                f"vocabulary: version {data.get('version')!r}, this moodnet reads {_VERSION}"
            )
        if data.get("pad_token") != PAD_TOKEN or data.get("oov_token") != OOV_TOKEN:
            raise CheckpointError("vocabulary: special tokens differ from <pad>/<unk>")
        words = data.get("words")
        if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
            raise CheckpointError("vocabulary: 'words' must be a list of strings")
        try:
            return cls(words, counts=data.get("counts"), n_train_tokens=data.get("n_train_tokens"))
        except ParameterError as error:
            raise CheckpointError(f"vocabulary: {error}") from None
