"""all-MiniLM-L6-v2 as an ONNX graph, built with onnx.helper straight from the safetensors weights.

No torch: the graph is the forward pass of `minilm_numpy.Bert` (BERT, then mean pooling over
the attention mask) written as standard ONNX operators, opset 17. Its inputs are `input_ids`
and `attention_mask` (int64, batch x tokens), and for sentence pairs (the cross-encoder)
`token_type_ids`; its output `pooled` (float32, batch x 384) is not yet L2-normalised. Token
types are always 0 for one text, so without that input row 0 of the token-type table is folded
into the position table.
"""

import math
from typing import Any

import numpy as np

OPSET = 17
INPUTS = ("input_ids", "attention_mask")
PAIR_INPUTS = (*INPUTS, "token_type_ids")
OUTPUT = "pooled"


class _Graph:
    """Collects nodes and initializers; each op returns its output's name."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def const(self, name: str, value: np.ndarray | np.generic) -> str:
        """A named initializer (a weight or a constant)."""
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        """One node with a fresh output name."""
        from onnx import helper

        self._count += 1
        output = f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attributes))
        return output


def build_model(tensors: dict[str, np.ndarray], config: dict[str, Any], pairs: bool = False) -> Any:
    """The fp32 `onnx.ModelProto` of the encoder plus mean pooling; with `pairs`, it reads
    `token_type_ids` too."""
    from onnx import TensorProto, helper

    g = _Graph()
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    x = _embeddings(g, tensors, config["layer_norm_eps"], pairs)
    # additive key mask (batch, 1, 1, tokens): 0 for tokens, -10000 for padding, as BERT does
    blocked = g.op(
        "Mul",
        g.op("Sub", g.const("one", np.float32(1.0)), mask),
        g.const("blocked", np.float32(-10000.0)),
    )
    key_bias = g.op("Unsqueeze", blocked, g.const("axes_1_2", np.array([1, 2], dtype=np.int64)))
    g.const("head_shape", np.array([0, 0, config["num_attention_heads"], -1], dtype=np.int64))
    g.const("hidden_shape", np.array([0, 0, config["hidden_size"]], dtype=np.int64))
    g.const("sqrt2", np.float32(math.sqrt(2.0)))
    g.const("half", np.float32(0.5))
    for i in range(config["num_hidden_layers"]):
        x = _layer(g, tensors, f"encoder.layer.{i}.", x, key_bias, config)
    weights = g.op("Unsqueeze", mask, g.const("axis_last", np.array([-1], dtype=np.int64)))
    axis_1 = g.const("axis_1", np.array([1], dtype=np.int64))
    summed = g.op("ReduceSum", g.op("Mul", x, weights), axis_1, keepdims=0)
    counts = g.op("ReduceSum", mask, axis_1, keepdims=1)
    g.nodes.append(helper.make_node("Div", [summed, counts], [OUTPUT]))
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
            for name in (PAIR_INPUTS if pairs else INPUTS)
        ],
        [
            helper.make_tensor_value_info(
                OUTPUT, TensorProto.FLOAT, ["batch", config["hidden_size"]]
            )
        ],
        g.initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def _embeddings(g: _Graph, tensors: dict[str, np.ndarray], eps: float, pairs: bool) -> str:
    """Word + position + token type embeddings, layer-normed."""
    positions = tensors["embeddings.position_embeddings.weight"]
    types = tensors["embeddings.token_type_embeddings.weight"]
    if not pairs:
        positions = positions + types[0]
    words = g.op(
        "Gather",
        g.const("word_embeddings", tensors["embeddings.word_embeddings.weight"]),
        "input_ids",
    )
    tokens = g.op("Gather", g.op("Shape", "input_ids"), g.const("one_i", np.int64(1)))
    index = g.op("Range", g.const("zero_i", np.int64(0)), tokens, "one_i")
    position = g.op("Gather", g.const("position_embeddings", positions), index)
    x = g.op("Add", words, position)
    if pairs:
        x = g.op(
            "Add", x, g.op("Gather", g.const("token_type_embeddings", types), "token_type_ids")
        )
    return _layer_norm(g, x, tensors, "embeddings.LayerNorm", eps)


def _layer_norm(g: _Graph, x: str, tensors: dict[str, np.ndarray], prefix: str, eps: float) -> str:
    return g.op(
        "LayerNormalization",
        x,
        g.const(f"{prefix}.weight", tensors[f"{prefix}.weight"]),
        g.const(f"{prefix}.bias", tensors[f"{prefix}.bias"]),
        axis=-1,
        epsilon=eps,
    )


def _linear(
    g: _Graph, x: str, tensors: dict[str, np.ndarray], prefix: str, scale: float = 1.0
) -> str:
    """`x @ W.T + b`; the weight is stored transposed, a constant B that int8 can quantize."""
    weight = np.ascontiguousarray(tensors[f"{prefix}.weight"].T) * np.float32(scale)
    bias = tensors[f"{prefix}.bias"] * np.float32(scale)
    product = g.op("MatMul", x, g.const(f"{prefix}.weight", weight))
    return g.op("Add", product, g.const(f"{prefix}.bias", bias))


def _layer(
    g: _Graph,
    tensors: dict[str, np.ndarray],
    prefix: str,
    x: str,
    key_bias: str,
    config: dict[str, Any],
) -> str:
    """One encoder layer: self-attention, then the feed-forward block, each with a residual."""
    eps = config["layer_norm_eps"]
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    attention = f"{prefix}attention.self."
    # 1/sqrt(head_dim) folded into the query projection: one Mul fewer per layer
    q = _heads(
        g, _linear(g, x, tensors, attention + "query", 1 / math.sqrt(head_dim)), [0, 2, 1, 3]
    )
    k = _heads(g, _linear(g, x, tensors, attention + "key"), [0, 2, 3, 1])
    v = _heads(g, _linear(g, x, tensors, attention + "value"), [0, 2, 1, 3])
    scores = g.op("Softmax", g.op("Add", g.op("MatMul", q, k), key_bias), axis=-1)
    context = g.op("Transpose", g.op("MatMul", scores, v), perm=[0, 2, 1, 3])
    context = g.op("Reshape", context, "hidden_shape")
    attended = _linear(g, context, tensors, f"{prefix}attention.output.dense")
    x = _layer_norm(
        g, g.op("Add", attended, x), tensors, f"{prefix}attention.output.LayerNorm", eps
    )
    up = _gelu(g, _linear(g, x, tensors, f"{prefix}intermediate.dense"))
    down = _linear(g, up, tensors, f"{prefix}output.dense")
    return _layer_norm(g, g.op("Add", down, x), tensors, f"{prefix}output.LayerNorm", eps)


def _heads(g: _Graph, x: str, perm: list[int]) -> str:
    """(batch, tokens, hidden) split into heads, then transposed by `perm`."""
    return g.op("Transpose", g.op("Reshape", x, "head_shape"), perm=perm)


def _gelu(g: _Graph, x: str) -> str:
    """Exact GELU, x * 0.5 * (1 + erf(x / sqrt 2)), in the form onnxruntime fuses into one op."""
    erf = g.op("Add", g.op("Erf", g.op("Div", x, "sqrt2")), "one")
    return g.op("Mul", g.op("Mul", x, erf), "half")
