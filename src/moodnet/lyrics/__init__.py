"""Lyrics stage: reading, cleaning, tokenising, vocabulary, word vectors, classical features.

Heavy dependencies (pyarrow for GloVe, gensim, scikit-learn, tokenizers for the MiniLM sentence
encoder, sentence-transformers/torch for its ``backend="torch"`` only) are imported only inside
the functions that need them.
"""

from __future__ import annotations

from moodnet.lyrics.embeddings import (
    EmbeddingCoverage,
    GloveVectors,
    SentenceEncoder,
    WordVectors,
    embedding_matrix,
    glove_matrix,
    sentence_embeddings,
    train_word2vec,
    vectors_from_mapping,
    word2vec_matrix,
)
from moodnet.lyrics.features import (
    LEXICON_FEATURE_NAMES,
    SENTIMENT_FEATURE_NAMES,
    STYLE_FEATURE_NAMES,
    fit_tfidf,
    lexicon_features,
    lyric_feature_matrix,
    lyric_feature_names,
    lyric_features,
    sentiment_features,
    style_features,
)
from moodnet.lyrics.text import (
    decode_lyrics,
    lyrics_tokens,
    normalise_lyrics,
    read_lyrics,
    tokenise,
)
from moodnet.lyrics.vocab import OOV_ID, OOV_TOKEN, PAD_ID, PAD_TOKEN, Vocabulary

__all__ = [
    "LEXICON_FEATURE_NAMES",
    "OOV_ID",
    "OOV_TOKEN",
    "PAD_ID",
    "PAD_TOKEN",
    "SENTIMENT_FEATURE_NAMES",
    "STYLE_FEATURE_NAMES",
    "EmbeddingCoverage",
    "GloveVectors",
    "SentenceEncoder",
    "Vocabulary",
    "WordVectors",
    "decode_lyrics",
    "embedding_matrix",
    "fit_tfidf",
    "glove_matrix",
    "lexicon_features",
    "lyric_feature_matrix",
    "lyric_feature_names",
    "lyric_features",
    "lyrics_tokens",
    "normalise_lyrics",
    "read_lyrics",
    "sentence_embeddings",
    "sentiment_features",
    "style_features",
    "tokenise",
    "train_word2vec",
    "vectors_from_mapping",
    "word2vec_matrix",
]
