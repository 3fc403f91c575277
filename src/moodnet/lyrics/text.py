"""Reading, cleaning and tokenising lyrics.

One tokeniser, :func:`tokenise`, is used everywhere: to build the vocabulary, to encode a song
for the model and to compute the classical features. :func:`normalise_lyrics` produces text
whose tokens are exactly ``tokenise(normalise_lyrics(text))``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

from moodnet.errors import LyricsError, ParameterError

__all__ = ["decode_lyrics", "lyrics_tokens", "normalise_lyrics", "read_lyrics", "tokenise"]

_ENCODINGS = ("utf-8", "cp1252", "latin-1")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_MAX_CONTROL_SHARE = 0.01
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u02bc": "'", "\u0060": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
    }
)  # fmt: skip

MAX_LYRICS_CHARS = 1_000_000
"""Longest text (characters) that :func:`normalise_lyrics` accepts: the size limit of
:func:`read_lyrics`; song lyrics are a few thousand characters."""

_HTML_TAG = re.compile(r"<[a-zA-Z/!][^<>\n]{0,200}>")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

_SECTION = (
    r"(?:pre-?chorus|post-?chorus|chorus|verse|bridge|refrain|intro|outro|hook|interlude"
    r"|instrumental(?:\s+break)?|solo|break(?:down)?|coda|spoken|repeat|rpt)"
)
_NUMBER = r"(?:\d++|one|two|three|four|five|six|seven|eight|nine|ten|[ivx]{1,4})"
_TIMES = r"(?:[x×*]\s*+\d++|\d++\s*+[x×])"
_OPENER = re.compile(r"[\[{]")
_CLOSER = {"[": "]", "{": "}"}
_PAREN_MARKER = re.compile(
    rf"\(\s*(?:repeat\s+)?(?:{_TIMES}|{_SECTION}(?:\s+{_NUMBER})?(?:\s*{_TIMES})?"
    r"(?:\s+(?:twice|times|(?:to|and)\s+fade))?)\s*\)",
    re.IGNORECASE,
)
_TRAILING_TIMES = re.compile(rf"(?:^|\s)[(\[]?{_TIMES}[)\]]?\s*$", re.IGNORECASE)
_LABEL_LINE = re.compile(
    rf"^\s*[*#(<-]*\s*(?:repeat\s+)?{_SECTION}(?:\s+{_NUMBER})?(?:\s*{_TIMES})?"
    r"(?:\s+(?:\d+|one|two|three|four|five)\s+times|\s+twice|\s+(?:to|and)\s+fade(?:\s+out)?)?"
    r"\s*[*()>]*\s*(?::(?P<rest>.*)|-*\s*)$",
    re.IGNORECASE,
)
_MAX_LABEL_CHARS = 120  # a label line's part before its ':' ("Repeat chorus 2 times to fade")
_ATTRIBUTION_JOINERS = frozenset({"and", "&", "feat", "feat.", "ft", "ft.", "with", "x", "+"})


def decode_lyrics(data: bytes, *, source: str | Path = "<bytes>") -> tuple[str, str]:
    """Decode the bytes of a lyrics file.

    Tries UTF-8 (with or without BOM; UTF-16 when it starts with a UTF-16 BOM), then cp1252,
    then latin-1, which accepts any byte. Line endings become ``"\\n"``.

    Parameters
    ----------
    data : bytes
        Raw file content.
    source : str or Path
        Name used in error messages.

    Returns
    -------
    text : str
        Decoded text (``""`` for empty input).
    encoding : str
        The encoding that decoded it: ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``, ``"cp1252"``
        or ``"latin-1"``.

    Raises
    ------
    LyricsError
        If the bytes look binary (NUL bytes, or more than 1 % control characters).
    """
    if data.startswith(_UTF16_BOMS):
        text, encoding = _decode_utf16(data, source=source)
    else:
        if b"\x00" in data:
            raise LyricsError(source, "looks binary (contains NUL bytes), not a text file")
        text, encoding = _decode_8bit(data)
    _check_textual(text, source=source)
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _decode_utf16(data: bytes, *, source: str | Path) -> tuple[str, str]:
    try:
        return data.decode("utf-16"), "utf-16"
    except UnicodeDecodeError as error:
        raise LyricsError(
            source, f"starts with a UTF-16 mark but does not decode: {error}"
        ) from None


def _decode_8bit(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            data = data[3:]
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte string")  # pragma: no cover


def _check_textual(text: str, *, source: str | Path) -> None:
    if not text:
        return
    n_control = len(_CONTROL.findall(text))
    if n_control > _MAX_CONTROL_SHARE * len(text):
        raise LyricsError(source, f"looks binary ({n_control} control characters), not lyrics")


def read_lyrics(path: str | Path, *, max_bytes: int = 1_000_000) -> str:
    """Read a lyrics file as text, whatever its 8-bit encoding.

    Parameters
    ----------
    path : str or Path
        A plain-text lyrics file.
    max_bytes : int > 0
        Larger files are refused (lyrics are a few kB).

    Returns
    -------
    text : str
        The decoded text with ``"\\n"`` line endings; ``""`` for an empty file.

    Raises
    ------
    LyricsError
        If the file is missing, not a regular file, unreadable, too large or binary.

    See Also
    --------
    decode_lyrics : the decoding rules.
    """
    if max_bytes <= 0:
        raise ParameterError(f"max_bytes must be positive, got {max_bytes}")
    path = Path(path)
    if not path.exists():
        raise LyricsError(path, "no such file")
    if not path.is_file():
        raise LyricsError(path, "not a regular file")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LyricsError(path, f"{size} bytes, larger than max_bytes={max_bytes}")
        data = path.read_bytes()
    except OSError as error:
        raise LyricsError(path, f"cannot be read: {error.strerror or error}") from None
    return decode_lyrics(data, source=path)[0]


def _canonical(text: str) -> str:
    """HTML entities decoded, HTML tags removed, NFKC, straight quotes and hyphens, no
    zero-width characters."""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    return unicodedata.normalize("NFKC", text).translate(_QUOTES)


def tokenise(text: str) -> list[str]:
    """Split text into lowercase word tokens: the one tokeniser of moodnet.

    Words are runs of letters and digits; apostrophes are kept inside words only
    (``"don't"``, ``"o'clock"``), so ``"'cause"`` gives ``"cause"`` and ``"runnin'"`` gives
    ``"runnin"``. Other punctuation (hyphens included) separates words. HTML entities are
    decoded and HTML tags dropped, curly quotes are treated as straight ones, and the text is
    NFKC-normalised and lowercased first, so that raw and normalised text give the same tokens.

    Parameters
    ----------
    text : str

    Returns
    -------
    tokens : list of str
    """
    return _WORD.findall(_canonical(text).lower())


def _strip_tags(line: str) -> str:
    """A line without its section tags, in time linear in its length.

    Whitespace runs become one space first and digit runs are matched possessively, so the
    patterns cannot backtrack over long runs; a label is only looked for when the part before
    the first ``:`` is short (backtracking over ``20,000`` spaces then a word took a minute).
    """
    line = " ".join(line.split())
    line = _drop_notes(line)
    line = _PAREN_MARKER.sub(" ", line)
    line = " ".join(_TRAILING_TIMES.sub(" ", line).split())
    if len(line.partition(":")[0]) > _MAX_LABEL_CHARS:
        return line
    label = _LABEL_LINE.match(line)
    if label is None:
        return line
    rest = label.group("rest") or ""
    return "" if _is_attribution(rest) else rest


def _drop_notes(line: str) -> str:
    """``[...]`` and ``{...}`` notes replaced by a space (an opener to the next closer of its
    kind), scanning each character once: an opener without closer is never rescanned."""
    pieces: list[str] = []
    kept_from = search_from = 0
    unclosed: set[str] = set()
    while (found := _OPENER.search(line, search_from)) is not None:
        start, opener = found.start(), found.group()
        end = -1 if opener in unclosed else line.find(_CLOSER[opener], start + 1)
        if end < 0:
            unclosed.add(opener)
            search_from = start + 1
            continue
        pieces += [line[kept_from:start], " "]
        kept_from = search_from = end + 1
    pieces.append(line[kept_from:])
    return "".join(pieces)


def _is_attribution(rest: str) -> bool:
    """``"Phife Dawg"``, ``"Q-Tip, Busta Rhymes"``: names after a section label, not lyrics."""
    words = rest.replace(",", " ").split()
    if len(words) > 6:
        return False
    return all(word.lower() in _ATTRIBUTION_JOINERS or not word[0].islower() for word in words)


def normalise_lyrics(
    text: str,
    *,
    drop_section_tags: bool = True,
    collapse_repeats: bool = True,
    unique_lines: bool = False,
) -> str:
    """Clean lyrics into lowercase lines of space-separated tokens.

    Steps: HTML entities and tags, NFKC and straight quotes; optional removal of section tags
    (``[Chorus]``, ``[Verse 1: Artist]``, any other ``[...]``/``{...}`` note, ``(x2)``,
    ``(repeat chorus)``, a trailing ``x4``, label lines such as ``Chorus:``, ``REPEAT CHORUS``,
    ``Repeat 3 times`` or ``Verse Two: Charlie Brown`` (a label and names only); a label
    followed by lyrics, ``Chorus: oh lordy``, keeps the lyrics); tokenisation of each line with
    :func:`tokenise` (lowercase, punctuation removed except in-word apostrophes); removal of
    empty lines; optional collapsing of repeated lines.

    Parameters
    ----------
    text : str
        Raw lyrics (e.g. from :func:`read_lyrics`).
    drop_section_tags : bool
        Remove section tags and repeat markers.
    collapse_repeats : bool
        Keep one line of each run of identical consecutive lines (compared after cleaning).
    unique_lines : bool
        Keep only the first occurrence of every line anywhere in the song (implies
        ``collapse_repeats``).

    Returns
    -------
    normalised : str
        Non-empty cleaned lines joined by ``"\\n"``; ``tokenise(normalised)`` gives the tokens.

    Raises
    ------
    ParameterError
        If ``text`` is longer than :data:`MAX_LYRICS_CHARS` characters. Time is linear in the
        length of the text, whatever it contains.
    """
    if len(text) > MAX_LYRICS_CHARS:
        raise ParameterError(
            f"lyrics of {len(text)} characters are longer than the limit of {MAX_LYRICS_CHARS}"
        )
    lines: list[str] = []
    seen: set[str] = set()
    for raw in _canonical(text).splitlines():
        cleaned = " ".join(_WORD.findall((_strip_tags(raw) if drop_section_tags else raw).lower()))
        if not cleaned:
            continue
        if unique_lines and cleaned in seen:
            continue
        if collapse_repeats and lines and lines[-1] == cleaned:
            continue
        seen.add(cleaned)
        lines.append(cleaned)
    return "\n".join(lines)


def lyrics_tokens(
    text: str,
    *,
    drop_section_tags: bool = True,
    collapse_repeats: bool = True,
    unique_lines: bool = False,
) -> list[str]:
    """``tokenise(normalise_lyrics(text, ...))``: the tokens the models see.

    Parameters
    ----------
    text : str
        Raw lyrics.
    drop_section_tags, collapse_repeats, unique_lines : bool
        As in :func:`normalise_lyrics`.

    Returns
    -------
    tokens : list of str
    """
    normalised = normalise_lyrics(
        text,
        drop_section_tags=drop_section_tags,
        collapse_repeats=collapse_repeats,
        unique_lines=unique_lines,
    )
    return tokenise(normalised)
