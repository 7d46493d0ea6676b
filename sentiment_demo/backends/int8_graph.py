"""Rewrites an ONNX float32 graph's weight MatMuls as int8 arithmetic, one scale per token.

Each MatMul of an activation X by a stored 2-D weight W becomes:
- W as int8 with one scale per output column (made here, once per weight);
- X as uint8 with one scale per token (row), computed as the model runs: scale = max|x| / 127, zero
  point 128. A token's scale depends on that token only, so a text's scores do not depend on the batch
  it came in, and an outlier token moves only its own row;
- ONNX Runtime's MatMulIntegerToFloat (int8 arithmetic, float32 out with the column scales), times
  the row scales.
A MatMul input shared by several weights (the query, key and value projections) is quantized once.

Why this and not ONNX Runtime's own quantizers, measured on the embedded model's check set (README,
"Runtimes"): dynamic quantization (one activation scale per batch) moved 1.5-2.7% of the labels;
MatMulNBits 8-bit with per-block activations kept them but ran barely faster than float32; this kept
them (0.33% moved) and runs at about dynamic quantization's speed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

METHOD = (
    "int8 weights with one scale per output column, uint8 activations with one scale per token "
    "computed as the model runs, ONNX Runtime's MatMulIntegerToFloat"
)
_ZERO_POINT = 128


def weight_matmuls(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """MatMul nodes that multiply an activation by a stored 2-D weight.

    The attention projections and the feed-forward layers; attention scores multiply two activations,
    and a classification head exported as Gemm is not a MatMul, so neither is listed.
    """
    shapes = {init.name: len(init.dims) for init in model.graph.initializer}
    return [
        node
        for node in model.graph.node
        if node.op_type == "MatMul"
        and len(node.input) == 2
        and node.input[0] not in shapes
        and shapes.get(node.input[1]) == 2
    ]


def _int8_columns(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 weights with one scale per output column, and those scales."""
    scales = np.maximum(np.abs(weight).max(axis=0), 1e-12) / 127.0
    quantized = np.clip(np.round(weight / scales), -127, 127).astype(np.int8)
    return quantized, scales.astype(np.float32)


def rewrite(source: Path, target: Path) -> int:
    """Write `source` with every weight MatMul in int8 to `target`; how many MatMuls were rewritten."""
    model = onnx.load(str(source))
    graph = model.graph
    chosen = {node.output[0] for node in weight_matmuls(model)}
    weights = {init.name: init for init in graph.initializer}
    added: list[onnx.TensorProto] = []

    def constant(name: str, value: np.ndarray) -> str:
        added.append(numpy_helper.from_array(value, name))
        return name

    inv127 = constant("int8/inv127", np.array(1 / 127.0, np.float32))
    tiny = constant("int8/tiny", np.array(1e-8, np.float32))
    one = constant("int8/one", np.array(1.0, np.float32))
    zero_point = constant("int8/zero_point", np.array(_ZERO_POINT, np.uint8))
    axis1 = constant("int8/axis1", np.array([1], np.int64))
    start, drop_last = (
        constant("int8/start", np.array([0], np.int64)),
        constant("int8/drop_last", np.array([-1], np.int64)),
    )
    nodes: list[onnx.NodeProto] = []
    rows_of: dict[str, str] = {}  # an activation -> the prefix of its quantized rows
    columns_of: dict[str, tuple[str, str, int]] = {}  # a weight -> int8 name, scales name, width
    for node in graph.node:
        if node.op_type != "MatMul" or node.output[0] not in chosen:
            nodes.append(node)
            continue
        x, w = node.input
        if w not in columns_of:
            values = numpy_helper.to_array(weights[w]).astype(np.float32)
            q, scales = _int8_columns(values)
            prefix = f"int8/w{len(columns_of)}"
            columns_of[w] = (
                constant(f"{prefix}/q", q),
                constant(f"{prefix}/scale", scales),
                values.shape[1],
            )
        if x not in rows_of:
            p = f"int8/x{len(rows_of)}"
            width = weights[w].dims[0]
            as_rows = constant(f"{p}/as_rows", np.array([-1, width], np.int64))
            nodes += [
                helper.make_node("Shape", [x], [f"{p}/shape"]),
                helper.make_node("Slice", [f"{p}/shape", start, drop_last], [f"{p}/lead"]),
                helper.make_node("Reshape", [x, as_rows], [f"{p}/rows"]),
                helper.make_node("Abs", [f"{p}/rows"], [f"{p}/abs"]),
                helper.make_node("ReduceMax", [f"{p}/abs"], [f"{p}/max"], axes=[1], keepdims=0),
                helper.make_node("Max", [f"{p}/max", tiny], [f"{p}/max_or_tiny"]),
                helper.make_node("Mul", [f"{p}/max_or_tiny", inv127], [f"{p}/scale"]),
                helper.make_node("Shape", [f"{p}/scale"], [f"{p}/count"]),
                helper.make_node(
                    "ConstantOfShape",
                    [f"{p}/count"],
                    [f"{p}/zero_points"],
                    value=helper.make_tensor("zero_point", TensorProto.UINT8, [1], [_ZERO_POINT]),
                ),
                helper.make_node(
                    "QuantizeLinear",
                    [f"{p}/rows", f"{p}/scale", f"{p}/zero_points"],
                    [f"{p}/q"],
                    axis=0,
                ),
                helper.make_node("Unsqueeze", [f"{p}/scale", axis1], [f"{p}/scale_column"]),
            ]
            rows_of[x] = p
        p, (wq, w_scale, out_width) = rows_of[x], columns_of[w]
        name = node.name or node.output[0]
        width_out = constant(f"{name}/int8_width", np.array([out_width], np.int64))
        nodes += [
            helper.make_node(
                "MatMulIntegerToFloat",
                [f"{p}/q", wq, one, w_scale, zero_point],
                [f"{name}/int8_rows"],
                domain="com.microsoft",
            ),
            helper.make_node("Mul", [f"{name}/int8_rows", f"{p}/scale_column"], [f"{name}/rows"]),
            helper.make_node("Concat", [f"{p}/lead", width_out], [f"{name}/shape"], axis=0),
            helper.make_node("Reshape", [f"{name}/rows", f"{name}/shape"], [node.output[0]]),
        ]
    used = {name for node in nodes for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + [init for init in added if init.name in used])
    if not any(entry.domain == "com.microsoft" for entry in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return len(chosen)
