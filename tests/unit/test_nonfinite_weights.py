"""A model whose initializers hold NaN (anywhere) or ±inf (as a layer's weights) is
refused when it is loaded, naming the initializer and the node that reads it; -inf in a
mask-like constant stays allowed; no numpy warning reaches the user."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from onnx import helper
from _quant_models import save

import edgeq
from edgeq.cli import main
from edgeq.errors import ModelLoadError
from onnx_helpers import make_model


def _conv(w):
    return make_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")],
                      inputs={"x": (1, 3, 8, 8)}, outputs={"y": None}, initializers={"w": w})


@pytest.mark.parametrize("value,what", [(np.nan, "1 NaN"), (np.inf, "1 infinite")])
def test_broken_weights_are_named_at_load_time(tmp_path, value, what):
    w = np.ones((4, 3, 3, 3), np.float32)
    w[1, 2, 0, 0] = value
    path = save(_conv(w), tmp_path / "bad.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail here
        with pytest.raises(ModelLoadError, match=rf"bad.onnx: initializer 'w' \(read by 'conv1' \(Conv\)\) "
                                                 rf"holds {what} of 108 values.*re-export"):
            edgeq.load(str(path))


def test_cli_inspect_reports_it_without_a_traceback(tmp_path, capsys):
    w = np.full((4, 3, 3, 3), np.nan, np.float32)
    path = save(_conv(w), tmp_path / "bad.onnx")
    assert main(["inspect", str(path)]) == 1
    err = capsys.readouterr().err
    assert "initializer 'w'" in err and "108 NaN" in err and "Traceback" not in err


def test_minus_inf_mask_constant_is_allowed(tmp_path):
    mask = np.array([0.0, -np.inf, 0.0, -np.inf], np.float32)
    model = make_model([helper.make_node("Add", ["x", "m"], ["y"])], inputs={"x": (1, 4)},
                       outputs={"y": None}, initializers={"m": mask})
    m = edgeq.load(str(save(model, tmp_path / "mask.onnx")))
    out = m.run({"x": np.ones((1, 4), np.float32)})["y"]
    assert np.isneginf(out[0, 1]) and out[0, 0] == 1.0
