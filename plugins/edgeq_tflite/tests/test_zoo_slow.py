"""Whole zoo models through the TFLite target (slow: downloads from the package registry
on first use, quantizes, emits, runs). LiteRT's reference kernels must equal edgeq's
integer simulator bit for bit on evaluation data, end to end."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.sdk import EdgeqError

pytestmark = pytest.mark.slow

MODELS = ["mobilenet-v2", "ppocr-cls", "minilm-l6", "silero-vad"]


@pytest.fixture(scope="module", params=MODELS)
def zoo_case(request):
    import edgeq
    import edgeq.zoo as zoo
    from edgeq_tflite.target import TFLiteTarget

    name = request.param
    try:
        path = zoo.get(name)
    except EdgeqError as exc:
        pytest.skip(f"zoo model {name} unavailable: {exc}")
    model = edgeq.load(path)
    calib = zoo.feeds(name, split="calib", n=8)
    try:
        qm = edgeq.quantize(model, calib, spec=TFLiteTarget().spec_for({"float_fallback": False}))
        fallback = False
    except EdgeqError:  # e.g. MiniLM's attention-mask Cast has no integer kernel
        qm = edgeq.quantize(model, calib, spec=TFLiteTarget().spec)
        fallback = True
    return name, model, qm, zoo.feeds(name, split="eval", n=2), fallback


def test_zoo_model_bitexact_with_simulator(zoo_case):
    from edgeq.sdk import run_quantized

    from edgeq_tflite.emit.export import export_quantized
    from edgeq_tflite.tests.harness import litert

    name, model, qm, feeds, fallback = zoo_case
    exp = export_quantized(qm.graph, allow_float_fallback=fallback)
    if name == "mobilenet-v2":
        assert exp.transposes == 0
        assert exp.op_versions["CONV_2D"] == 3 and exp.op_versions["DEPTHWISE_CONV_2D"] == 3
    for feed in feeds:
        ref = litert(exp.model, feed, exp.inputs, exp.outputs, reference=True)
        xnn = litert(exp.model, feed, exp.inputs, exp.outputs, reference=False)
        sim = run_quantized(qm.graph, feed)
        for out, v in sim.items():
            np.testing.assert_array_equal(ref[out], v, err_msg=f"{name}: {out}")
            assert np.all(np.isfinite(xnn[out]))


def test_zoo_model_float_export(zoo_case):
    from edgeq_tflite.emit.export import export_float
    from edgeq_tflite.tests.harness import litert

    name, model, _, feeds, _ = zoo_case
    exp = export_float(model.graph)
    got = litert(exp.model, feeds[0], exp.inputs, exp.outputs, reference=False)
    ref = model.run(feeds[0])
    for out, v in ref.items():
        np.testing.assert_allclose(got[out], v, rtol=1e-3, atol=1e-4, err_msg=f"{name}: {out}")


def test_zoo_model_size_is_at_the_schema_floor(zoo_case):
    """The int8 file is its constants, the quantization vectors the schema requires (each
    distinct one stored once), and a small graph; no per-tensor copies of zero points."""
    from edgeq import zoo

    from edgeq_tflite.emit.export import export_quantized
    from edgeq_tflite.emit.size import size_breakdown

    name, model, qm, _, fallback = zoo_case
    exp = export_quantized(qm.graph, allow_float_fallback=fallback)
    size = size_breakdown(exp.model)
    from edgeq_tflite.emit.schema import schema

    sub = schema.Model.GetRootAs(exp.model, 0).Subgraphs(0)
    tables = sub.TensorsLength() + sub.OperatorsLength()
    # a tensor or operator table with its name, shape and index vectors is ~100 bytes
    assert size["graph"] < 160 * tables + 8192, (size, tables)
    channel_counts = set()
    per_channel_scales = 0
    for t in qm.graph.tensors.values():
        q = t.quant
        if q is not None and np.ndim(q.scale) == 1 and np.size(q.scale) > 1:
            channel_counts.add(np.size(q.scale))
            per_channel_scales += np.size(q.scale)
    # every per-channel zero-point vector (all zeros) is shared by its channel count
    assert size["zero_points"] <= 8 * sum(channel_counts) + 8 * len(qm.graph.tensors), size
    if name == "mobilenet-v2":
        onnx_bytes = zoo.get(name).stat().st_size
        # per-channel filters and biases each carry one float scale per channel
        assert size["scales"] >= 4 * per_channel_scales
        # measured 0.269 (docs/targets/tflite.md, "Size"); a regression guard
        assert size["total"] / onnx_bytes < 0.27
