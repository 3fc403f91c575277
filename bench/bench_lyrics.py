"""Lyrics stage on a folder of lyrics files: speed, tokens per song, OOV rates, vector coverage.

Usage::

    python bench/bench_lyrics.py --lyrics $MOODNET_DATA/mirex_multimodal/lyrics [--sentence]

The split for the OOV and word2vec figures is a random 80/20 song split (seed 0); the GloVe
coverage is also reported for a vocabulary built on all songs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from moodnet.io_utils import default_data_root
from moodnet.lyrics import (
    EmbeddingCoverage,
    GloveVectors,
    SentenceEncoder,
    Vocabulary,
    embedding_matrix,
    glove_matrix,
    lyric_feature_matrix,
    lyrics_tokens,
    read_lyrics,
    train_word2vec,
)


def _coverage_line(coverage: EmbeddingCoverage) -> str:
    token_share = f"{coverage.token_share:.4f}" if coverage.token_share is not None else "n/a"
    return (
        f"{coverage.source}: words {coverage.word_share:.4f} (exact {coverage.n_exact}, "
        f"contraction parts {coverage.n_parts}, variants {coverage.n_variant} of "
        f"{coverage.n_words}), training tokens {token_share}; missing e.g. "
        f"{', '.join(coverage.missing[:8])}"
    )


def _timed(label: str, start: float) -> float:
    now = time.perf_counter()
    print(f"  {label}: {now - start:.3f} s")
    return now


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = default_data_root()
    parser.add_argument(
        "--lyrics",
        type=Path,
        default=root / "mirex_multimodal" / "lyrics" if root else None,
        required=root is None,
        help="folder of *.txt lyrics (default: $MOODNET_DATA/mirex_multimodal/lyrics)",
    )
    parser.add_argument("--sentence", action="store_true", help="also time MiniLM embeddings")
    args = parser.parse_args(argv)

    files = sorted(args.lyrics.glob("*.txt"))
    print(f"{len(files)} lyrics files in {args.lyrics}")
    start = time.perf_counter()
    texts = [read_lyrics(path) for path in files]
    start = _timed("read", start)
    tokens = [lyrics_tokens(text) for text in texts]
    start = _timed("normalise + tokenise", start)
    features, _ = lyric_feature_matrix(texts)
    _timed(f"style features {features.shape}", start)

    lengths = np.array([len(song) for song in tokens])
    q25, q50, q75 = np.percentile(lengths, [25, 50, 75])
    print(
        f"tokens per song: median {q50:.0f} (IQR {q25:.0f}-{q75:.0f}, min {lengths.min()}, "
        f"max {lengths.max()}); 50-token segments per song: median "
        f"{np.median(np.ceil(lengths / 50)):.0f}"
    )

    glove = GloveVectors()
    start = time.perf_counter()
    vocab_all = Vocabulary.build(tokens, min_count=2)
    _, coverage = glove_matrix(vocab_all, glove=glove)
    _timed(f"GloVe load + matrix, vocabulary on all songs (|V| = {len(vocab_all)})", start)
    print("  " + _coverage_line(coverage))

    order = np.random.default_rng(0).permutation(len(tokens))
    n_train = int(0.8 * len(tokens))
    train = [tokens[i] for i in order[:n_train]]
    test = [tokens[i] for i in order[n_train:]]
    for min_count in (1, 2):
        vocab = Vocabulary.build(train, min_count=min_count)
        print(
            f"80/20 split, min_count={min_count}: |V| = {len(vocab)}, OOV train "
            f"{vocab.oov_rate(train):.4f}, test {vocab.oov_rate(test):.4f}"
        )
    vocab = Vocabulary.build(train, min_count=2)
    _, coverage = glove_matrix(vocab, glove=glove)
    print("  " + _coverage_line(coverage))
    start = time.perf_counter()
    word2vec = train_word2vec(train, dim=100, seed=0, epochs=20, min_count=2)
    _timed("word2vec 100-d, 20 epochs, train songs", start)
    _, coverage = embedding_matrix(vocab, word2vec)
    print("  " + _coverage_line(coverage))

    if args.sentence:
        encoder = SentenceEncoder(device="cpu")
        start = time.perf_counter()
        _ = encoder.model
        start = _timed("MiniLM load (imports included)", start)
        embeddings = encoder.encode(texts)
        _timed(f"MiniLM encode {embeddings.shape}", start)


if __name__ == "__main__":
    main()
