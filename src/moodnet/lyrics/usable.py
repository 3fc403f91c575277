"""Whether a lyrics text is something the English lyrics model can read.

The default model's lyrics branch (all-MiniLM-L6-v2, trained on English lyrics) is used only
for texts of at least :data:`MIN_WORDS` words; a text of :data:`LANGUAGE_CHECK_WORDS` words or
more must also have at least :data:`MIN_ENGLISH_SHARE` of its words among the most common
English function words (shorter texts are too short to judge). Other texts fall back to the
audio-only answer, with the reason in the result.
"""

from __future__ import annotations

from moodnet.lyrics.text import tokenise

MIN_WORDS = 3
LANGUAGE_CHECK_WORDS = 20
MIN_ENGLISH_SHARE = 0.15
_ENGLISH_FUNCTION_WORDS = frozenset(
    """
    a about all am an and are as at be been but by can do don't for from have he her him
    his i i'm if in is it it's just me my no not now of oh on or our out she so that the
    their them then there they this to up was we were what when will with you you're your
    yeah
    """.split()  # noqa: SIM905
)


def lyrics_problem(text: str) -> str | None:
    """None when ``text`` is usable English lyrics, else the reason in words."""
    words = tokenise(text)
    if len(words) < MIN_WORDS:
        return f"lyrics not used: {len(words)} words, fewer than {MIN_WORDS}"
    share = sum(word in _ENGLISH_FUNCTION_WORDS for word in words) / len(words)
    if len(words) >= LANGUAGE_CHECK_WORDS and share < MIN_ENGLISH_SHARE:
        return (f"lyrics not used: they do not look like English ({share:.0%} common English "
                f"words, below {MIN_ENGLISH_SHARE:.0%})")
    return None
