"""docs/cli.md's exit-status table, row by row, through the CLI: each case exits with
the documented status, prints one error line naming the culprit, and no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from _quant_models import cnn_feeds, save, small_cnn
from onnx import helper

from edgeq.cli import main

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("exit")
    model = save(small_cnn(), d / "cnn.onnx")
    calib = d / "calib"
    calib.mkdir()
    for i, feed in enumerate(cnn_feeds(4)):
        np.save(calib / f"{i}.npy", feed["x"])
    mixed = d / "mixed"
    mixed.mkdir()
    np.save(mixed / "a.npy", cnn_feeds(1)[0]["x"])
    Image.new("RGB", (16, 16)).save(mixed / "b.png")
    empty = d / "empty"
    empty.mkdir()
    w = np.full((4, 3, 3, 3), np.nan, np.float32)
    from onnx_helpers import make_model

    nan = save(make_model([helper.make_node("Conv", ["x", "w"], ["y"], name="c")], inputs={"x": (1, 3, 8, 8)},
                          outputs={"y": None}, initializers={"w": w}), d / "nan.onnx")
    (d / "bad.yaml").write_text("model: {path: cnn.onnx}\ncalibration: {num_samples: abc}\n")
    (d / "noplugin.yaml").write_text("name: elsewhere\ntarget: no-such-plugin-target\n")
    (d / "badprofile.yaml").write_text("name: Bad Name\ntarget: tflite\n")
    return {"model": str(model), "calib": str(calib), "mixed": str(mixed), "empty": str(empty),
            "nan": str(nan), "dir": d}


CASES = [
    # (status, argv builder, text the error must contain)
    (0, lambda f: ["targets"], None),
    (1, lambda f: ["inspect", str(f["dir"] / "missing.onnx")], "missing.onnx"),
    (1, lambda f: ["inspect", f["nan"]], "initializer 'w'"),
    (1, lambda f: ["quantize", f["model"], "--calib", f["empty"], "-o", str(f["dir"] / "q1.edgeq")], "empty"),
    (1, lambda f: ["build", f["model"], "--target", str(f["dir"] / "noplugin.yaml"), "--calib", f["calib"],
                   "-o", str(f["dir"] / "o1")], "no-such-plugin-target"),
    (2, lambda f: ["build", f["model"], "--no-such-flag"], "--no-such-flag"),
    (2, lambda f: ["inspect", f["model"], "--input", "x:1x3x16"], "rank 4"),
    (2, lambda f: ["inspect", f["model"], "--input", "x:1x3x16x17"], "fixed to 16"),
    (2, lambda f: ["inspect", f["model"], "--input", "x:1xax16"], "x:1xax16"),
    (2, lambda f: ["profile", str(f["dir"]), "--gate", "sqnr_db=>3"], "sqnr_db=>3"),
    (2, lambda f: ["config", "check", str(f["dir"] / "bad.yaml")], "calibration.num_samples"),
    (2, lambda f: ["build", f["model"], "--target", str(f["dir"] / "badprofile.yaml"), "--calib", f["calib"],
                   "-o", str(f["dir"] / "o2")], "badprofile.yaml"),
    (2, lambda f: ["build", f["model"], "--target", "no-such-target", "--calib", f["calib"]], "no-such-target"),
    (2, lambda f: ["quantize", f["model"], "--calib", f["mixed"], "-o", str(f["dir"] / "q2.edgeq")],
     "mixes data kinds"),
]


def test_every_documented_status_has_a_case():
    documented = {int(s) for s in re.findall(r"^\| (\d+) \|", DOC, re.M)}
    assert documented == {0, 1, 2, 3, 130}
    covered = {c[0] for c in CASES} | {3, 130}  # 3: test_cli_build gates; 130: test_cli_interrupt
    assert covered == documented


@pytest.mark.parametrize("status,argv,needle", CASES, ids=[" ".join(c[1]({"model": "M", "calib": "C",
                         "mixed": "X", "empty": "E", "nan": "N", "dir": Path("D")})[:2]) + f"-{i}"
                         for i, c in enumerate(CASES)])
def test_exit_status(files, status, argv, needle, capsys):
    rc = main(argv(files))
    out = capsys.readouterr()
    assert rc == status, out.err
    assert "Traceback" not in out.err and "bug in edgeq" not in out.err
    if needle is not None:
        assert needle in out.err
