"""The two float paths on the real zoo models: edgeq's interpreter and OrtRunner (the path
calibration uses) agree with each other on *every* intermediate tensor, and with
onnxruntime running the original model on its outputs, on real (zoo eval) inputs."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow

MODELS = ["mobilenet-v2", "minilm-l6", "ppocr-cls", "silero-vad"]


@pytest.fixture(scope="module")
def zoo():
    return pytest.importorskip("edgeq.zoo")


@pytest.mark.parametrize("name", MODELS)
def test_interpreter_and_ort_runner_agree_on_every_tensor(zoo, name):
    import onnxruntime as ort

    from edgeq.interp.float_interp import run_graph
    from edgeq.interp.ort_backend import OrtRunner
    from edgeq.model import load

    info = zoo.info(name)
    path = zoo.get(name)
    model = load(path, input_shapes={t.name: t.shape for t in info.inputs})
    graph = model.graph
    every = [o for n in graph.nodes for o in n.outputs if o]
    for feeds in zoo.feeds(name, split="eval", n=2):
        ours = run_graph(graph, feeds, outputs=every)
        theirs = OrtRunner(graph, outputs=every).run(feeds)
        for tensor in every:
            np.testing.assert_allclose(theirs[tensor], ours[tensor], rtol=1e-4, atol=1e-4,
                                       err_msg=f"{name}: tensor {tensor}")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        reference = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
        for out in graph.outputs:
            np.testing.assert_allclose(ours[out], reference[out], rtol=1e-4, atol=1e-4,
                                       err_msg=f"{name}: output {out} vs the original model")
