"""Files edgeq writes also run in tflite-runtime 2.14, the standalone TFLite interpreter
package (an independent, older build of the runtime): loaded, allocated and invoked with
its reference kernels on the same integer inputs, they give LiteRT's reference results
(which equal edgeq's integer simulator, see tests/conformance) within the runtimes' known
rounding difference.

That difference: tflite-runtime 2.14's reference FULLY_CONNECTED requantizes with the
fixed-point multiplier (two roundings, ``MultiplyByQuantizedMultiplier``), LiteRT's with
a double-precision scale (one rounding), so near-ties differ by 1 LSB per layer
(docs/targets/tflite.md, "Bit-exactness"). Convolutions round the same way in both.

tflite-runtime's wheels are built against numpy 1.x, so it lives in its own environment
(``make test`` creates ``.venv-tflite-runtime``; ``EDGEQ_TFLITE_RUNTIME_PYTHON`` names
another interpreter). The check runs there in a subprocess; it is skipped, with the
reason, when no such environment exists.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgeq_tflite.tests import harness

ROOT = Path(__file__).resolve().parents[3]

RUNNER = """
import json, sys
import numpy as np
from tflite_runtime.interpreter import Interpreter, OpResolverType
import tflite_runtime
model, feeds, out = sys.argv[1:4]
it = Interpreter(model_path=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
it.allocate_tensors()
data = np.load(feeds)
for d in it.get_input_details():
    it.set_tensor(d["index"], data[d["name"]])
it.invoke()
np.savez(out, **{d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()})
print(json.dumps({"version": tflite_runtime.__version__}))
"""


def _tflite_runtime_python() -> str:
    exe = os.environ.get("EDGEQ_TFLITE_RUNTIME_PYTHON") or str(ROOT / ".venv-tflite-runtime" / "bin" / "python")
    if not Path(exe).is_file():
        pytest.skip(f"no tflite-runtime environment at {exe} (make test creates it)")
    probe = subprocess.run([exe, "-c", "import tflite_runtime.interpreter"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"tflite-runtime is not importable in {exe}: {probe.stderr.strip()[-200:]}")
    return exe


@pytest.mark.parametrize("case, max_lsb", [("cnn", 0), ("transformer", 2)])
def test_matches_litert_reference_in_tflite_runtime(case, max_lsb, request, tmp_path):
    exe = _tflite_runtime_python()
    model = request.getfixturevalue(case)
    runs = harness.run_all(model.graph, model.feeds[0])  # int8 I/O; LiteRT BUILTIN_REF
    exp = runs.export
    (tmp_path / "model.tflite").write_bytes(exp.model)
    np.savez(tmp_path / "feeds.npz", **{s.name: harness.file_layout(s, runs.int_feeds[s.name]) for s in exp.inputs})
    done = subprocess.run([exe, "-c", RUNNER, str(tmp_path / "model.tflite"), str(tmp_path / "feeds.npz"),
                           str(tmp_path / "out.npz")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    version = json.loads(done.stdout.strip().splitlines()[-1])["version"]
    got = np.load(tmp_path / "out.npz")
    assert set(got.files) == {s.name for s in exp.outputs}
    for spec in exp.outputs:
        diff = np.abs(got[spec.name].astype(np.int64) - runs.reference[spec.name].astype(np.int64))
        assert diff.max() <= max_lsb, f"{case} in tflite-runtime {version}: {diff.max()} LSB"
        assert np.mean(diff == 0) >= 0.9, f"{case}: only {np.mean(diff == 0):.2f} of the outputs are equal"
