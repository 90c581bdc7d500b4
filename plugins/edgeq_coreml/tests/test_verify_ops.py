"""The numpy kernels of the program interpreter against hand-derived goldens and
against edgeq's float interpreter (an independent implementation of the same op)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq_coreml.verify.ops import OPS


class _Op:
    def __init__(self, op_type: str) -> None:
        self.op_type = op_type
        self.name = f"test_{op_type}"


def run(op_type: str, **inputs):
    return OPS.lookup(_Op(op_type))(_Op(op_type), inputs, None)


def test_quantize_rounds_half_to_even_and_saturates():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1000.0, -1000.0], np.float32)
    q = run("quantize", input=x, scale=np.float32(1.0), zero_point=np.int8(0), output_dtype="int8")
    np.testing.assert_array_equal(q, [0, 2, 2, 0, -2, 127, -128])
    u = run("quantize", input=np.array([0.0, 0.25], np.float32), scale=np.float32(0.25),
            output_dtype="uint8")
    np.testing.assert_array_equal(u, [0, 1])
    assert u.dtype == np.uint8


def test_dequantize_per_axis():
    q = np.array([[1, 2], [3, 4]], np.int8)
    d = run("dequantize", input=q, scale=np.array([1.0, 0.5], np.float32),
            zero_point=np.array([1, 0], np.int8), axis=np.int32(0))
    np.testing.assert_allclose(d, [[0, 1], [1.5, 2]])
    w = run("constexpr_affine_dequantize", quantized_data=q, scale=np.array([2.0, 1.0], np.float32),
            zero_point=np.int8(0), axis=np.int32(1))
    np.testing.assert_allclose(w, [[2, 2], [6, 4]])


def test_blockwise_shift_scale_matches_affine():
    rng = np.random.default_rng(0)
    q = rng.integers(-127, 128, (4, 3, 2, 2)).astype(np.int8)
    s = rng.uniform(0.1, 1, 4).astype(np.float32)
    a = run("constexpr_affine_dequantize", quantized_data=q, scale=s, zero_point=np.int8(0), axis=np.int32(0))
    b = run("constexpr_blockwise_shift_scale", data=q, scale=s.reshape(4, 1, 1, 1))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("groups,dil,stride", [(1, 1, 1), (4, 1, 2), (2, 2, 1)])
def test_conv_against_float_interpreter(groups, dil, stride):
    from edgeq.sdk import Graph, Node, Tensor, run_graph

    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 4, 9, 8)).astype(np.float32)
    w = rng.normal(size=(8, 4 // groups, 3, 3)).astype(np.float32)
    b = rng.normal(size=8).astype(np.float32)
    ours = run("conv", x=x, weight=w, bias=b, strides=np.array([stride, stride]), pad_type="custom",
               pad=np.array([1, 0, 2, 1]), dilations=np.array([dil, dil]), groups=np.int32(groups))
    g = Graph("c")
    g.tensors["x"] = Tensor("x", np.float32, x.shape)
    g.tensors["w"] = Tensor("w", np.float32, w.shape, w)
    g.tensors["b"] = Tensor("b", np.float32, b.shape, b)
    g.tensors["y"] = Tensor("y", np.float32, ours.shape)
    # ONNX pads [t, l, b, r]; MIL pad [t, b, l, r]
    g.nodes.append(Node("conv", "Conv", ["x", "w", "b"], ["y"],
                        {"kernel_shape": [3, 3], "strides": [stride, stride], "pads": [1, 2, 0, 1],
                         "dilations": [dil, dil], "group": groups}))
    g.inputs, g.outputs = ["x"], ["y"]
    np.testing.assert_allclose(ours, run_graph(g, {"x": x})["y"], rtol=1e-5, atol=1e-5)


def test_avg_pool_excludes_padding():
    x = np.ones((1, 1, 2, 2), np.float32)
    kw = dict(x=x, kernel_sizes=np.array([2, 2]), strides=np.array([1, 1]), pad_type="custom",
              pad=np.array([1, 0, 1, 0]))
    # corner window covers one real value and three padded zeros
    assert run("avg_pool", exclude_padding_from_average=True, **kw)[0, 0, 0, 0] == 1.0
    assert run("avg_pool", exclude_padding_from_average=False, **kw)[0, 0, 0, 0] == 0.25
    assert run("max_pool", x=-x, kernel_sizes=np.array([2, 2]), strides=np.array([1, 1]),
               pad_type="custom", pad=np.array([1, 0, 1, 0]))[0, 0, 0, 0] == -1.0


def test_slice_by_index_masks():
    x = np.arange(10)
    y = run("slice_by_index", x=x, begin=np.array([8]), end=np.array([0]), stride=np.array([-2]),
            end_mask=np.array([True]))
    np.testing.assert_array_equal(y, [8, 6, 4, 2, 0])


def test_gelu_modes_and_sigmoid_hard():
    x = np.array([-1.0, 0.0, 1.0], np.float32)
    np.testing.assert_allclose(run("gelu", x=x, mode="EXACT"), [-0.158655, 0.0, 0.841345], atol=1e-6)
    np.testing.assert_allclose(run("gelu", x=x, mode="TANH_APPROXIMATION"), [-0.158808, 0.0, 0.841192],
                               atol=1e-6)
    np.testing.assert_allclose(run("sigmoid_hard", x=np.array([-4.0, 0.0, 4.0], np.float32),
                                   alpha=np.float32(1 / 6), beta=np.float32(0.5)), [0.0, 0.5, 1.0])


def test_pad_modes_and_rsqrt_epsilon():
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_array_equal(run("pad", x=x, pad=np.array([1, 2]), mode="reflect"), [[2, 1, 2, 3, 2, 1]])
    np.testing.assert_array_equal(run("pad", x=x, pad=np.array([1, 0]), mode="constant",
                                      constant_val=np.float32(9)), [[9, 1, 2, 3]])
    np.testing.assert_allclose(run("rsqrt", x=np.array([4.0], np.float32), epsilon=np.float32(0.0)), [0.5])


def test_unknown_op_is_named():
    from edgeq.sdk import UnsupportedOpError

    with pytest.raises(UnsupportedOpError, match="test_einsum"):
        OPS.lookup(_Op("einsum"))
