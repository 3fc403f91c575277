"""Targets from mood words and label schemes.

- :mod:`moodnet.labels.lexicon`: Warriner 2013 and NRC-VAD v1 on the moodnet VA scale [-1, 1]
  (``load_lexicons``, ``Lexicon``, ``Lexicons``).
- :mod:`moodnet.labels.tags`: tags -> valence/arousal with a recorded fallback chain
  (``tags_to_va``, ``tag_words``, ``CoverageReport``).
- :mod:`moodnet.labels.schemes`: ``SCHEMES`` (``va``, ``quadrant``, ``kmeansK``, ``absK``,
  ``given``, ``mirex5``), ``make_scheme``, ``scheme_from_json``, ``chance_levels``.

Submodules are imported on demand (``import moodnet.labels`` does no work).
"""
