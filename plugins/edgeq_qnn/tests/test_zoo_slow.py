"""Whole zoo models through the QNN target (slow: downloads from the package registry on
first use, quantizes, compiles a context binary, runs on the HTP emulator). Every node
must be on QNN, and the emulator must follow edgeq's integer simulator: PP-OCR's
probabilities within 1 LSB, the deeper models within a few LSB per output (per-layer
1-LSB differences compound; docs/targets/qnn.md)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.sdk import BuildOptions, EdgeqError

pytestmark = pytest.mark.slow

#: model -> (max output difference in output LSBs, min cosine to the simulator)
MODELS = {"mobilenet-v2": (12, 0.99), "ppocr-cls": (1, 0.9999), "minilm-l6": (None, 0.975)}
#: model -> min cosine to the FP32 model: MiniLM with per-channel FullyConnected weights
#: (1x1 Convs on HTP) reached 0.977 min over 100 evaluation sentences (benchmarks/qnn.py;
#: 0.849 with per-tensor weights)
FP32_COSINE = {"minilm-l6": 0.96}


@pytest.fixture(scope="module", params=sorted(MODELS))
def zoo_case(request, tmp_path_factory):
    import edgeq
    import edgeq.zoo as zoo
    from edgeq_qnn.target import QnnTarget

    name = request.param
    try:
        path = zoo.get(name)
    except EdgeqError as exc:
        pytest.skip(f"zoo model {name} unavailable: {exc}")
    model = edgeq.load(path)
    qm = edgeq.quantize(model, zoo.feeds(name, split="calib", n=16), spec=QnnTarget().spec)
    out = tmp_path_factory.mktemp(name)
    art = QnnTarget().emit(qm, out, BuildOptions(extra={"htp_arch": 75}))
    return name, model, qm, art, zoo.feeds(name, split="eval", n=2)


def test_zoo_model_runs_wholly_on_htp_and_follows_the_simulator(zoo_case):
    from edgeq_qnn.runners.host import HostRunner

    name, model, qm, art, feeds = zoo_case
    runner = HostRunner()
    assert runner.placement(art)["unsupported"] == []
    max_lsb, min_cos = MODELS[name]
    enc = art.manifest["qnn"]["output_encodings"]
    for feed in feeds:
        got = runner.run(art, feed)
        sim = qm.run(feed)
        if name in FP32_COSINE:
            for out, v in model.run(feed).items():
                g, f = got[out].astype(np.float64).ravel(), np.asarray(v, np.float64).ravel()
                cos = float(g @ f / (np.linalg.norm(g) * np.linalg.norm(f)))
                assert cos >= FP32_COSINE[name], (name, out, "vs FP32", cos)
        for out, v in sim.items():
            g = got[out].astype(np.float64).ravel()
            s = np.asarray(v, np.float64).ravel()
            cos = float(g @ s / (np.linalg.norm(g) * np.linalg.norm(s)))
            assert cos >= min_cos, (name, out, cos)
            if max_lsb is not None:
                lsb = np.abs(g - s).max() / enc[out]["scale"][0]
                assert lsb <= max_lsb + 1e-6, (name, out, lsb)


def test_silero_vad_context_compiles():
    """silero VAD's QDQ model is refused by the HTP backend at graph finalization
    (QNN_COMMON_ERROR_MEM_ALLOC at its first encoder Conv, measured with onnxruntime-qnn
    2.7.0); the build must fail with a BuildError naming the model, not leave an artifact."""
    import tempfile

    import edgeq
    import edgeq.zoo as zoo
    from edgeq_qnn.target import QnnTarget

    try:
        path = zoo.get("silero-vad")
    except EdgeqError as exc:
        pytest.skip(f"zoo model silero-vad unavailable: {exc}")
    qm = edgeq.quantize(edgeq.load(path), zoo.feeds("silero-vad", split="calib", n=8), spec=QnnTarget().spec)
    with tempfile.TemporaryDirectory() as d:
        try:
            QnnTarget().emit(qm, d, BuildOptions())
        except EdgeqError as exc:
            assert "HTP" in str(exc) and "model.qdq.onnx" in str(exc)
            pytest.xfail(f"known: {str(exc)[-160:]}")
