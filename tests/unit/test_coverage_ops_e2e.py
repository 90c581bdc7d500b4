"""The op patterns of current detectors, OCR models and transformer exports, each
through the whole pipeline (tests/_coverage_pipeline.py): float against onnxruntime,
default W8A8 quantization, the .tflite on LiteRT's reference kernels bit for bit against
edgeq's integer simulator, and the result close to FP32."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

pytest.importorskip("ai_edge_litert.interpreter")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _coverage_pipeline import run_pipeline  # noqa: E402
from onnx_helpers import make_model  # noqa: E402


def _f32(a):
    return np.asarray(a, np.float32)


def _feeds(shape, n, seed, lo=-1.0, hi=1.0):
    rng = np.random.default_rng(seed)
    return [{"x": rng.uniform(lo, hi, shape).astype(np.float32)} for _ in range(n)]


def _check(model, shape, *, min_sqnr=25.0, float_tol=1e-4, **opts):
    res = run_pipeline(model.SerializeToString(), {"x": shape}, _feeds(shape, 8, 1), _feeds(shape, 2, 2),
                       **opts)
    assert res.float_max_error <= float_tol * max(1.0, res.float_scale), res.float_max_error
    assert res.bitexact, res.mismatches
    for name, db in res.sqnr_db.items():
        assert db >= min_sqnr, (name, db)
    return res


def test_silu_runs_integer_as_logistic_times_x():
    # YOLOv8's Conv -> Sigmoid -> Mul (SiLU), which recognize_silu turns into one Silu
    rng = np.random.default_rng(0)
    init = {"w": _f32(rng.normal(0, 0.3, (8, 3, 3, 3))), "b": _f32(rng.normal(0, 0.1, 8))}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Sigmoid", ["c"], ["s"], name="act/Sigmoid"),
             helper.make_node("Mul", ["c", "s"], ["y"], name="act/Mul")]
    model = make_model(nodes, inputs={"x": (1, 3, 12, 12)}, outputs={"y": (1, 8, 12, 12)},
                       initializers=init)
    res = _check(model, (1, 3, 12, 12))
    assert res.ops.get("Silu") == 1  # the float graph has the canonical op
    assert res.export.op_histogram.get("LOGISTIC") == 1 and res.export.op_histogram.get("MUL") == 1
    assert not res.qmodel.report["float_nodes"]


def test_near_zero_weight_channel_quantizes_and_stays_bit_exact():
    # a trained conv with one output channel of ~1e-18 weights and a tiny bias (PP-OCR rec)
    rng = np.random.default_rng(3)
    w = _f32(rng.normal(0, 0.3, (6, 4, 3, 3)))
    w[2] = _f32(rng.normal(0, 1e-18, (4, 3, 3)))
    b = _f32(rng.normal(0, 0.1, 6))
    b[2] = -1.417e-09
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1], name="conv")]
    model = make_model(nodes, inputs={"x": (1, 4, 8, 8)}, outputs={"y": (1, 6, 8, 8)},
                       initializers={"w": w, "b": b})
    res = _check(model, (1, 4, 8, 8))
    qw = next(t for n, t in res.qmodel.graph.tensors.items() if t.data is not None and t.data.dtype == np.int8
              and t.data.shape == (6, 4, 3, 3))
    assert not np.any(qw.data[2])  # the degenerate channel quantizes to exact zeros


@pytest.mark.parametrize("attrs,k", [
    ({"strides": [2, 2]}, 2),  # PP-OCR DB head: k2 s2, TFLite VALID
    ({"strides": [2, 2], "pads": [1, 1, 1, 1]}, 4),  # k4 s2 p1: TFLite SAME
    ({"strides": [2, 2], "pads": [0, 1, 2, 0], "output_padding": [1, 0]}, 3),  # VALID + SLICE
])
def test_conv_transpose_runs_integer_as_transpose_conv(attrs, k):
    rng = np.random.default_rng(5)
    init = {"w": _f32(rng.normal(0, 0.3, (4, 6, k, k))), "b": _f32(rng.normal(0, 0.1, 6))}
    nodes = [helper.make_node("ConvTranspose", ["x", "w", "b"], ["c"], name="up", **attrs),
             helper.make_node("Relu", ["c"], ["y"], name="relu")]
    model = make_model(nodes, inputs={"x": (1, 4, 5, 6)}, outputs={"y": None}, initializers=init)
    res = _check(model, (1, 4, 5, 6))
    assert res.export.op_histogram.get("TRANSPOSE_CONV") == 1
    assert res.export.op_versions["TRANSPOSE_CONV"] == 3
    # the input is taken NHWC; only the spatial output goes back to NCHW
    assert res.export.transposes == 1 and res.export.inputs[0].layout == "NHWC"


def test_gather_elements_with_constant_index_is_one_gather():
    # torch.gather(x, 2, index) with a constant index, as in current transformers exports
    rng = np.random.default_rng(9)
    index = rng.integers(-6, 6, (1, 4, 5)).astype(np.int64)
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("GatherElements", ["r", "i"], ["y"], axis=2, name="gather")]
    model = make_model(nodes, inputs={"x": (1, 4, 6)}, outputs={"y": (1, 4, 5)},
                       initializers={"i": index})
    res = _check(model, (1, 4, 6), float_tol=0.0)
    assert res.ops.get("GatherElements") == 1
    assert res.export.op_histogram.get("GATHER") == 1


@pytest.mark.parametrize("attrs,scale", [
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}, 2.0),  # YOLO, DB FPN
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}, 4.0),
    ({"mode": "nearest", "coordinate_transformation_mode": "half_pixel", "nearest_mode": "round_prefer_ceil"}, 2.0),
    ({"mode": "nearest", "coordinate_transformation_mode": "tf_half_pixel_for_nn", "nearest_mode": "floor"}, 3.0),
])
def test_nearest_resize_runs_integer(attrs, scale):
    rng = np.random.default_rng(11)
    init = {"w": _f32(rng.normal(0, 0.3, (6, 3, 3, 3))), "sc": _f32([1, 1, scale, scale])}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Resize", ["c", "", "sc"], ["y"], name="up", **attrs)]
    model = make_model(nodes, inputs={"x": (1, 3, 5, 7)}, outputs={"y": None}, initializers=init)
    res = _check(model, (1, 3, 5, 7))
    assert res.export.op_histogram.get("RESIZE_NEAREST_NEIGHBOR") == 1


def test_nearest_resize_tflite_cannot_reproduce_is_refused_naming_the_modes():
    from edgeq.errors import UnsupportedOpError

    init = {"sc": _f32([1, 1, 3, 3]), "w": _f32(np.full((3, 3, 1, 1), 0.2))}
    nodes = [helper.make_node("Conv", ["x", "w"], ["r"], name="conv"),
             helper.make_node("Resize", ["r", "", "sc"], ["y"], name="up", mode="nearest",
                              coordinate_transformation_mode="tf_half_pixel_for_nn")]
    model = make_model(nodes, inputs={"x": (1, 3, 5, 7)}, outputs={"y": None}, initializers=init)
    with pytest.raises(UnsupportedOpError, match=r"node 'up' \(Resize\): nearest Resize with "
                                                 r"coordinate_transformation_mode 'tf_half_pixel_for_nn'"):
        _check(model, (1, 3, 5, 7))


def _yolo_head(pixels_per_unit: float):
    rng = np.random.default_rng(4)
    init = {"wb": _f32(rng.normal(0, 0.3, (4, 3, 1, 1))), "wc": _f32(rng.normal(0, 0.3, (2, 3, 1, 1))),
            "k": _f32(pixels_per_unit)}
    nodes = [helper.make_node("Conv", ["x", "wb"], ["b0"], name="box"),
             helper.make_node("Mul", ["b0", "k"], ["boxes"], name="to_pixels"),
             helper.make_node("Conv", ["x", "wc"], ["c0"], name="cls"),
             helper.make_node("Sigmoid", ["c0"], ["scores"], name="sigmoid"),
             helper.make_node("Concat", ["boxes", "scores"], ["y"], axis=1, name="concat")]
    return make_model(nodes, inputs={"x": (1, 3, 4, 4)}, outputs={"y": (1, 6, 4, 4)}, initializers=init)


def test_concat_of_sigmoid_scores_and_pixel_boxes_keeps_both_ranges():
    # a YOLO head: boxes in pixels (0..640) concatenated with sigmoid class scores; the
    # scores' fixed 1/256 scale must not become the scale of the boxes, and the scores
    # must not vanish in the boxes' scale (~2 per int8 step)
    res = _check(_yolo_head(160.0), (1, 3, 4, 4), min_sqnr=30.0)
    # the scores span < MIN_CONCAT_STEPS int8 steps of the Concat's scale, so the Concat
    # is int16 (mixed_range_output_concats) and both inputs are requantized into it
    hist = res.export.op_histogram
    assert hist.get("LOGISTIC") == 1 and hist.get("QUANTIZE") == 2
    ref = np.concatenate([np.asarray(r["y"])[:, 4:] for r in res.fp32_outputs])
    got = np.concatenate([np.asarray(g["y"])[:, 4:] for g in res.int8_outputs])
    assert np.abs(ref - got).max() < 0.02, np.abs(ref - got).max()


def test_concat_of_comparable_ranges_stays_int8():
    # boxes of a few units next to scores in [0, 1]: the scores keep > 16 int8 steps
    res = _check(_yolo_head(1.0), (1, 3, 4, 4), min_sqnr=30.0)
    assert res.export.op_histogram.get("QUANTIZE") == 1  # only the scores' requantization


def test_mean_pooling_of_a_transformers_export_runs_integer():
    # sentence-transformers pooling as torch.onnx.export writes it: the int64 mask is
    # reshaped before its Cast, summed with ReduceSum and divided by a computed count
    rng = np.random.default_rng(0)
    init = {"w": _f32(rng.normal(0, 0.5, (8, 8))), "ax1": np.array([1], np.int64),
            "ax2": np.array([2], np.int64), "shp": np.array([1, 16, 8], np.int64), "eps": _f32(1e-9)}
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]),
             helper.make_node("Unsqueeze", ["mask", "ax2"], ["mu"]),
             helper.make_node("Expand", ["mu", "shp"], ["me"]),
             helper.make_node("Cast", ["me"], ["mf"], to=1),
             helper.make_node("Mul", ["h", "mf"], ["hm"]),
             helper.make_node("ReduceSum", ["hm", "ax1"], ["s"], keepdims=0),
             helper.make_node("ReduceSum", ["mf", "ax1"], ["cnt"], keepdims=0),
             helper.make_node("Clip", ["cnt", "eps"], ["cc"]),
             helper.make_node("Div", ["s", "cc"], ["y"], name="pool_div")]
    model = make_model(nodes, inputs={"x": (1, 16, 8), "mask": (1, 16)}, outputs={"y": (1, 8)},
                       initializers=init, dtypes={"mask": np.int64})

    def feeds(n, seed):
        out = []
        for i in range(n):
            mask = np.ones((1, 16), np.int64)
            mask[0, 8 + i % 8:] = 0
            out.append({"x": np.random.default_rng(seed + i).normal(size=(1, 16, 8)).astype(np.float32),
                        "mask": mask})
        return out

    res = run_pipeline(model.SerializeToString(), {"x": (1, 16, 8), "mask": (1, 16)}, feeds(8, 0), feeds(2, 50))
    assert res.float_max_error <= 1e-4 * max(1.0, res.float_scale)
    assert res.bitexact, res.mismatches
    assert res.sqnr_db["y"] >= 25.0, res.sqnr_db
    hist = res.export.op_histogram
    assert "SUM" not in hist and hist.get("MEAN") == 2 and hist.get("RSQRT") == 1 and "DIV" not in hist
    assert not res.qmodel.report["float_nodes"]


def test_custom_domain_op_is_refused_with_a_plain_sentence():
    import onnx

    import edgeq
    from edgeq.errors import UnsupportedOpError

    node = helper.make_node("FancyOp", ["x"], ["y"], name="fancy", domain="com.acme")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.acme", 1)])
    with pytest.raises(UnsupportedOpError, match=r"node 'fancy' is op 'FancyOp' of the custom domain "
                                                 r"'com.acme'\. edgeq runs the ops of the standard ONNX"):
        edgeq.load(model)


def test_bilinear_resize_runs_integer():
    # an FPN / segmentation upsampling: Conv -> bilinear x2 (half_pixel, PyTorch's default)
    rng = np.random.default_rng(12)
    init = {"w": _f32(rng.normal(0, 0.3, (6, 3, 3, 3))), "sc": _f32([1, 1, 2, 2])}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Resize", ["c", "", "sc"], ["y"], name="up", mode="linear",
                              coordinate_transformation_mode="half_pixel")]
    model = make_model(nodes, inputs={"x": (1, 3, 5, 7)}, outputs={"y": None}, initializers=init)
    res = _check(model, (1, 3, 5, 7))
    assert res.export.op_histogram.get("RESIZE_BILINEAR") == 1


@pytest.mark.parametrize("equation,b_shape", [("bhqd,bhkd->bhqk", (1, 2, 6, 4)),
                                              ("bhqk,bhkd->bhqd", (1, 2, 5, 3)),
                                              ("bqd,dk->bkq", (4, 3))])
def test_einsum_of_batch_matmul_form_runs_integer(equation, b_shape):
    from edgeq.ir.passes.lower_einsum import plan

    x_shape = (1, 2, 5, 4) if equation.startswith("bh") else (1, 5, 4)
    rng = np.random.default_rng(13)
    init = {"k": _f32(rng.normal(0, 0.5, b_shape))}
    if equation == "bhqk,bhkd->bhqd":
        init["k"] = _f32(rng.normal(0, 0.5, (1, 2, 4, 3)))
    nodes = [helper.make_node("Einsum", ["x", "k"], ["y"], equation=equation, name="einsum")]
    model = make_model(nodes, inputs={"x": x_shape}, outputs={"y": None}, initializers=init, opset=17)
    if plan(equation) is None:  # not batch-matmul form (no batch letter shared): stays float
        from edgeq.errors import QuantizationError

        with pytest.raises(QuantizationError, match="'einsum' \\(Einsum\\): no integer kernel"):
            _check(model, x_shape)
        return
    res = _check(model, x_shape)
    assert res.export.op_histogram.get("BATCH_MATMUL") == 1


@pytest.mark.parametrize("slope_shape", [(6, 1, 1), (1,)])
def test_prelu_runs_integer(slope_shape):
    # face detectors (RetinaFace / MTCNN style) use per-channel PRelu after convs
    rng = np.random.default_rng(14)
    init = {"w": _f32(rng.normal(0, 0.3, (6, 3, 3, 3))), "slope": _f32(rng.uniform(0.05, 0.4, slope_shape))}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("PRelu", ["c", "slope"], ["y"], name="prelu")]
    model = make_model(nodes, inputs={"x": (1, 3, 6, 6)}, outputs={"y": (1, 6, 6, 6)}, initializers=init)
    res = _check(model, (1, 3, 6, 6))
    hist = res.export.op_histogram
    assert "PRELU" not in hist
    assert hist.get("LEAKY_RELU") == 1 if slope_shape == (1,) else hist.get("MINIMUM") == 1


@pytest.mark.parametrize("lbr,with_h0", [(0, True), (1, True), (0, False), (1, False)])
def test_gru_unrolled_runs_integer(lbr, with_h0):
    rng = np.random.default_rng(15)
    seq, inp, hid = 5, 4, 6
    init = {"w": _f32(rng.uniform(-0.7, 0.7, (1, 3 * hid, inp))), "r": _f32(rng.uniform(-0.7, 0.7, (1, 3 * hid, hid))),
            "b": _f32(rng.uniform(-0.5, 0.5, (1, 6 * hid)))}
    ins = ["x", "w", "r", "b"]
    if with_h0:
        init["h0"] = _f32(rng.uniform(-0.5, 0.5, (1, 1, hid)))
        ins += ["", "h0"]
    nodes = [helper.make_node("GRU", ins, ["y", "yh"], hidden_size=hid, linear_before_reset=lbr, name="gru")]
    model = make_model(nodes, inputs={"x": (seq, 1, inp)}, outputs={"y": (seq, 1, 1, hid), "yh": (1, 1, hid)},
                       initializers=init, opset=14)
    # measured 17.9-22 dB (Y over the 5 steps, Y_h the last state; int8 gates, int16 state update)
    res = _check(model, (seq, 1, inp), min_sqnr=15.0)
    assert "GRU" not in str(res.export.op_histogram) and res.export.op_histogram.get("FULLY_CONNECTED", 0) >= 3 * seq - 2


def _transformers5_attention(exporter: str):
    """One attention head as transformers 5 builds it and torch.onnx exports it: the bool
    mask Cast from the int64 input, moved into place (Unsqueeze + Expand for the
    TorchScript exporter, a GatherND with constant indices for dynamo), And-ed with a
    constant pattern, ``Where(cond, 0, finfo.min)`` as the bias, the softmax guarded by
    ``Where(IsNaN(p), 0, p)``, mean pooling and ``F.normalize`` (ReduceL2, Clip(min=eps),
    Expand, Div)."""
    rng = np.random.default_rng(5)
    s, d = 8, 16
    init = {"wq": _f32(rng.normal(0, 0.4, (d, d))), "wk": _f32(rng.normal(0, 0.4, (d, d))),
            "wv": _f32(rng.normal(0, 0.4, (d, d))), "scale": _f32(1 / np.sqrt(d)),
            "zero": _f32(0.0), "min": _f32(np.finfo(np.float32).min), "pattern": np.ones((1, s, 1), bool),
            "ax_1": np.array([1], np.int64), "ax_m1": np.array([-1], np.int64),
            "eps": _f32(1e-9), "eps_n": _f32(1e-12), "shp": np.array([1, d], np.int64)}
    nodes = [helper.make_node("MatMul", ["x", "wq"], ["q"]), helper.make_node("MatMul", ["x", "wk"], ["k"]),
             helper.make_node("MatMul", ["x", "wv"], ["v"]),
             helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
             helper.make_node("MatMul", ["q", "kt"], ["qk"]), helper.make_node("Mul", ["qk", "scale"], ["sc"]),
             helper.make_node("Cast", ["mask"], ["mb"], to=9)]
    if exporter == "classic":
        # the form edgeq handled before transformers 5: (1 - mask) * -10000, no guard
        init.update(one=_f32(1.0), big=_f32(-1e4))
        nodes[-1] = helper.make_node("Cast", ["mask"], ["mfl"], to=1)
        nodes += [helper.make_node("Unsqueeze", ["mfl", "ax_1"], ["mu"]),
                  helper.make_node("Sub", ["one", "mu"], ["inv"]),
                  helper.make_node("Mul", ["inv", "big"], ["bias"]),
                  helper.make_node("Add", ["sc", "bias"], ["logits"]),
                  helper.make_node("Softmax", ["logits"], ["pg"], axis=-1)]
    elif exporter == "dynamo":
        init["gidx"] = np.stack([np.zeros((1, s), np.int64), np.arange(s)[None]], -1)  # (1, s, 2)
        nodes.append(helper.make_node("GatherND", ["mb", "gidx"], ["mk"], name="mask/GatherND"))
    else:
        init["eshape"] = np.array([1, 1, s], np.int64)
        nodes += [helper.make_node("Unsqueeze", ["mb", "ax_1"], ["mu"]),
                  helper.make_node("Expand", ["mu", "eshape"], ["mk"])]
    if exporter != "classic":
        nodes += [helper.make_node("And", ["pattern", "mk"], ["cond"]),
                  helper.make_node("Where", ["cond", "zero", "min"], ["bias"], name="mask/Where"),
                  helper.make_node("Add", ["sc", "bias"], ["logits"]),
                  helper.make_node("Softmax", ["logits"], ["p"], axis=-1),
                  helper.make_node("IsNaN", ["p"], ["nan"]),
                  helper.make_node("Where", ["nan", "zero", "p"], ["pg"], name="guard/Where")]
    nodes += [helper.make_node("MatMul", ["pg", "v"], ["h"]),
              helper.make_node("Unsqueeze", ["mask", "ax_m1"], ["mu2"]),
              helper.make_node("Cast", ["mu2"], ["mf"], to=1),
              helper.make_node("Mul", ["h", "mf"], ["hm"]),
              helper.make_node("ReduceSum", ["hm", "ax_1"], ["hs"], keepdims=0),
              helper.make_node("ReduceSum", ["mf", "ax_1"], ["cnt"], keepdims=0),
              helper.make_node("Clip", ["cnt", "eps"], ["cc"]),
              helper.make_node("Div", ["hs", "cc"], ["pooled"]),
              helper.make_node("ReduceL2", ["pooled", "ax_1"], ["norm"], keepdims=1),
              helper.make_node("Clip", ["norm", "eps_n"], ["nc"]),
              helper.make_node("Expand", ["nc", "shp"], ["ne"]),
              helper.make_node("Div", ["pooled", "ne"], ["y"], name="normalize")]
    model = make_model(nodes, inputs={"x": (1, s, d), "mask": (1, s)}, outputs={"y": (1, d)},
                       initializers=init, dtypes={"mask": np.int64}, opset=18)

    def feeds(n, seed):
        out = []
        for i in range(n):
            mask = np.ones((1, s), np.int64)
            mask[0, 4 + i % 4:] = 0
            out.append({"x": np.random.default_rng(seed + i).normal(size=(1, s, d)).astype(np.float32),
                        "mask": mask})
        return out

    return model, feeds


def _attention_pipeline(exporter):
    model, feeds = _transformers5_attention(exporter)
    return run_pipeline(model.SerializeToString(), {"x": (1, 8, 16), "mask": (1, 8)}, feeds(8, 0), feeds(4, 50))


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_transformers5_attention_mask_nan_guard_and_normalize_run_integer(exporter):
    res = _attention_pipeline(exporter)
    assert res.float_max_error <= 1e-4 * max(1.0, res.float_scale)
    assert not res.qmodel.report["float_nodes"]  # no Where, IsNaN, And or GatherND left in float
    assert res.bitexact, res.mismatches
    # as accurate as the same head written the way earlier exports wrote it
    classic = _attention_pipeline("classic")
    assert classic.bitexact and not classic.qmodel.report["float_nodes"]
    assert res.sqnr_db["y"] >= classic.sqnr_db["y"] - 0.5, (res.sqnr_db, classic.sqnr_db)
    hist = res.export.op_histogram
    assert "SELECT_V2" not in hist and "GATHER_ND" not in hist and "L2_NORMALIZATION" not in hist
    assert hist.get("RSQRT") == 1  # the normalisation as MEAN / RSQRT / MUL


def test_mask_select_equals_the_where_on_a_01_mask():
    """The lowered select ``b + (a - b) · m`` against the Where it replaces, in float,
    with the bias clamped by the attention-mask pass (-1e4 in place of finfo.min)."""
    import edgeq
    from edgeq.quantize.rewrites.prepare import executable, lower
    from edgeq.ir.passes.lower_attention_mask import MASK_LIMIT

    model, feeds = _transformers5_attention("dynamo")
    m = edgeq.load(model, input_shapes={"x": (1, 8, 16), "mask": (1, 8)})
    lowered = lower(m.graph)
    ops = {n.op_type for n in lowered.nodes}
    assert not ops & {"Where", "IsNaN", "And", "GatherND", "ReduceL2"}, ops
    from edgeq.interp.float_interp import run_graph

    for feed in feeds(3, 7):
        ref = m.run(feed)["y"]
        got = run_graph(executable(lowered), feed, outputs=["y"])["y"]
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
        bias = [t for t in lowered.tensors if t.startswith("mask/Where") or t == "bias"]
        assert "bias" in bias
        b = run_graph(executable(lowered), feed, outputs=["bias"])["bias"]
        expected = np.where(feed["mask"][:, None, :] != 0, 0.0, -MASK_LIMIT)
        np.testing.assert_array_equal(np.broadcast_to(b, (1, 8, 8)), np.broadcast_to(expected, (1, 8, 8)))


@pytest.mark.parametrize("op, attrs, n_affine, opset", [
    ("InstanceNormalization", {"epsilon": 1e-5}, 6, 17),
    ("GroupNormalization", {"num_groups": 3, "epsilon": 1e-5}, 6, 21),
    ("GroupNormalization", {"num_groups": 1}, 6, 21),  # statistics over C, H and W
])
def test_instance_and_group_normalization_run_integer(op, attrs, n_affine, opset):
    # style-transfer / diffusion / audio models normalise conv features per instance or group
    rng = np.random.default_rng(8)
    init = {"w": _f32(rng.normal(0, 0.4, (6, 3, 3, 3))), "b": _f32(rng.normal(0, 0.2, 6)),
            "s": _f32(rng.uniform(0.5, 1.5, n_affine)), "t": _f32(rng.normal(0, 0.3, n_affine))}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node(op, ["c", "s", "t"], ["y"], name="norm", **attrs)]
    model = make_model(nodes, inputs={"x": (1, 3, 10, 12)}, outputs={"y": (1, 6, 10, 12)},
                       initializers=init, opset=opset)
    res = _check(model, (1, 3, 10, 12), min_sqnr=25.0)
    assert not res.qmodel.report["float_nodes"]
    hist = res.export.op_histogram
    assert hist.get("MEAN") == 2 and hist.get("RSQRT") == 1, hist


@pytest.mark.parametrize("op", ["Mish", "Softplus"])
def test_mish_and_softplus_run_integer_as_a_table_lookup(op):
    # YOLOv4-era detectors use Mish; TFLite has neither builtin: QUANTIZE + CAST + GATHER
    rng = np.random.default_rng(9)
    init = {"w": _f32(rng.normal(0, 0.6, (6, 3, 3, 3))), "b": _f32(rng.normal(0, 0.2, 6))}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node(op, ["c"], ["y"], name="act")]
    model = make_model(nodes, inputs={"x": (1, 3, 8, 8)}, outputs={"y": (1, 6, 8, 8)},
                       initializers=init, opset=18)
    res = _check(model, (1, 3, 8, 8), min_sqnr=30.0)
    assert not res.qmodel.report["float_nodes"]
    hist = res.export.op_histogram
    assert hist.get("GATHER") == 1 and hist.get("CAST") == 1, hist
