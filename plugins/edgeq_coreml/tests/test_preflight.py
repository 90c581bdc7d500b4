"""The ANE pre-flight rules on built programs: which ops are flagged, and why."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.emit.preflight import check_ops, format_table


def _program(build_fn):
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb
    from coremltools.converters.mil.mil import types

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 4, 8, 8), dtype=types.fp32)],
                opset_version=ct.target.iOS17)
    def prog(x):
        return build_fn(mb, x)

    return prog.functions["main"]


def test_clean_fp16_conv_is_not_flagged(cnn_artifact):
    flight = cnn_artifact.manifest["ane_preflight"]
    assert flight["ops"] == [] and flight["total_ops"] > 10
    assert "all" in format_table(flight)


def test_dilated_conv_gather_and_fp32_are_flagged():
    w = np.ones((4, 4, 3, 3), np.float32)

    def body(mb, x):
        y = mb.conv(x=x, weight=w, dilations=[2, 2], pad_type="same", name="dilated")
        y = mb.gather(x=y, indices=np.array([0, 2], np.int32), axis=1, name="pick")
        return y

    rows = check_ops(_program(body))
    rules = {(r["op"], r["rule"]) for r in rows}
    assert ("dilated", "dilated-conv") in rules and ("pick", "gather") in rules
    # the builder's program is fp32 (ct.convert would make it fp16): every op is fp32 compute
    assert ("dilated", "fp32-compute") in rules


def test_large_dimension_and_rank():
    def body(mb, x):
        y = mb.reshape(x=x, shape=[1, 1, 1, 1, 1, 256], name="rank6")
        return mb.tile(x=y, reps=[1, 1, 1, 1, 1, 80], name="wide")

    rows = check_ops(_program(body))
    rules = {(r["op"], r["rule"]) for r in rows}
    assert ("rank6", "rank") in rules and ("wide", "large-dim") in rules
