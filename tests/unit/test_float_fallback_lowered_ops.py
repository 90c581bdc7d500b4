"""The lowered-graph ops Rsqrt and SquaredDifference have float kernels, so a node of
theirs left in float (a spec allowing fallback) runs in QuantizedModel.run."""

from __future__ import annotations

import numpy as np
import pytest
from _quant_models import save, tiny_transformer, transformer_feeds

import edgeq
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.ort_backend import OrtRunner
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.quantize.rewrites.prepare import executable
from edgeq_tflite.spec import TFLITE_INT8_FALLBACK


def _graph(op: str, shapes: list[tuple]) -> Graph:
    names = [f"x{i}" for i in range(len(shapes))]
    out_shape = np.broadcast_shapes(*shapes)
    tensors = {n: Tensor(n, np.float32, s) for n, s in zip(names, shapes)}
    tensors["y"] = Tensor("y", np.float32, out_shape)
    return Graph("g", tensors, [Node("n", op, names, ["y"])], names, ["y"], 17)


@pytest.mark.parametrize("op, shapes", [("Rsqrt", [(2, 5)]), ("SquaredDifference", [(2, 3, 4), (2, 3, 1)])])
def test_kernel_matches_golden_and_onnxruntime(op, shapes):
    from edgeq.interp.float_interp import run_graph

    rng = np.random.default_rng(0)
    feeds = {f"x{i}": rng.uniform(0.01, 4.0, s).astype(np.float32) for i, s in enumerate(shapes)}
    g = _graph(op, shapes)
    got = run_graph(g, feeds)["y"]
    golden = 1 / np.sqrt(feeds["x0"].astype(np.float64)) if op == "Rsqrt" else \
        (feeds["x0"].astype(np.float64) - feeds["x1"]) ** 2
    np.testing.assert_allclose(got, golden, rtol=1e-6)
    # onnxruntime on the ONNX expansion the calibration runs (Max/Sqrt/Reciprocal, Sub/Mul)
    np.testing.assert_allclose(got, OrtRunner(executable(g)).run(feeds)["y"], rtol=1e-6)
    assert FLOAT_OPS.lookup(g.nodes[0]) is not None


def test_rsqrt_floors_its_argument_as_the_onnx_expansion_does():
    """rsqrt(max(x, RSQRT_FLOOR)): a lowered sqrt(0) = 0 · rsqrt(0) is 0, not NaN, in the
    float interpreter as in onnxruntime on the calibration graph."""
    from edgeq.interp.float_interp import run_graph
    from edgeq.interp.float_ops.rsqrt import RSQRT_FLOOR

    x = np.array([0.0, -2.0, 1e-35, 1.0, 4.0], np.float32)
    with np.errstate(all="raise"):
        y = run_graph(_graph("Rsqrt", [(5,)]), {"x0": x})["y"]
    floor = 1 / np.sqrt(np.float32(RSQRT_FLOOR))
    np.testing.assert_allclose(y, [floor, floor, floor, 1.0, 0.5], rtol=1e-6)
    assert np.all(np.isfinite(y)) and x[0] * y[0] == 0.0
    np.testing.assert_allclose(y, OrtRunner(executable(_graph("Rsqrt", [(5,)]))).run({"x0": x})["y"],
                               rtol=1e-6)


def test_layernorm_statistics_left_in_float_run(tmp_path):
    model = edgeq.load(save(tiny_transformer(), tmp_path / "tr.onnx"))
    calib = transformer_feeds(16)
    qm = edgeq.quantize(model, calib, progress=False, cache_dir=str(tmp_path), spec=TFLITE_INT8_FALLBACK,
                        float_nodes=["rstd"])
    left = {e["op_type"] for e in qm.report["float_nodes"]}
    assert left == {"Rsqrt"}
    ref = OrtRunner(model.graph).run(calib[0])
    out = qm.run(calib[0])
    for name, v in ref.items():
        cos = float(np.ravel(v) @ np.ravel(out[name]) / np.linalg.norm(v) / np.linalg.norm(out[name]))
        assert cos > 0.99, (name, cos)
