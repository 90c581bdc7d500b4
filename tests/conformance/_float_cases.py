"""The golden cases of the float conformance suite: at least one per ONNX op the float
interpreter registers, plus variants where the op has modes (padding, groups, layouts).

Inputs are random with a per-case seed (see ``_float_harness.rng_for``); constants are
initializers. Tolerances default to rtol = atol = 1e-4 and are tightened to 1e-6 for
elementwise ops whose result is one correctly rounded float32 operation per element.
"""

from __future__ import annotations

import numpy as np

from _float_harness import Case, rng_for

F32 = np.float32
TIGHT = dict(rtol=1e-6, atol=1e-6)


def _f(rng, *shape, lo=-3.0, hi=3.0):
    return rng.uniform(lo, hi, size=shape).astype(F32)


def _i64(*values):
    return np.array(values, dtype=np.int64)


def unary_cases() -> list[Case]:
    out = []
    specs = {
        "Relu": {}, "Sigmoid": {}, "Tanh": {}, "Exp": {}, "Neg": {}, "Abs": {}, "Erf": {},
        "Floor": {}, "Ceil": {}, "Reciprocal": {}, "Softmax": {"axis": 1},
        "LogSoftmax": {"axis": -1}, "HardSigmoid": {"alpha": 0.2, "beta": 0.5},
        "HardSwish": {}, "LeakyRelu": {"alpha": 0.1}, "Identity": {},
    }
    for op, attrs in specs.items():
        name = f"{op.lower()}"
        rng = rng_for(name)
        x = _f(rng, 2, 3, 4, 5, lo=-6, hi=6)
        tol = TIGHT if op not in ("Softmax", "LogSoftmax", "Erf") else {}
        out.append(Case(name, op, [("x", x, False)], attrs, **tol))
    rng = rng_for("sqrt_log")
    pos = _f(rng, 3, 7, lo=0.01, hi=10)
    out += [Case("sqrt", "Sqrt", [("x", pos, False)], **TIGHT),
            Case("log", "Log", [("x", pos, False)], **TIGHT),
            Case("erf_tight", "Erf", [("x", _f(rng, 1000, lo=-5, hi=5), False)], rtol=0, atol=2e-7),
            # onnxruntime's MLAS logistic is a clamped rational approximation (relative error
            # ~1e-5 near -5, exactly 0 below about -18); edgeq's is exact to float32 rounding
            Case("sigmoid_tails", "Sigmoid", [("x", np.array([-100, -30, -5, 0, 5, 30, 100], F32), False)],
                 rtol=2e-5, atol=1e-12)]
    return out


def binary_cases() -> list[Case]:
    out = []
    for op in ("Add", "Sub", "Mul", "Div", "Min", "Max"):
        rng = rng_for(op)
        a, b = _f(rng, 2, 3, 4), _f(rng, 3, 1, lo=0.5, hi=3)
        out.append(Case(op.lower(), op, [("a", a, False), ("b", b, True)], **TIGHT))
    rng = rng_for("pow")
    out += [Case("pow_square", "Pow", [("x", _f(rng, 4, 6), False), ("e", np.array(2, F32), True)], **TIGHT),
            Case("pow_general", "Pow", [("x", _f(rng, 4, 6, lo=0.1, hi=4), False), ("e", _f(rng, 6, lo=-2, hi=2), True)],
                 rtol=1e-5, atol=1e-6),
            Case("div_int64", "Div", [("a", _i64(7, -7, 9, -9), False), ("b", _i64(2, 2, -4, -4), True)]),
            Case("max_variadic", "Max", [("a", _f(rng, 3, 4), False), ("b", _f(rng, 4), True),
                                         ("c", _f(rng, 3, 1), True)], **TIGHT)]
    for op in ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"):
        rng = rng_for(op)
        a = rng.integers(0, 3, size=(3, 4)).astype(F32)
        out.append(Case(op.lower(), op, [("a", a, False), ("b", np.array([0, 1, 2, 1], F32), True)]))
    rng = rng_for("bool")
    p, q = rng.random((3, 5)) > 0.5, rng.random((5,)) > 0.5
    out += [Case("and", "And", [("p", p, False), ("q", q, True)]),
            Case("or", "Or", [("p", p, False), ("q", q, True)]),
            Case("not", "Not", [("p", p, False)]),
            Case("where", "Where", [("c", p, False), ("x", _f(rng, 3, 5), False), ("y", _f(rng, 1, 5), True)])]
    return out


def activation_cases() -> list[Case]:
    rng = rng_for("act")
    x = _f(rng, 1, 4, 5, 5)
    return [
        Case("clip_relu6", "Clip", [("x", x * 3, False), ("lo", np.array(0, F32), True), ("hi", np.array(6, F32), True)], **TIGHT),
        Case("clip_max_only", "Clip", [("x", x, False), ("lo", None, True), ("hi", np.array(1.5, F32), True)], **TIGHT),
        Case("prelu_channel", "PRelu", [("x", x, False), ("s", _f(rng, 4, 1, 1, lo=0, hi=0.5), True)], **TIGHT),
        Case("gelu_erf", "Gelu", [("x", x, False)], {"approximate": "none"}, opset=20, rtol=1e-6, atol=1e-6),
        Case("gelu_tanh", "Gelu", [("x", x, False)], {"approximate": "tanh"}, opset=20, rtol=1e-5, atol=1e-6),
    ]


def conv_cases() -> list[Case]:
    out = []
    specs = [  # name, x shape, w shape, attrs, bias
        ("conv2d_3x3_pad", (1, 3, 9, 11), (8, 3, 3, 3), {"pads": [1, 1, 1, 1]}, True),
        ("conv2d_stride2_asym", (2, 4, 10, 9), (6, 4, 3, 2), {"strides": [2, 2], "pads": [1, 0, 2, 1]}, True),
        ("conv2d_dilated", (1, 2, 12, 12), (4, 2, 3, 3), {"dilations": [2, 2], "pads": [2, 2, 2, 2]}, False),
        ("conv2d_groups", (1, 8, 7, 7), (12, 2, 3, 3), {"group": 4, "pads": [1, 1, 1, 1]}, True),
        ("conv2d_depthwise", (1, 16, 14, 14), (16, 1, 3, 3), {"group": 16, "strides": [2, 2], "pads": [1, 1, 1, 1]}, True),
        ("conv2d_depthwise_5x5_s21", (1, 24, 12, 48), (24, 1, 5, 5), {"group": 24, "strides": [2, 1], "pads": [2, 2, 2, 2]}, True),
        ("conv2d_depthwise_dilated_asym", (2, 5, 13, 11), (5, 1, 3, 3),
         {"group": 5, "strides": [2, 3], "dilations": [2, 3], "pads": [0, 2, 3, 1]}, False),
        ("conv2d_depthwise_same_lower", (1, 7, 9, 10), (7, 1, 4, 3), {"group": 7, "strides": [2, 2], "auto_pad": "SAME_LOWER"}, True),
        ("conv2d_depthwise_channels_last", (2, 64, 6, 5), (64, 1, 3, 3), {"group": 64, "strides": [2, 2], "pads": [1, 1, 1, 1]}, True),
        ("conv2d_depthwise_big", (1, 40, 60, 70), (40, 1, 3, 3), {"group": 40, "pads": [1, 1, 1, 1]}, True),
        ("conv2d_depthwise_mult2", (1, 4, 8, 8), (8, 1, 5, 5), {"group": 4, "pads": [2, 2, 2, 2]}, True),
        ("conv2d_pointwise", (2, 16, 6, 6), (24, 16, 1, 1), {}, True),
        ("conv2d_same_upper", (1, 3, 10, 10), (5, 3, 4, 4), {"auto_pad": "SAME_UPPER", "strides": [3, 3]}, True),
        ("conv1d_strided", (1, 2, 64), (6, 2, 8), {"strides": [4]}, True),
        ("conv1d_pad", (3, 4, 20), (5, 4, 3), {"pads": [1, 1]}, True),
        ("conv1d_depthwise", (2, 6, 30), (6, 1, 5), {"group": 6, "strides": [2], "pads": [2, 1]}, True),
        ("conv3d", (1, 2, 5, 6, 7), (3, 2, 3, 2, 3), {"pads": [1, 0, 1, 1, 1, 1], "strides": [1, 2, 2]}, True),
    ]
    for name, xs, ws, attrs, bias in specs:
        rng = rng_for(name)
        inputs = [("x", _f(rng, *xs), False), ("w", _f(rng, *ws, lo=-0.5, hi=0.5), True)]
        if bias:
            inputs.append(("b", _f(rng, ws[0]), True))
        out.append(Case(name, "Conv", inputs, attrs, rtol=1e-5, atol=1e-5))
    return out


def linear_cases() -> list[Case]:
    rng = rng_for("linear")
    return [
        Case("matmul_batched", "MatMul", [("a", _f(rng, 2, 5, 8), False), ("b", _f(rng, 8, 3), True)], rtol=1e-5, atol=1e-5),
        Case("matmul_broadcast", "MatMul", [("a", _f(rng, 2, 3, 4, 6), False), ("b", _f(rng, 3, 6, 2), False)], rtol=1e-5, atol=1e-5),
        Case("gemm_transb", "Gemm", [("a", _f(rng, 4, 6), False), ("b", _f(rng, 5, 6), True), ("c", _f(rng, 5), True)],
             {"transB": 1, "alpha": 0.5, "beta": 2.0}, rtol=1e-5, atol=1e-5),
        Case("gemm_transa", "Gemm", [("a", _f(rng, 6, 4), False), ("b", _f(rng, 6, 5), True)], {"transA": 1},
             rtol=1e-5, atol=1e-5),
    ]


def norm_cases() -> list[Case]:
    rng = rng_for("norm")
    x = _f(rng, 2, 6, 5, 4)
    return [
        Case("layernorm_last", "LayerNormalization", [("x", _f(rng, 2, 7, 16), False), ("s", _f(rng, 16), True),
                                                      ("b", _f(rng, 16), True)], {"epsilon": 1e-5}, opset=17),
        Case("layernorm_axis1", "LayerNormalization", [("x", x, False), ("s", _f(rng, 6, 5, 4), True)], {"axis": 1}, opset=17),
        Case("batchnorm", "BatchNormalization", [("x", x, False), ("s", _f(rng, 6), True), ("b", _f(rng, 6), True),
                                                 ("m", _f(rng, 6), True), ("v", _f(rng, 6, lo=0.1, hi=2), True)],
             {"epsilon": 1e-3}, rtol=1e-5, atol=1e-5),
    ]


def reduce_cases() -> list[Case]:
    rng = rng_for("reduce")
    x = _f(rng, 2, 3, 4, 5)
    out = []
    for op in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2"):
        out.append(Case(f"{op.lower()}_axes", op, [("x", x, False), ("axes", _i64(1, -1), True)],
                        {"keepdims": 1}, rtol=1e-5, atol=1e-5))
    out += [Case("reducemean_all", "ReduceMean", [("x", x, False)], {"keepdims": 0}, rtol=1e-5, atol=1e-5),
            Case("reducesum_noop", "ReduceSum", [("x", x, False), ("axes", np.zeros(0, np.int64), True)],
                 {"noop_with_empty_axes": 1}),
            Case("argmax", "ArgMax", [("x", x, False)], {"axis": 2, "keepdims": 0})]
    return out


def pool_cases() -> list[Case]:
    rng = rng_for("pool")
    x = _f(rng, 1, 3, 11, 10)
    return [
        Case("globalavgpool", "GlobalAveragePool", [("x", x, False)], rtol=1e-5, atol=1e-6),
        Case("globalmaxpool", "GlobalMaxPool", [("x", x, False)], **TIGHT),
        Case("maxpool_3x3s2", "MaxPool", [("x", x, False)], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, **TIGHT),
        Case("maxpool_ceil", "MaxPool", [("x", x, False)], {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, **TIGHT),
        Case("maxpool_dilated", "MaxPool", [("x", x, False)], {"kernel_shape": [2, 3], "dilations": [2, 2], "pads": [1, 1, 0, 2]}, **TIGHT),
        Case("avgpool_1d", "AveragePool", [("x", x[0], False)], {"kernel_shape": [4], "strides": [3], "pads": [2, 2]},
             rtol=1e-5, atol=1e-6),
        Case("avgpool_exclude_pad", "AveragePool", [("x", x, False)],
             {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, rtol=1e-5, atol=1e-6),
        Case("avgpool_include_pad", "AveragePool", [("x", x, False)],
             {"kernel_shape": [3, 2], "strides": [1, 2], "pads": [1, 0, 1, 1], "count_include_pad": 1}, rtol=1e-5, atol=1e-6),
        Case("avgpool_ceil", "AveragePool", [("x", x, False)],
             {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1, "pads": [1, 1, 1, 1], "count_include_pad": 1},
             opset=19, rtol=1e-5, atol=1e-6),
    ]


def shape_cases() -> list[Case]:
    rng = rng_for("shape")
    x = _f(rng, 2, 3, 4, 5)
    return [
        Case("concat", "Concat", [("a", x, False), ("b", _f(rng, 2, 1, 4, 5), True)], {"axis": 1}),
        Case("reshape", "Reshape", [("x", x, False), ("s", _i64(0, -1, 10), True)]),
        Case("flatten", "Flatten", [("x", x, False)], {"axis": 2}),
        Case("transpose", "Transpose", [("x", x, False)], {"perm": [0, 2, 3, 1]}),
        Case("squeeze", "Squeeze", [("x", _f(rng, 1, 3, 1, 2), False), ("axes", _i64(0, -2), True)]),
        Case("unsqueeze", "Unsqueeze", [("x", _f(rng, 3, 2), False), ("axes", _i64(0, 3), True)]),
        Case("slice_steps", "Slice", [("x", x, False), ("st", _i64(1, -1), True), ("en", _i64(4, -2**62), True),
                                      ("ax", _i64(2, 3), True), ("sp", _i64(2, -2), True)]),
        Case("slice_clamp", "Slice", [("x", x, False), ("st", _i64(-100), True), ("en", _i64(100), True),
                                      ("ax", _i64(-1), True)]),
        Case("split_sizes", "Split", [("x", x, False), ("sp", _i64(1, 3, 1), True)], {"axis": 3}, n_outputs=3),
        Case("split_num_outputs", "Split", [("x", _f(rng, 7, 2), False)], {"axis": 0, "num_outputs": 3}, n_outputs=3),
        Case("gather_embed", "Gather", [("table", _f(rng, 30, 8), True), ("ids", rng.integers(-30, 30, (2, 6)), False)]),
        Case("gather_axis1", "Gather", [("x", x, False), ("i", _i64(2, 0), True)], {"axis": 1}),
        Case("pad_constant", "Pad", [("x", x, False), ("p", _i64(0, 1, 2, 0, 0, 0, 1, 3), True),
                                     ("v", np.array(1.5, F32), True)], {"mode": "constant"}),
        Case("pad_reflect", "Pad", [("x", _f(rng, 3, 40), False), ("p", _i64(0, 5, 0, 7), True)], {"mode": "reflect"}),
        Case("pad_edge", "Pad", [("x", x, False), ("p", _i64(0, 0, 1, 2, 0, 0, 2, 1), True)], {"mode": "edge"}),
        Case("pad_negative", "Pad", [("x", _f(rng, 4, 6), False), ("p", _i64(-1, 2, 0, -3), True)]),
        Case("cast_to_int", "Cast", [("x", x, False)], {"to": 7}),
        Case("cast_to_bool", "Cast", [("x", np.array([0, 1.5, -2, 0], F32), False)], {"to": 9}),
        Case("cast_int_to_float", "Cast", [("x", _i64(3, -1, 7), False)], {"to": 1}),
        Case("expand", "Expand", [("x", _f(rng, 3, 1), False), ("s", _i64(2, 1, 4), True)]),
        Case("shape", "Shape", [("x", x, False)], {"start": 1, "end": -1}, opset=15),
        Case("constant_of_shape", "ConstantOfShape", [("s", _i64(2, 3), False)],
             {"value": np.array([2.5], F32)}),
        # Range's output shape depends on its input values, so a static-shape IR only has
        # it with constant inputs (the importer folds it; the direct path runs the kernel)
        Case("range_float", "Range", [("a", np.array(1.0, F32), True), ("b", np.array(7.3, F32), True),
                                      ("d", np.array(0.7, F32), True)], rtol=1e-6, atol=1e-6),
        Case("range_int", "Range", [("a", np.array(10, np.int64), True), ("b", np.array(1, np.int64), True),
                                    ("d", np.array(-3, np.int64), True)]),
        Case("tile", "Tile", [("x", _f(rng, 2, 3), False), ("r", _i64(2, 3), True)]),
        Case("dropout", "Dropout", [("x", x, False)], n_outputs=2),
    ]


def resize_cases() -> list[Case]:
    rng = rng_for("resize")
    x = _f(rng, 1, 2, 5, 6)
    no_roi = ("roi", None, True)
    cases = []
    for mode, ctm, extra in [
        ("nearest", "asymmetric", {"nearest_mode": "floor"}),
        ("nearest", "half_pixel", {"nearest_mode": "round_prefer_floor"}),
        ("linear", "half_pixel", {}),
        ("linear", "align_corners", {}),
        ("linear", "pytorch_half_pixel", {}),
    ]:
        name = f"resize_{mode}_{ctm}"
        cases.append(Case(name, "Resize", [("x", x, False), no_roi, ("sc", np.array([1, 1, 2, 1.5], F32), True)],
                          {"mode": mode, "coordinate_transformation_mode": ctm, **extra}, opset=19, rtol=1e-5, atol=1e-5))
    cases.append(Case("resize_linear_sizes_down", "Resize",
                      [("x", x, False), no_roi, ("sc", None, True), ("sz", _i64(1, 2, 3, 4), True)],
                      {"mode": "linear"}, opset=19, rtol=1e-5, atol=1e-5))
    return cases


def lstm_cases() -> list[Case]:
    out = []
    for name, direction, extra, layout in [
        ("lstm_forward", "forward", {}, 0),
        ("lstm_bidirectional", "bidirectional", {}, 0),
        ("lstm_reverse_peephole", "reverse", {"peephole": True}, 0),
        ("lstm_clip", "forward", {"clip": 0.8}, 0),
        ("lstm_seq_lens", "bidirectional", {"lens": True}, 0),
    ]:
        rng = rng_for(name)
        d, seq, batch, inp, hid = (2 if direction == "bidirectional" else 1), 6, 3, 5, 4
        x = _f(rng, batch, seq, inp) if layout else _f(rng, seq, batch, inp)
        state_shape = (batch, d, hid) if layout else (d, batch, hid)
        inputs = [("x", x, False), ("w", _f(rng, d, 4 * hid, inp, lo=-0.7, hi=0.7), True),
                  ("r", _f(rng, d, 4 * hid, hid, lo=-0.7, hi=0.7), True), ("b", _f(rng, d, 8 * hid, lo=-0.5, hi=0.5), True),
                  ("lens", np.array([6, 3, 1], np.int32) if extra.get("lens") else None, True),
                  ("h0", _f(rng, *state_shape, lo=-0.5, hi=0.5), False), ("c0", _f(rng, *state_shape, lo=-0.5, hi=0.5), False)]
        if extra.get("peephole"):
            inputs.append(("p", _f(rng, d, 3 * hid, lo=-0.5, hi=0.5), True))
        attrs = {"hidden_size": hid, "direction": direction, "layout": layout}
        if "clip" in extra:
            attrs["clip"] = extra["clip"]
        out.append(Case(name, "LSTM", inputs, attrs, n_outputs=3, opset=14, rtol=1e-5, atol=1e-5))
    return out


def detector_cases() -> list[Case]:
    """ConvTranspose (DB text detectors, U-Net decoders) and GatherElements (transformer exports)."""
    out = []
    for name, xs, ws, attrs in [
        ("conv_transpose_k2s2", (1, 6, 5, 7), (6, 4, 2, 2), {"strides": [2, 2]}),
        ("conv_transpose_k4s2p1", (2, 4, 6, 5), (4, 3, 4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
        ("conv_transpose_groups_dilated_opad", (1, 4, 5, 6), (4, 3, 3, 3),
         {"strides": [2, 3], "dilations": [1, 2], "pads": [0, 1, 2, 0], "output_padding": [1, 0], "group": 2}),
        ("conv_transpose_output_shape", (1, 3, 5, 6), (3, 2, 3, 3), {"strides": [2, 2], "output_shape": [11, 12]}),
        ("conv_transpose_same_upper", (1, 3, 5, 6), (3, 2, 3, 3), {"strides": [2, 2], "auto_pad": "SAME_UPPER"}),
        ("conv_transpose_1d", (1, 4, 9), (4, 2, 5), {"strides": [3]}),
    ]:
        rng = rng_for(name)
        c_out = ws[1] * attrs.get("group", 1)
        out.append(Case(name, "ConvTranspose", [("x", _f(rng, *xs), False),
                                                ("w", _f(rng, *ws, lo=-0.5, hi=0.5), True),
                                                ("b", _f(rng, c_out, lo=-0.5, hi=0.5), True)],
                        attrs, rtol=1e-5, atol=1e-5))
    rng = rng_for("gather_elements")
    out += [Case("gather_elements_axis1", "GatherElements",
                 [("x", _f(rng, 3, 5, 4), False), ("i", rng.integers(-5, 5, (3, 2, 4)), True)], {"axis": 1}),
            Case("gather_elements_runtime_index", "GatherElements",
                 [("x", _f(rng, 2, 6), False), ("i", rng.integers(0, 6, (2, 6)), False)], {"axis": -1})]
    rng = rng_for("mish_softplus")
    wide = _f(rng, 2, 3, 40, lo=-30, hi=30)
    out += [Case("mish", "Mish", [("x", wide, False)], opset=18, rtol=1e-5, atol=1e-6),
            Case("softplus", "Softplus", [("x", wide, False)], rtol=1e-5, atol=1e-6)]
    rng = rng_for("einsum")
    out += [Case("einsum_attention_scores", "Einsum",
                 [("q", _f(rng, 2, 3, 5, 4), False), ("k", _f(rng, 2, 3, 6, 4), False)],
                 {"equation": "bhqd,bhkd->bhqk"}),
            Case("einsum_batch_matmul", "Einsum", [("a", _f(rng, 3, 4, 5), False), ("b", _f(rng, 3, 5, 2), True)],
                 {"equation": "bij,bjk->bik"})]
    rng = rng_for("instance_group_norm")
    x = _f(rng, 2, 6, 5, 7)
    out += [Case("instance_normalization", "InstanceNormalization",
                 [("x", x, False), ("s", _f(rng, 6, lo=0.5, hi=2), True), ("b", _f(rng, 6), True)],
                 {"epsilon": 1e-5}, rtol=1e-5, atol=1e-5),
            Case("group_normalization", "GroupNormalization",
                 [("x", x, False), ("s", _f(rng, 6, lo=0.5, hi=2), True), ("b", _f(rng, 6), True)],
                 {"num_groups": 3, "epsilon": 1e-5}, opset=21, rtol=1e-5, atol=1e-5)]
    for name, direction, lbr, lens in [("gru_forward", "forward", 0, False),
                                       ("gru_bidirectional_linear_before_reset", "bidirectional", 1, False),
                                       ("gru_reverse_seq_lens", "reverse", 0, True)]:
        rng = rng_for(name)
        d, seq, batch, inp, hid = (2 if direction == "bidirectional" else 1), 6, 3, 5, 4
        inputs = [("x", _f(rng, seq, batch, inp), False), ("w", _f(rng, d, 3 * hid, inp, lo=-0.7, hi=0.7), True),
                  ("r", _f(rng, d, 3 * hid, hid, lo=-0.7, hi=0.7), True),
                  ("b", _f(rng, d, 6 * hid, lo=-0.5, hi=0.5), True),
                  ("lens", np.array([6, 3, 1], np.int32) if lens else None, True),
                  ("h0", _f(rng, d, batch, hid, lo=-0.5, hi=0.5), False)]
        out.append(Case(name, "GRU", inputs, {"hidden_size": hid, "direction": direction,
                                              "linear_before_reset": lbr},
                        n_outputs=2, opset=14, rtol=1e-5, atol=1e-5))
    return out


def transformer_export_cases() -> list[Case]:
    """IsNaN / IsInf (the softmax guard of transformers 5) and GatherND (advanced
    indexing as torch's dynamo exporter writes it), with non-finite values and negative
    and batched indices."""
    rng = rng_for("isnan_isinf")
    x = _f(rng, 3, 7)
    x[0, 1], x[1, 2], x[2, 3], x[2, 5] = np.nan, np.inf, -np.inf, np.nan
    out = [Case("is_nan", "IsNaN", [("x", x, False)]),
           Case("is_inf", "IsInf", [("x", x, False)]),
           Case("is_inf_positive_only", "IsInf", [("x", x, False)], {"detect_negative": 0}),
           Case("is_inf_negative_only", "IsInf", [("x", x, False)], {"detect_positive": 0})]
    rng = rng_for("gather_nd")
    data = _f(rng, 3, 4, 5)
    out += [Case("gather_nd_slices", "GatherND",
                 [("x", data, False), ("i", np.array([[0, 1], [2, -1], [1, 3]], np.int64), True)]),
            Case("gather_nd_elements", "GatherND",
                 [("x", data, False), ("i", rng.integers(0, 3, (2, 2, 3)), True)]),
            Case("gather_nd_batch_dims", "GatherND",
                 [("x", data, False), ("i", rng.integers(0, 4, (3, 2, 1)), False)], {"batch_dims": 1}),
            Case("gather_nd_bool_mask", "GatherND",
                 [("x", rng.integers(0, 2, (1, 6)).astype(bool), False),
                  ("i", np.stack([np.zeros((1, 1, 6), np.int64), np.arange(6)[None, None]], -1), True)])]
    return out


def all_cases() -> list[Case]:
    return (unary_cases() + binary_cases() + activation_cases() + conv_cases() + linear_cases()
            + norm_cases() + reduce_cases() + pool_cases() + shape_cases() + resize_cases() + lstm_cases()
            + detector_cases() + transformer_export_cases())
