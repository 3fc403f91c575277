"""Teacher targets for distilling musicnn (MSD) into the default model's student: the
command of :mod:`moodnet.training.teacher`, kept under this name for the commands in the docs.

Usage::

    python -m bench.teacher_cache work/mirex.jsonl work/4q.jsonl --cache work/patch_cache \\
        [--augment 1] [--mix 1 --partners work/mirex.jsonl]
"""

from __future__ import annotations

import sys

from moodnet.training.teacher import main

if __name__ == "__main__":
    sys.exit(main())
