"""Small real ONNX models (built with onnx.helper) and data for the quantizer tests."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import make_model, ort_run, save  # noqa: E402,F401


def _f32(a):
    return np.asarray(a, np.float32)


def small_cnn(seed: int = 0):
    """Conv+Relu -> depthwise+Clip(0,6) -> 1x1 conv -> residual Add -> MaxPool -> GAP ->
    Flatten -> Gemm -> Softmax, on a 1x3x16x16 input. Output 'probs' [1, 5]."""
    rng = np.random.default_rng(seed)
    init = {
        "w1": _f32(rng.normal(size=(8, 3, 3, 3)) * 0.4), "b1": _f32(rng.normal(size=8) * 0.1),
        "w2": _f32(rng.normal(size=(8, 1, 3, 3)) * 0.5), "b2": _f32(rng.normal(size=8) * 0.1),
        "w3": _f32(rng.normal(size=(8, 8, 1, 1)) * 0.3), "b3": _f32(rng.normal(size=8) * 0.1),
        "wf": _f32(rng.normal(size=(5, 8)) * 0.8), "bf": _f32(rng.normal(size=5) * 0.1),
        "zero": _f32(0.0), "six": _f32(6.0),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8, name="dw"),
        helper.make_node("Clip", ["c2", "zero", "six"], ["r2"], name="relu6"),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], name="project"),
        helper.make_node("Add", ["c3", "r1"], ["res"], name="residual"),
        helper.make_node("MaxPool", ["res"], ["mp"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
        helper.make_node("GlobalAveragePool", ["mp"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "wf", "bf"], ["logits"], transB=1, name="fc"),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1, name="softmax"),
    ]
    return make_model(nodes, inputs={"x": (1, 3, 16, 16)}, outputs={"probs": (1, 5)}, initializers=init,
                      name="small_cnn")


def cnn_feeds(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    return [{"x": _f32(rng.normal(size=(1, 3, 16, 16)))} for _ in range(n)]


def tiny_transformer(seed: int = 0, seq: int = 8, hidden: int = 16, heads: int = 2, vocab: int = 40):
    """A post-LN BERT block with an embedding Gather, an additive attention mask
    ((1 - mask) * -1e9, cast from int64), erf GELU and LayerNormalization; output
    'pooled' [1, hidden] (mean over the sequence)."""
    rng = np.random.default_rng(seed)
    d = hidden // heads
    init = {"emb": _f32(rng.normal(size=(vocab, hidden))), "one": _f32(1.0), "neg": _f32(-1e9),
            "sqrt_d": _f32(math.sqrt(d)), "sqrt2": _f32(math.sqrt(2.0)), "half": _f32(0.5),
            "split": np.array([1, seq, heads, d], np.int64), "merge": np.array([1, seq, hidden], np.int64),
            "axes12": np.array([1, 2], np.int64), "axes1": np.array([1], np.int64)}
    for name, shape in (("wq", (hidden, hidden)), ("wk", (hidden, hidden)), ("wv", (hidden, hidden)),
                        ("wo", (hidden, hidden)), ("w1", (hidden, 2 * hidden)), ("w2", (2 * hidden, hidden))):
        init[name] = _f32(rng.normal(size=shape) / math.sqrt(shape[0]))
        init[name.replace("w", "b")] = _f32(rng.normal(size=shape[1]) * 0.1)
    for i in (1, 2, 3):
        init[f"g{i}"] = _f32(1 + 0.1 * rng.normal(size=hidden))
        init[f"be{i}"] = _f32(0.1 * rng.normal(size=hidden))
    n = helper.make_node
    nodes = [
        n("Gather", ["emb", "ids"], ["e"], axis=0, name="embed"),
        n("LayerNormalization", ["e", "g1", "be1"], ["x0"], axis=-1, epsilon=1e-12, name="ln0"),
        n("Cast", ["mask"], ["mf"], to=TensorProto.FLOAT, name="mask_cast"),
        n("Sub", ["one", "mf"], ["inv"], name="mask_inv"),
        n("Mul", ["inv", "neg"], ["bias"], name="mask_bias"),
        n("Unsqueeze", ["bias", "axes12"], ["bias4"], name="mask_bias4"),
    ]
    for p in ("q", "k", "v"):
        nodes += [n("MatMul", ["x0", f"w{p}"], [f"{p}m"], name=f"{p}_mm"),
                  n("Add", [f"{p}m", f"b{p}"], [f"{p}a"], name=f"{p}_add"),
                  n("Reshape", [f"{p}a", "split"], [f"{p}r"], name=f"{p}_split"),
                  n("Transpose", [f"{p}r"], [f"{p}t"], perm=[0, 2, 3, 1] if p == "k" else [0, 2, 1, 3],
                    name=f"{p}_t")]
    nodes += [
        n("MatMul", ["qt", "kt"], ["s"], name="scores"),
        n("Div", ["s", "sqrt_d"], ["ss"], name="scale"),
        n("Add", ["ss", "bias4"], ["sm_in"], name="mask_add"),
        n("Softmax", ["sm_in"], ["p"], axis=-1, name="softmax"),
        n("MatMul", ["p", "vt"], ["ctx"], name="context"),
        n("Transpose", ["ctx"], ["ctx_t"], perm=[0, 2, 1, 3], name="ctx_t"),
        n("Reshape", ["ctx_t", "merge"], ["ctx_m"], name="ctx_merge"),
        n("MatMul", ["ctx_m", "wo"], ["om"], name="o_mm"),
        n("Add", ["om", "bo"], ["oa"], name="o_add"),
        n("Add", ["oa", "x0"], ["r1"], name="res1"),
        n("LayerNormalization", ["r1", "g2", "be2"], ["x1"], axis=-1, epsilon=1e-12, name="ln1"),
        n("MatMul", ["x1", "w1"], ["h1"], name="ff1_mm"),
        n("Add", ["h1", "b1"], ["h1b"], name="ff1_add"),
        n("Div", ["h1b", "sqrt2"], ["gd"], name="gelu_div"),
        n("Erf", ["gd"], ["ge"], name="gelu_erf"),
        n("Add", ["ge", "one"], ["ga"], name="gelu_add"),
        n("Mul", ["h1b", "ga"], ["gm"], name="gelu_mul"),
        n("Mul", ["gm", "half"], ["g"], name="gelu_half"),
        n("MatMul", ["g", "w2"], ["h2"], name="ff2_mm"),
        n("Add", ["h2", "b2"], ["h2b"], name="ff2_add"),
        n("Add", ["h2b", "x1"], ["r2"], name="res2"),
        n("LayerNormalization", ["r2", "g3", "be3"], ["x2"], axis=-1, epsilon=1e-12, name="ln2"),
        n("ReduceMean", ["x2", "axes1"], ["pooled"], keepdims=0, name="pool"),
    ]
    return make_model(nodes, inputs={"ids": (1, seq), "mask": (1, seq)}, outputs={"pooled": (1, hidden)},
                      initializers=init, opset=18, dtypes={"ids": np.int64, "mask": np.int64},
                      name="tiny_transformer")


def transformer_feeds(n: int, seed: int = 1, seq: int = 8, vocab: int = 40):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        length = int(rng.integers(3, seq + 1))
        mask = np.zeros((1, seq), np.int64)
        mask[0, :length] = 1
        out.append({"ids": rng.integers(0, vocab, size=(1, seq)).astype(np.int64), "mask": mask})
    return out


def sqnr_db(ref: np.ndarray, out: np.ndarray) -> float:
    ref = np.asarray(ref, np.float64)
    err = np.asarray(out, np.float64) - ref
    return float(10 * np.log10(np.sum(ref ** 2) / max(np.sum(err ** 2), 1e-30)))


def cnn_files(tmp_path: Path, n: int = 8) -> tuple[Path, Path]:
    """``small_cnn`` saved as ``tmp_path/cnn.onnx`` and ``n`` calibration feeds as .npz
    files in ``tmp_path/calib`` (what the CLI takes)."""
    model = save(small_cnn(), tmp_path / "cnn.onnx")
    data = tmp_path / "calib"
    data.mkdir()
    for i, feed in enumerate(cnn_feeds(n)):
        np.savez(data / f"s{i}.npz", **feed)
    return model, data
