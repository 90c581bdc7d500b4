"""Bad input through the CLI: a clear EdgeqError message, no traceback, the right exit code
(2 usage/config, 1 other errors, 3 gates)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import numpy as np

from edgeq import errors
from edgeq.cli import cli, main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def save_model(path: Path, nodes, inputs, outputs, inits=(), opsets=(("", 17),)) -> Path:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    onnx.save(model, path)
    return path


def vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


@pytest.fixture
def conv_model(tmp_path) -> Path:
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((8, 3, 3, 3)).astype(np.float32), "w")
    return save_model(tmp_path / "conv.onnx", [helper.make_node("Conv", ["x", "w"], ["y"], name="conv0")],
                      [vi("x", [1, 3, 16, 16])], [vi("y", [1, 8, 14, 14])], [w])


def test_nonexistent_path(capsys, tmp_path):
    rc, _, err = run(capsys, "inspect", str(tmp_path / "nope.onnx"))
    assert rc == 1
    assert err.startswith("error: ") and "nope.onnx" in err and "no such file" in err


def test_truncated_file(capsys, conv_model, tmp_path):
    data = conv_model.read_bytes()
    bad = tmp_path / "truncated.onnx"
    bad.write_bytes(data[: len(data) // 2])
    rc, _, err = run(capsys, "inspect", str(bad))
    assert rc == 1 and "truncated.onnx" in err and err.startswith("error: ")


def test_garbage_file(capsys, tmp_path):
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    rc, _, err = run(capsys, "inspect", str(bad))
    assert rc == 1 and "garbage.onnx" in err


def test_directory_instead_of_file(capsys, tmp_path):
    rc, _, err = run(capsys, "inspect", str(tmp_path))
    assert rc == 1 and str(tmp_path) in err


def test_op_edgeq_lacks_is_listed_by_inspect_and_refused_by_run(capsys, tmp_path):
    path = save_model(tmp_path / "det.onnx", [helper.make_node("Det", ["x"], ["y"], name="the_det")],
                      [vi("x", [3, 3])], [vi("y", [])])
    rc, out, _ = run(capsys, "inspect", str(path), "--json")
    assert rc == 0
    assert json.loads(out)["unsupported_nodes"] == [{"name": "the_det", "op_type": "Det", "domain": ""}]
    rc, out, _ = run(capsys, "inspect", str(path))
    assert rc == 0 and "the_det" in out and "cannot run" in out

    import edgeq

    with pytest.raises(errors.UnsupportedOpError) as info:
        edgeq.load(path).run({"x": np.eye(3, dtype=np.float32)})
    assert "Det" in str(info.value) and "the_det" in str(info.value)


def test_custom_domain_op(capsys, tmp_path):
    path = save_model(tmp_path / "custom.onnx",
                      [helper.make_node("Frobnicate", ["x"], ["y"], name="frob", domain="com.example")],
                      [vi("x", [2, 4])], [vi("y", [2, 4])], opsets=(("", 17), ("com.example", 1)))
    rc, _, err = run(capsys, "inspect", str(path))
    assert rc == 1 and "custom.onnx" in err and "Frobnicate" in err


@pytest.mark.parametrize("spec, message", [
    ("x1x4", "expected NAME:SHAPE"),
    (":1x4", "expected NAME:SHAPE"),
    ("x:", "expected a shape like 1x3x224x224"),
    ("x:1xAx4", "expected a shape like 1x3x224x224"),
    ("x:0x4", "positive dimensions"),
    ("x:1x-4", "positive dimensions"),
])
def test_malformed_input_is_a_usage_error(capsys, conv_model, spec, message):
    rc, _, err = run(capsys, "inspect", str(conv_model), "--input", spec)
    assert rc == 2 and f"--input '{spec}'" in err and message in err


def test_input_given_twice(capsys, conv_model):
    rc, _, err = run(capsys, "inspect", str(conv_model), "--input", "x:1x3x8x8", "--input", "x:1x3x9x9")
    assert rc == 2 and "given twice" in err


def test_dynamic_dim_without_shape_suggests_input(capsys, tmp_path):
    path = save_model(tmp_path / "dyn.onnx", [helper.make_node("Relu", ["x"], ["y"], name="r")],
                      [vi("x", ["batch", 4])], [vi("y", ["batch", 4])])
    rc, _, err = run(capsys, "inspect", str(path))
    assert rc == 1 and "'x'" in err and "--input x:" in err
    rc, out, _ = run(capsys, "inspect", str(path), "--input", "x:3x4", "--json")
    assert rc == 0 and json.loads(out)["inputs"] == [{"name": "x", "shape": [3, 4], "dtype": "float32"}]


def test_input_for_unknown_name(capsys, conv_model):
    rc, _, err = run(capsys, "inspect", str(conv_model), "--input", "image:1x3x16x16")
    assert rc in (1, 2) and "image" in err


@pytest.mark.parametrize("argv", [["inspect"], ["inspect", "--bogus", "m.onnx"], ["no-such-command"],
                                  ["targets", "extra-arg"]])
def test_click_usage_errors_exit_2(capsys, argv):
    rc, _, err = run(capsys, *argv)
    assert rc == 2 and ("Usage" in err or "Error" in err)


def test_config_error_exits_2(capsys, tmp_path):
    cfg = tmp_path / "edgeq.yaml"
    cfg.write_text("model: {path: m.onnx}\nprofile: {runs: many}\n")
    rc, _, err = run(capsys, "config", "check", str(cfg))
    assert rc == 2 and f"{cfg}:2: profile.runs: expected an integer >= 1, got 'many'" in err


@pytest.fixture
def raising_command():
    """A throwaway subcommand raising a given exception, to test main()'s mapping."""
    state = {}

    @click.command("raise-it")
    def raise_it():
        raise state["exc"]

    cli.add_command(raise_it)
    yield state
    cli.commands.pop("raise-it")


@pytest.mark.parametrize("exc, code", [
    (errors.UsageError("bad flag"), 2), (errors.ConfigError("bad field"), 2),
    (errors.GateFailure("latency_p50_ms<=12 missed"), 3), (errors.ModelLoadError("bad model"), 1),
    (errors.DeviceError("no device"), 1), (errors.TargetUnavailableError("no sdk"), 1),
])
def test_exit_codes(capsys, raising_command, exc, code):
    raising_command["exc"] = exc
    rc, _, err = run(capsys, "raise-it")
    assert rc == code and err == f"error: {exc}\n"


def test_unexpected_exception_is_one_line_without_traceback(capsys, raising_command):
    raising_command["exc"] = KeyError("boom")
    rc, _, err = run(capsys, "raise-it")
    assert rc == 1 and "unexpected KeyError" in err and "-vv" in err


def test_long_messages_are_not_wrapped(capsys, raising_command):
    long = "x/" * 100 + "model.onnx: no such file"
    raising_command["exc"] = errors.ModelLoadError(long)
    _, _, err = run(capsys, "raise-it")
    assert long in err


def test_real_process_exit_codes_and_no_traceback(tmp_path):
    exe = Path(sys.executable).with_name("edgeq")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "edgeq"]
    env = {**os.environ, "COLUMNS": "80"}
    p = subprocess.run(cmd + ["inspect", str(tmp_path / "missing.onnx")], capture_output=True,
                       text=True, env=env, timeout=120)
    assert p.returncode == 1 and "missing.onnx" in p.stderr and "Traceback" not in p.stderr
    p = subprocess.run(cmd + ["inspect", "m.onnx", "--input", "x:abc"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    p = subprocess.run(cmd + ["--version"], capture_output=True, text=True, env=env, timeout=120)
    import edgeq

    assert p.returncode == 0 and edgeq.__version__ in p.stdout
