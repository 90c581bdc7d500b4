"""The ``tflite-cpu`` profile on the zoo's transformer and LSTM (slow): accuracy on
evaluation data against FP32, run by LiteRT with XNNPACK, and where the float islands are.
Latency is measured by benchmarks/tflite.py, not here."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.sdk import EdgeqError

pytestmark = pytest.mark.slow


def _build(name: str, tmp_path, calib_n: int):
    import edgeq
    import edgeq.zoo as zoo
    from edgeq.targets import get_target
    from edgeq_tflite.target import build_artifact

    try:
        model = edgeq.load(zoo.get(name))
    except EdgeqError as exc:
        pytest.skip(f"zoo model {name} unavailable: {exc}")
    resolved = get_target("tflite-cpu")
    qm = edgeq.quantize(model, zoo.feeds(name, split="calib", n=calib_n), spec=resolved.spec,
                        progress=False)
    return model, qm, build_artifact(qm, tmp_path / name, resolved.build_options())


def _op_inputs(art) -> list[tuple[str, list]]:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(art.file("model.tflite")))
    it.allocate_tensors()
    dtypes = {t["index"]: t["dtype"] for t in it.get_tensor_details()}
    return [(op["op_name"], [dtypes[i] for i in op["inputs"] if i >= 0]) for op in it._get_ops_details()]


def test_minilm_keeps_every_matmul_int8_and_the_embedding_within_cosine_099(tmp_path):
    import edgeq.zoo as zoo
    from edgeq_tflite.runners.host import HostRunner

    model, qm, art = _build("minilm-l6", tmp_path, 64)
    floats = {e["op_type"] for e in qm.report["float_nodes"]}
    assert floats <= {"ReduceMean", "Sub", "Mul", "Add", "Rsqrt"}, floats
    assert not qm.report.get("int16_nodes")
    ops = _op_inputs(art)
    fcs = [ins for op, ins in ops if op == "FULLY_CONNECTED"]
    assert len(fcs) == 36 and all(ins[0] == np.int8 and ins[1] == np.int8 for ins in fcs)
    assert all(ins[0] == np.int8 for op, ins in ops if op == "BATCH_MATMUL")
    runner = HostRunner(delegate="xnnpack")
    cos = []
    for feed in zoo.feeds("minilm-l6", split="eval", n=48):
        ref = model.run(feed)
        got = runner.run(art, feed)
        for name, r in ref.items():
            a, b = np.ravel(r).astype(np.float64), np.ravel(got[name]).astype(np.float64)
            cos.append(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert np.mean(cos) >= 0.99, np.mean(cos)


def test_silero_runs_unrolled_with_its_speech_probability_within_002(tmp_path):
    import edgeq.zoo as zoo
    from edgeq.sdk import run_quantized
    from edgeq_tflite.runners.host import HostRunner

    model, qm, art = _build("silero-vad", tmp_path, 64)
    ops = {op for op, _ in _op_inputs(art)}
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" not in ops and "FULLY_CONNECTED" in ops
    runner = HostRunner(delegate="xnnpack")
    got, ref, sim = [], [], []
    for feed in zoo.feeds("silero-vad", split="eval", n=100):
        got.append(np.ravel(runner.run(art, feed)["speech_probs"]))
        ref.append(np.ravel(model.run(feed)["speech_probs"]))
        if len(sim) < 10:
            sim.append(np.ravel(run_quantized(qm.graph, feed)["speech_probs"]))
    got, ref = np.concatenate(got), np.concatenate(ref)
    assert np.abs(got - ref).mean() <= 0.02
    assert np.mean((got > 0.5) == (ref > 0.5)) >= 0.98
    # LiteRT (XNNPACK's float and int8 kernels) and edgeq's simulator agree
    assert np.abs(got[: sum(map(len, sim))] - np.concatenate(sim)).mean() <= 0.01
