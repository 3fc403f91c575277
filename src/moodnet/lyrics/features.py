"""Classical lyric features for the SVM / ridge baseline of Delbouys et al. (2018).

Three families, each a fixed-length vector with names:

- lexicon features: statistics of word valence and arousal from a ``word -> (valence,
  arousal)`` mapping (e.g. the Warriner norms loaded by ``moodnet.labels``);
- stylistic features: counts and ratios describing the text (length, repetition, pronouns,
  punctuation, negations);
- TF-IDF over the moodnet tokens (:func:`fit_tfidf`, fitted on training texts only);
- sentiment features (:func:`sentiment_features`): word-valence statistics from the VADER
  lexicon and VADER's rule-based scores of each line (Hutto & Gilbert 2014; MIT licence,
  installed with the ``vaderSentiment`` package), usable where the research-only
  Warriner/NRC norms may not be shipped.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from moodnet.errors import DataError, ParameterError
from moodnet.lyrics.text import _canonical, normalise_lyrics, tokenise

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = [
    "LEXICON_FEATURE_NAMES",
    "SENTIMENT_FEATURE_NAMES",
    "SENTIMENT_GROUPS",
    "STYLE_FEATURE_NAMES",
    "fit_tfidf",
    "lexicon_features",
    "lyric_feature_matrix",
    "lyric_feature_names",
    "lyric_features",
    "sentiment_features",
    "style_features",
]

LEXICON_FEATURE_NAMES: tuple[str, ...] = (
    "lex_valence_mean",
    "lex_valence_max",
    "lex_valence_min",
    "lex_valence_std",
    "lex_arousal_mean",
    "lex_arousal_max",
    "lex_arousal_min",
    "lex_arousal_std",
    "lex_coverage",
)

SENTIMENT_FEATURE_NAMES: tuple[str, ...] = (
    "sentiment_mean",
    "sentiment_max",
    "sentiment_min",
    "sentiment_std",
    "sentiment_coverage",
    "line_compound_mean",
    "line_compound_std",
    "line_positive_share",
    "line_negative_share",
)
SENTIMENT_WORD_FEATURES = 5
"""The first :data:`SENTIMENT_FEATURE_NAMES` (word statistics): what sentiment heads made before
the line scores existed read."""
_N_LINE_SCORES = len(SENTIMENT_FEATURE_NAMES) - SENTIMENT_WORD_FEATURES
SENTIMENT_GROUPS: Mapping[str, np.ndarray] = {
    "lines": np.arange(SENTIMENT_WORD_FEATURES, len(SENTIMENT_FEATURE_NAMES)),
}
"""Groups of sentiment columns that a head's inner CV may drop."""
_LINE_POLARITY = 0.05  # VADER's usual threshold of a positive / negative compound score
_VADER_SCALE = 4.0
"""VADER's word ratings run from -4 to +4; they are divided by this onto [-1, 1]."""

STYLE_FEATURE_NAMES: tuple[str, ...] = (
    "n_words",
    "n_lines",
    "n_unique_words",
    "type_token_ratio",
    "mean_word_length",
    "words_per_line",
    "repeated_line_share",
    "first_person_share",
    "second_person_share",
    "exclamation_count",
    "question_count",
    "negation_count",
    "negation_share",
)

# fmt: off
_FIRST_PERSON = frozenset({
    "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "i'm", "i've",
    "i'll", "i'd", "we're", "we've", "we'll", "we'd",
})
_SECOND_PERSON = frozenset({
    "you", "your", "yours", "yourself", "yourselves", "you're", "you've", "you'll", "you'd",
    "ya", "y'all", "thee", "thou", "thy",
})
_NEGATIONS = frozenset({
    "not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor", "without",
    "cannot", "aint", "ain't", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt",
    "werent", "wont", "wouldnt", "couldnt", "shouldnt", "hasnt", "havent", "hadnt", "mustnt",
    "neednt", "nope", "nah", "rarely", "seldom",
})
# fmt: on


def _is_negation(token: str) -> bool:
    return token in _NEGATIONS or token.endswith("n't")


def lexicon_features(
    tokens: Sequence[str],
    *,
    lexicon: Mapping[str, tuple[float, float]],
    lemmatise: bool = True,
    fill: float = 0.0,
) -> np.ndarray:
    """Valence/arousal statistics of the words of a song found in a lexicon.

    Every occurrence counts (a word sung ten times weighs ten times). A token missing from the
    lexicon is looked up again as its English lemma (simplemma) when ``lemmatise``.

    Parameters
    ----------
    tokens : sequence of str
        Tokens from :func:`moodnet.lyrics.tokenise`.
    lexicon : mapping str -> (valence, arousal)
        Lowercase words to their ratings, on any one scale (moodnet uses [-1, 1]).
    lemmatise : bool
        Fall back to the lemma for words not found as such.
    fill : float
        Value of the eight statistics when no word is found (0 is neutral on [-1, 1]).

    Returns
    -------
    features : np.ndarray [shape=(9,)], float64
        In the order of :data:`LEXICON_FEATURE_NAMES`: valence mean, max, min, std, arousal
        mean, max, min, std, and the share of tokens found (0 for no tokens).
    """
    ratings = _lexicon_ratings(tokens, lexicon=lexicon, lemmatise=lemmatise)
    if not ratings:
        return np.array([fill] * 8 + [0.0])
    values = np.asarray(ratings, dtype=np.float64)  # (n_found, 2)
    stats = [
        reduce(values[:, column])
        for column in (0, 1)
        for reduce in (np.mean, np.max, np.min, np.std)
    ]
    return np.array([*stats, len(ratings) / len(tokens)], dtype=np.float64)


def sentiment_features(text: str, *, line_scores: bool = True) -> np.ndarray:
    """Word-valence statistics of a song's lyrics from the VADER lexicon.

    Every sung token counts (section tags dropped, repeats kept); a token missing from the
    lexicon is looked up again as its English lemma.

    Parameters
    ----------
    text : str
        Raw lyrics.
    line_scores : bool
        Score the lines (False: their four columns hold 0, for a head that gives them no
        weight).

    Returns
    -------
    features : np.ndarray [shape=(9,)], float64
        In the order of :data:`SENTIMENT_FEATURE_NAMES`: mean, max, min and std of the rated
        words' valence on [-1, 1] (0 when none is rated), and the share of tokens rated; then
        over the sung lines, VADER's compound score of each (its rules for negation,
        intensifiers and contrast; Hutto & Gilbert 2014): mean, std, and the shares of lines
        at or above 0.05 and at or below -0.05 (all 0 without lines).
    """
    lines = normalise_lyrics(text, collapse_repeats=False).splitlines()
    stats = lexicon_features(tokenise(" ".join(lines)), lexicon=vader_lexicon())
    lines_part = _line_scores(lines) if line_scores else np.zeros(_N_LINE_SCORES)
    return np.concatenate([stats[[0, 1, 2, 3, 8]], lines_part])


def _line_scores(lines: Sequence[str]) -> np.ndarray:
    """(4,): mean, std, positive and negative share of the lines' compound scores."""
    if not lines:
        return np.zeros(_N_LINE_SCORES)
    analyser = _vader_analyser()
    compound = np.array([analyser.polarity_scores(line)["compound"] for line in lines])
    return np.array([compound.mean(), compound.std(), (compound >= _LINE_POLARITY).mean(),
                     (compound <= -_LINE_POLARITY).mean()])


@functools.lru_cache(maxsize=1)
def _vader_analyser() -> Any:
    """VADER's rule-based sentence scorer (read once, from the ``vaderSentiment`` package)."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()
    except (ImportError, OSError, UnicodeError) as exc:
        raise DataError(f"VADER (package vaderSentiment) is unusable: {exc}") from exc


@functools.lru_cache(maxsize=1)
def vader_lexicon() -> Mapping[str, tuple[float, float]]:
    """The VADER lexicon as ``word -> (valence on [-1, 1], 0.0)`` (read once, from the
    installed ``vaderSentiment`` package).

    Raises
    ------
    DataError
        The package or its lexicon file is missing or unreadable.
    """
    try:
        lines = (importlib.resources.files("vaderSentiment") / "vader_lexicon.txt").read_text(
            encoding="utf-8").splitlines()
    except (ModuleNotFoundError, OSError, UnicodeError) as exc:
        raise DataError(f"the VADER lexicon (package vaderSentiment) is unreadable: {exc}") from exc
    lexicon: dict[str, tuple[float, float]] = {}
    for line in lines:
        word, _, rest = line.partition("\t")
        try:
            lexicon[word.lower()] = (float(rest.split("\t")[0]) / _VADER_SCALE, 0.0)
        except ValueError:
            continue
    if not lexicon:
        raise DataError("the VADER lexicon (package vaderSentiment) is empty")
    return lexicon


def _lexicon_ratings(
    tokens: Sequence[str],
    *,
    lexicon: Mapping[str, tuple[float, float]],
    lemmatise: bool,
) -> list[tuple[float, float]]:
    lemma_of = _english_lemmatiser() if lemmatise else None
    resolved: dict[str, tuple[float, float] | None] = {}
    ratings = []
    for token in tokens:
        if token not in resolved:
            resolved[token] = _lookup(token, lexicon=lexicon, lemma_of=lemma_of)
        rating = resolved[token]
        if rating is not None:
            ratings.append(rating)
    return ratings


def _lookup(
    token: str,
    *,
    lexicon: Mapping[str, tuple[float, float]],
    lemma_of: Callable[[str], str] | None,
) -> tuple[float, float] | None:
    rating = lexicon.get(token)
    if rating is None and lemma_of is not None:
        rating = lexicon.get(lemma_of(token))
    return rating


def _english_lemmatiser() -> Callable[[str], str]:
    import simplemma

    def lemma_of(word: str) -> str:
        return str(simplemma.lemmatize(word, lang="en")).lower()

    return lemma_of


def style_features(text: str) -> np.ndarray:
    """Basic and stylistic features of raw lyrics.

    Lines and words are counted after dropping section tags, without collapsing repeats;
    punctuation counts are taken on the raw text.

    Parameters
    ----------
    text : str
        Raw lyrics (e.g. from :func:`moodnet.lyrics.read_lyrics`).

    Returns
    -------
    features : np.ndarray [shape=(13,)], float64
        In the order of :data:`STYLE_FEATURE_NAMES`: number of words, of non-empty lines, of
        distinct words, type/token ratio, mean word length (characters), words per line,
        share of lines repeating an earlier line, share of first-person and second-person
        pronouns among words, counts of ``!`` and ``?``, number and share of negations
        (``not``, ``never``, ``nothing``, ``-n't`` contractions, ...). Ratios are 0 for an
        empty text.
    """
    lines = [line for line in normalise_lyrics(text, collapse_repeats=False).split("\n") if line]
    tokens = [token for line in lines for token in line.split(" ")]
    n_words, n_lines = len(tokens), len(lines)
    n_unique = len(set(tokens))
    raw = _canonical(text)
    n_negations = sum(1 for token in tokens if _is_negation(token))
    return np.array(
        [
            n_words,
            n_lines,
            n_unique,
            _ratio(n_unique, n_words),
            _ratio(sum(len(token) for token in tokens), n_words),
            _ratio(n_words, n_lines),
            _ratio(n_lines - len(set(lines)), n_lines),
            _ratio(sum(1 for token in tokens if token in _FIRST_PERSON), n_words),
            _ratio(sum(1 for token in tokens if token in _SECOND_PERSON), n_words),
            raw.count("!"),
            raw.count("?"),
            n_negations,
            _ratio(n_negations, n_words),
        ],
        dtype=np.float64,
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def lyric_feature_names(*, with_lexicon: bool = True) -> tuple[str, ...]:
    """Names of the columns of :func:`lyric_features` / :func:`lyric_feature_matrix`."""
    return STYLE_FEATURE_NAMES + (LEXICON_FEATURE_NAMES if with_lexicon else ())


def lyric_features(
    text: str,
    *,
    lexicon: Mapping[str, tuple[float, float]] | None = None,
    lemmatise: bool = True,
) -> np.ndarray:
    """Stylistic features, then lexicon features when a lexicon is given, of one song.

    The lexicon statistics use every sung token (section tags dropped, repeats kept).

    Parameters
    ----------
    text : str
        Raw lyrics.
    lexicon : mapping str -> (valence, arousal), optional
    lemmatise : bool
        As in :func:`lexicon_features`.

    Returns
    -------
    features : np.ndarray [shape=(13,) or (22,)], float64
        Columns named by ``lyric_feature_names(with_lexicon=lexicon is not None)``.
    """
    style = style_features(text)
    if lexicon is None:
        return style
    tokens = tokenise(normalise_lyrics(text, collapse_repeats=False))
    return np.concatenate([style, lexicon_features(tokens, lexicon=lexicon, lemmatise=lemmatise)])


def lyric_feature_matrix(
    texts: Iterable[str],
    *,
    lexicon: Mapping[str, tuple[float, float]] | None = None,
    lemmatise: bool = True,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """:func:`lyric_features` of many songs.

    Returns
    -------
    features : np.ndarray [shape=(n_songs, n_features)], float64
    names : tuple of str [length n_features]
    """
    names = lyric_feature_names(with_lexicon=lexicon is not None)
    rows = [lyric_features(text, lexicon=lexicon, lemmatise=lemmatise) for text in texts]
    matrix = np.vstack(rows) if rows else np.zeros((0, len(names)))
    return matrix, names


def fit_tfidf(
    train_texts: Sequence[str],
    *,
    max_features: int | None = 5000,
    min_df: int = 2,
    max_df: float = 1.0,
    ngram_range: tuple[int, int] = (1, 1),
    sublinear_tf: bool = True,
) -> TfidfVectorizer:
    """Fit a TF-IDF vectoriser on *training* lyrics with the moodnet tokeniser.

    Texts are cleaned with :func:`~moodnet.lyrics.normalise_lyrics` (default options) and
    split with :func:`~moodnet.lyrics.tokenise`. Call ``.transform(texts)`` on validation and
    test texts; ``.get_feature_names_out()`` names the columns.

    Parameters
    ----------
    train_texts : sequence of str
        Raw lyrics of the training songs only.
    max_features : int or None
        Keep the most frequent terms.
    min_df : int >= 1
        Minimum number of training songs a term must occur in.
    max_df : float in (0, 1]
        Terms in a larger share of training songs are dropped (stop words).
    ngram_range : (int, int)
    sublinear_tf : bool
        Use ``1 + log(tf)``.

    Returns
    -------
    vectoriser : sklearn.feature_extraction.text.TfidfVectorizer, fitted
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(train_texts) == 0:
        raise ParameterError("fit_tfidf needs at least one training text")
    if min_df < 1 or not 0 < max_df <= 1:
        raise ParameterError(f"need min_df >= 1 and 0 < max_df <= 1, got {min_df}, {max_df}")
    vectoriser = TfidfVectorizer(
        preprocessor=normalise_lyrics,
        tokenizer=tokenise,
        token_pattern=None,
        lowercase=False,
        max_features=max_features,
        min_df=min_df,
        max_df=max_df,
        ngram_range=ngram_range,
        sublinear_tf=sublinear_tf,
        dtype=np.float32,
    )
    try:
        vectoriser.fit(list(train_texts))
    except ValueError as error:
        raise DataError(f"TF-IDF: {error} ({len(train_texts)} training texts)") from None
    return vectoriser
