"""The six transformer blocks of :class:`moodnet.lyrics.minilm.MiniLM` as an ONNX graph, run by
ONNX Runtime.

The graph is written here, from the weights already in memory, as the bytes of an ONNX
``ModelProto`` (opset 17: ``MatMul``, ``Softmax``, ``Erf``, ``LayerNormalization``, ...):
a few dozen lines of protobuf encoding instead of the ``onnx`` package, whose import alone
costs about 1.5 s. It computes what :meth:`MiniLM._block` computes, in the same order (exact
GELU, post-layer-norm); ONNX Runtime fuses and threads it (about 1.7x the numpy forward on a
128-word chunk, 2 AVX2 cores). Nothing is written to disk.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from moodnet.errors import DataError

if TYPE_CHECKING:
    from moodnet.lyrics.minilm import _Layer

_OPSET = 17
_IR_VERSION = 8
_FLOAT, _INT64 = 1, 7  # TensorProto.DataType
_ATTR_INT, _ATTR_FLOAT, _ATTR_INTS = 2, 1, 7  # AttributeProto.AttributeType


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64: two's complement, as protobuf writes it
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _Message:
    """A protobuf message being written: its parts (weights as views, not copies) and size."""

    def __init__(self) -> None:
        self.parts: list[bytes | memoryview] = []
        self.size = 0

    def _raw(self, data: bytes | memoryview) -> None:
        self.parts.append(data)
        self.size += len(data)

    def varint(self, field: int, value: int) -> _Message:
        self._raw(_varint(field << 3) + _varint(value))
        return self

    def fixed32(self, field: int, value: float) -> _Message:
        self._raw(_varint(field << 3 | 5) + struct.pack("<f", value))
        return self

    def field(self, field: int, payload: str | bytes | memoryview | _Message) -> _Message:
        if isinstance(payload, str):
            payload = payload.encode()
        size = payload.size if isinstance(payload, _Message) else len(payload)
        self._raw(_varint(field << 3 | 2) + _varint(size))
        if isinstance(payload, _Message):
            self.extend(payload)
        else:
            self._raw(payload)
        return self

    def extend(self, other: _Message) -> None:
        """Append ``other``'s fields (already written) to this message's."""
        self.parts.extend(other.parts)
        self.size += other.size


def _tensor(name: str, array: np.ndarray) -> _Message:
    kind = {np.dtype(np.float32): _FLOAT, np.dtype(np.int64): _INT64}[array.dtype]
    tensor = _Message()
    for d in array.shape:
        tensor.varint(1, d)
    raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return tensor.varint(2, kind).field(8, name).field(9, raw.data.cast("B"))


def _attribute(name: str, value: int | float | Sequence[int]) -> _Message:
    attribute = _Message().field(1, name)
    if isinstance(value, float):
        return attribute.fixed32(2, value).varint(20, _ATTR_FLOAT)
    if isinstance(value, int):
        return attribute.varint(3, value).varint(20, _ATTR_INT)
    for v in value:
        attribute.varint(8, v)
    return attribute.varint(20, _ATTR_INTS)


def _value_info(name: str, dims: Sequence[int | str]) -> _Message:
    shape = _Message()
    for d in dims:
        shape.field(1, _Message().varint(1, d) if isinstance(d, int) else _Message().field(2, d))
    tensor_type = _Message().varint(1, _FLOAT).field(2, shape)
    return _Message().field(1, name).field(2, _Message().field(1, tensor_type))


class _Graph:
    """Nodes and initialisers of one graph, in the order they are added."""

    def __init__(self) -> None:
        self.graph = _Message()
        self.initialisers = _Message()

    def constant(self, name: str, array: np.ndarray) -> str:
        self.initialisers.field(5, _tensor(name, array))
        return name

    def node(self, op: str, inputs: Sequence[str], output: str | Sequence[str],
             **attributes: int | float | Sequence[int]) -> str:
        outputs = [output] if isinstance(output, str) else list(output)
        node = _Message()
        for name in inputs:
            node.field(1, name)
        for name in outputs:
            node.field(2, name)
        node.field(3, outputs[0]).field(4, op)
        for key, value in attributes.items():
            node.field(5, _attribute(key, value))
        self.graph.field(1, node)
        return outputs[0]

    def model(self, inputs: Sequence[_Message], outputs: Sequence[_Message]) -> bytes:
        graph = self.graph.field(2, "minilm_blocks")
        graph.extend(self.initialisers)
        for value in inputs:
            graph.field(11, value)
        for value in outputs:
            graph.field(12, value)
        opset = _Message().field(1, "").varint(2, _OPSET)
        model = _Message().varint(1, _IR_VERSION).field(2, "moodnet").field(7, graph)
        model.field(8, opset)
        return b"".join(model.parts)


def blocks_model(layers: Sequence[_Layer], *, heads: int, eps: float) -> bytes:
    """The transformer blocks as a serialised ONNX model: input ``x`` (1, tokens, width) after
    the embedding layer norm, output ``y`` of the same shape (before pooling)."""
    g = _Graph()
    width = layers[0].out.shape[0]
    split_heads = g.constant("split_heads", np.array([0, 0, heads, width // heads], np.int64))
    join_heads = g.constant("join_heads", np.array([0, 0, width], np.int64))
    thirds = g.constant("thirds", np.array([width] * 3, np.int64))
    scale = g.constant("scale", np.array((width // heads) ** -0.5, np.float32))
    half = g.constant("half", np.array(0.5, np.float32))
    one = g.constant("one", np.array(1.0, np.float32))
    root_half = g.constant("root_half", np.array(2**-0.5, np.float32))
    x = "x"
    for i, layer in enumerate(layers):
        def c(name: str, array: np.ndarray, i: int = i) -> str:
            return g.constant(f"l{i}.weight.{name}", array)

        def n(op: str, inputs: Sequence[str], name: str, i: int = i,
              **attributes: int | float | Sequence[int]) -> str:
            return g.node(op, inputs, f"l{i}.{name}", **attributes)

        qkv = n("Add", [n("MatMul", [x, c("qkv", layer.qkv)], "qkv_mm"),
                        c("qkv_bias", layer.qkv_bias)], "qkv")
        q, k, v = (f"l{i}.{part}" for part in "qkv")
        g.node("Split", [qkv, thirds], [q, k, v], axis=2)
        per_head = {part: n("Reshape", [name, split_heads], f"{part}_heads")
                    for part, name in zip("qkv", (q, k, v), strict=True)}
        q = n("Transpose", [per_head["q"]], "q_t", perm=[0, 2, 1, 3])  # (1, heads, t, 32)
        k = n("Transpose", [per_head["k"]], "k_t", perm=[0, 2, 3, 1])  # (1, heads, 32, t)
        v = n("Transpose", [per_head["v"]], "v_t", perm=[0, 2, 1, 3])
        scores = n("Mul", [n("MatMul", [q, k], "scores_raw"), scale], "scores")
        weights = n("Softmax", [scores], "attention", axis=-1)  # (1, heads, t, t)
        context = n("Reshape", [n("Transpose", [n("MatMul", [weights, v], "context_heads")],
                                  "context_t", perm=[0, 2, 1, 3]), join_heads], "context")
        attended = n("Add", [n("Add", [n("MatMul", [context, c("out", layer.out)], "out_mm"),
                                       c("out_bias", layer.out_bias)], "out"), x], "residual1")
        x1 = n("LayerNormalization", [attended, c("norm1_w", layer.norm1[0]),
                                      c("norm1_b", layer.norm1[1])], "x1", axis=-1, epsilon=eps)
        up = n("Add", [n("MatMul", [x1, c("up", layer.up)], "up_mm"),
                       c("up_bias", layer.up_bias)], "up")  # (1, t, 1536)
        erf = n("Erf", [n("Mul", [up, root_half], "up_scaled")], "erf")
        gelu = n("Mul", [n("Mul", [up, n("Add", [erf, one], "erf1")], "gelu2"), half], "gelu")
        down = n("Add", [n("Add", [n("MatMul", [gelu, c("down", layer.down)], "down_mm"),
                                   c("down_bias", layer.down_bias)], "down"), x1], "residual2")
        last = i == len(layers) - 1
        x = g.node("LayerNormalization", [down, c("norm2_w", layer.norm2[0]),
                                          c("norm2_b", layer.norm2[1])],
                   "y" if last else f"l{i}.x2", axis=-1, epsilon=eps)
    shape: list[int | str] = [1, "tokens", width]
    return g.model([_value_info("x", shape)], [_value_info(x, shape)])


class OnnxBlocks:
    """The blocks of :func:`blocks_model` in an ONNX Runtime session.

    Parameters
    ----------
    layers, heads, eps : the :class:`~moodnet.lyrics.minilm.MiniLM`'s
    threads : int > 0, optional
        Threads of the session (default: ONNX Runtime's, one per physical core).

    Raises
    ------
    DataError
        ``onnxruntime`` is not installed.
    """

    def __init__(self, layers: Sequence[_Layer], *, heads: int, eps: float,
                 threads: int | None = None) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise DataError("the sentence encoder's onnx runtime needs onnxruntime: "
                            "pip install onnxruntime") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.inter_op_num_threads = 1
        if threads is not None:
            options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            blocks_model(layers, heads=heads, eps=eps), options,
            providers=["CPUExecutionProvider"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(tokens, width) float32 -> (tokens, width): one text's tokens through the blocks."""
        return self.session.run(["y"], {"x": x[None]})[0][0]
