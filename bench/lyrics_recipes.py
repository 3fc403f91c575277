"""How much of a song the sentence encoder must read: lyrics alone, out of fold, per recipe.

The MiniLM branch of ``bench.kfold_lyrics``'s lyrics-only table (same 5 artist-disjoint
folds, same heads, C by inner artist-grouped CV; 763 MIREX-like clips with usable lyrics),
once per chunk recipe of :class:`moodnet.lyrics.SentenceEncoder`: the mean over the whole
song's 128-word chunks (up to 16: ``moodnet-default-6``), and the first 128 or 64 words only.
Beside each: valence and arousal AUC with a 95 % bootstrap interval, 5-cluster macro-F1, and
the encoder's milliseconds per song (median and 90th percentile, onnx runtime, this
machine's cores) and word pieces read. The chance level of the procedure is in
``docs/results/kfold_lyrics.md`` (shuffled labels).

Usage::

    python -m bench.lyrics_recipes --mirex work/mirex.jsonl --out docs/results/lyrics_recipes.md
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from bench.kfold_lyrics import _interval, _lyrics_only, _macro_f1, mirex_lyrics_folds
from bench.report import cpu_description, git_commit, write_report
from moodnet.lyrics import SentenceEncoder
from moodnet.lyrics.embeddings import WHOLE_SONG_CHUNKS

RECIPES = (("whole song (128-word chunks, up to 16)", 128, WHOLE_SONG_CHUNKS),
           ("first 128 words (default)", 128, 1),
           ("first 64 words", 64, 1))


def _embed(encoder: SentenceEncoder, texts: list[str], rows: np.ndarray) -> tuple:
    """Embeddings of ``texts[rows]`` (zeros elsewhere), ms per song, word pieces per song."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    ms, pieces = [], []
    tokenizer = encoder.model.tokenizer
    for i in rows:
        started = time.perf_counter()
        out[i] = encoder.encode([texts[i]])[0]
        ms.append((time.perf_counter() - started) * 1000)
        chunks = encoder.chunks(texts[i])
        pieces.append(sum(len(e.ids) for e in tokenizer.encode_batch(chunks)))
    return out, np.array(ms), np.array(pieces)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirex", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    _, texts, has, signs, clusters, groups, folds = mirex_lyrics_folds(args.mirex)
    rows = np.flatnonzero(has)
    rng = np.random.default_rng(0)
    lines = [
        "# Lyrics alone per sentence-encoder recipe (MiniLM branch, out of fold)\n",
        f"`python -m bench.lyrics_recipes --mirex work/mirex.jsonl --out {args.out}` (commit "
        f"{git_commit()}; {cpu_description()}; {len(rows)} MIREX-like clips with usable "
        "lyrics, 5 artist-disjoint folds; value [95 % bootstrap CI]). Chance: AUC 0.5, "
        "macro-F1 0.2.\n",
        "| recipe | valence AUC | arousal AUC | 5-cluster macro-F1 | ms per song, median / "
        "90th pct | word pieces, median |", "|---|---|---|---|---|---|",
    ]
    for name, words, chunks in RECIPES:
        encoder = SentenceEncoder(chunk_words=words, max_chunks=chunks)
        emb, ms, pieces = _embed(encoder, texts, rows)
        z, lp = _lyrics_only(emb, signs, clusters, groups, folds, rows)
        cells = []
        for axis in (0, 1):
            def auc(p, r, axis=axis):
                return roc_auc_score(signs[r, axis] > 0, p[r, axis])
            cells.append("{:.3f} [{:.3f}, {:.3f}]".format(*_interval(z, auc, rows, rng)))
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | "
                     f"{_macro_f1(clusters[rows], lp[rows]):.3f} | {np.median(ms):.1f} / "
                     f"{np.percentile(ms, 90):.1f} | {np.median(pieces):.0f} |")
        print(lines[-1], flush=True)
    write_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
