"""The public API refuses wrong argument types with a UsageError naming the function,
the argument and what it accepts (never a traceback from deep inside); and every name of
edgeq.__all__ is documented and type-annotated."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from _quant_models import cnn_feeds, save, small_cnn

import edgeq
from edgeq.errors import UsageError


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory):
    return save(small_cnn(), tmp_path_factory.mktemp("t") / "cnn.onnx")


@pytest.mark.parametrize("call,match", [
    (lambda p: edgeq.load(42), r"load\(path=...\): got int; give the path of an .onnx file"),
    (lambda p: edgeq.load(str(p), input_shapes=[(1, 3)]), r"load\(input_shapes=...\): got list"),
    (lambda p: edgeq.quantize(edgeq.load(str(p)), 7), r"calibration=...: got int; give an edgeq.data dataset"),
    (lambda p: edgeq.quantize(edgeq.load(str(p)), {"x": np.zeros(3)}), r"calibration=...: got dict"),
    (lambda p: edgeq.quantize(edgeq.load(str(p)), cnn_feeds(2), spec="tflite"),
     r"quantize\(spec=...\): got str; give a QuantSpec"),
    (lambda p: edgeq.quantize(3.5, cnn_feeds(2)), r"quantize\(\) takes a Model"),
    (lambda p: edgeq.build(str(p), targets=7, calibration=cnn_feeds(2)), r"build\(targets=...\): got int"),
    (lambda p: edgeq.build(str(p), targets=["tflite"], output_dir=3), r"build\(output_dir=...\): got int"),
    (lambda p: edgeq.profile(12), r"profile\(artifact_dir=...\): got int"),
    (lambda p: edgeq.profile(str(p), runner=None), r"profile\(runner=...\): got NoneType"),
    (lambda p: edgeq.compare(str(p), 5, cnn_feeds(1)), r"compare\(qmodel=...\): got int"),
])
def test_wrong_types_are_usage_errors(onnx_path, call, match):
    with pytest.raises(UsageError, match=match):
        call(onnx_path)


def test_quantize_takes_a_directory_of_calibration_files(onnx_path, tmp_path):
    """A path is resolved as edgeq build --calib resolves it (not iterated as characters)."""
    data = tmp_path / "calib"
    data.mkdir()
    for i, feed in enumerate(cnn_feeds(4)):
        np.save(data / f"{i}.npy", feed["x"])
    qm = edgeq.quantize(edgeq.load(str(onnx_path)), str(data), progress=False, cache_dir=str(tmp_path / "c"))
    assert qm.report["calibration_samples"] == 4


def test_every_public_name_is_documented_and_annotated():
    for name in edgeq.__all__:
        obj = getattr(edgeq, name)
        if name == "__version__":
            assert isinstance(obj, str)
            continue
        doc = inspect.getdoc(obj) or ""
        assert len(doc) > 40, f"edgeq.{name} has no docstring stating its contract"
        if inspect.isfunction(obj):
            sig = inspect.signature(obj)
            assert sig.return_annotation is not inspect.Signature.empty, f"edgeq.{name}: no return type"
            unannotated = [p for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty
                           and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
            assert not unannotated, f"edgeq.{name}: parameters without a type: {[p.name for p in unannotated]}"


def test_help_lists_the_workflow_in_order():
    doc = edgeq.__doc__
    steps = ["edgeq.load", "edgeq.quantize", "edgeq.compare", "edgeq.build", "edgeq.profile"]
    positions = [doc.find(s) for s in steps]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
