"""Bad models: each an ONNX file (or something posing as one) built from the corpus's
small CNN or from scratch, given to ``edgeq build``."""

from __future__ import annotations

import json
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from _corpus import Case, Workspace

F = TensorProto.FLOAT


def _vi(name, shape, dtype=F):
    return helper.make_tensor_value_info(name, dtype, shape)


def _save(ws: Workspace, name: str, nodes, inputs, outputs, inits=(), opsets=(("", 17),), ir_version=None,
          check=False):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    if ir_version is not None:
        model.ir_version = ir_version
    if check:
        onnx.checker.check_model(model)
    path = ws.path(name)
    path.write_bytes(model.SerializeToString())
    return path


def _w(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _conv_model(ws, name, w, **kw):
    """x[1,3,8,8] -> Conv(w) -> y, with ``w`` an initializer (any content)."""
    return _save(ws, name, [helper.make_node("Conv", ["x", "w"], ["y"], name="conv0")],
                 [_vi("x", [1, 3, 8, 8])], [_vi("y", [1, 4, 6, 6])], [w], **kw)


def _relu(ws, name, **kw):
    return _save(ws, name, [helper.make_node("Relu", ["x"], ["y"], name="relu0")],
                 [_vi("x", [1, 4])], [_vi("y", [1, 4])], **kw)


def _bytes(name, data: bytes | Callable[[Workspace], bytes]):
    def make(ws: Workspace):
        path = ws.path(name)
        path.write_bytes(data(ws) if callable(data) else data)
        return ws.build(path, needles=(name,))
    return make


def _truncated(fraction):
    return lambda ws: ws.model.read_bytes()[: int(len(ws.model.read_bytes()) * fraction)]


def _external(ws, name, location, *, offset=0, length=None):
    """A Conv whose weight lives in external data at ``location`` (relative to the model)."""
    w = numpy_helper.from_array(_w((4, 3, 3, 3)), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length or 4 * 108))):
        entry = w.external_data.add()
        entry.key, entry.value = k, v
    return _conv_model(ws, name, w)


def _raw_tensor(name, data_type, dims, raw: bytes) -> TensorProto:
    """A TensorProto written field by field (onnx.helper refuses inconsistent ones)."""
    t = TensorProto()
    t.name, t.data_type, t.raw_data = name, data_type, raw
    t.dims.extend(dims)
    return t


def _case(id, make, seed=True):
    return Case(id, "model", make, seed)


def _m(id, builder, needles, status=1, extra=(), calib=None):
    """A case from ``builder(ws) -> model path``; the message must contain ``needles``.
    ``calib``: the shape of good calibration samples for it (default: the CNN's)."""
    def make(ws):
        data = ws.calib_for(calib) if calib else None
        return ws.build(builder(ws), *extra, calib=data, status=status, needles=tuple(needles))
    return _case(id, make)


CASES: list[Case] = [
    _case("model-empty-file", _bytes("empty.onnx", b"")),
    _case("model-random-bytes", _bytes("random.onnx", np.random.default_rng(0).bytes(4096))),
    _case("model-truncated-10pct", _bytes("trunc10.onnx", _truncated(0.10))),
    _case("model-truncated-50pct", _bytes("trunc50.onnx", _truncated(0.50))),
    _case("model-truncated-99pct", _bytes("trunc99.onnx", _truncated(0.99))),
    _case("model-json-text", _bytes("text.onnx", json.dumps({"graph": {"node": []}}).encode())),
    _case("model-tensor-proto", _bytes("tensor.onnx",
                                       numpy_helper.from_array(_w((8, 8)), "t").SerializeToString())),
    _case("model-no-graph", _bytes("nograph.onnx", helper.make_model(helper.make_graph([], "g", [], []))
                                   .SerializeToString())),
    _m("model-is-a-directory", lambda ws: (ws.root / "dir.onnx").mkdir() or ws.root / "dir.onnx", ["dir.onnx"]),
    _m("model-missing", lambda ws: ws.root / "missing.onnx", ["missing.onnx"]),
    _m("model-dangling-symlink", lambda ws: (ws.root / "link.onnx").symlink_to(ws.root / "gone.onnx")
       or ws.root / "link.onnx", ["link.onnx"]),
    _m("model-unknown-op", lambda ws: _save(ws, "unknown.onnx", [helper.make_node("FrobnicateX", ["x"], ["y"],
                                                                                     name="frob")],
                                             [_vi("x", [1, 4])], [_vi("y", [1, 4])]), ["frob", "FrobnicateX"], calib=(1, 4)),
    _m("model-custom-domain-op", lambda ws: _save(ws, "custom.onnx",
                                                  [helper.make_node("Swish", ["x"], ["y"], domain="com.acme",
                                                                    name="acme_swish")],
                                                  [_vi("x", [1, 4])], [_vi("y", [1, 4])],
                                                  opsets=(("", 17), ("com.acme", 1))), ["acme_swish", "com.acme"], calib=(1, 4)),
    _m("model-unsupported-standard-op", lambda ws: _save(ws, "nonzero.onnx",
                                                         [helper.make_node("NonZero", ["x"], ["y"], name="nz")],
                                                         [_vi("x", [1, 4])], [_vi("y", [2, None], TensorProto.INT64)]),
       ["nz", "NonZero"], calib=(1, 4)),
    _m("model-opset-1", lambda ws: _save(ws, "opset1.onnx", [
        helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip_v11")], [_vi("x", [1, 4])], [_vi("y", [1, 4])],
        [numpy_helper.from_array(np.float32(0), "lo"), numpy_helper.from_array(np.float32(6), "hi")],
        opsets=(("", 1),)), ["opset1.onnx"], calib=(1, 4)),
    _m("model-opset-99", lambda ws: _relu(ws, "opset99.onnx", opsets=(("", 99),)), ["opset99.onnx", "99"], calib=(1, 4)),
    _m("model-no-opset-import", lambda ws: _relu(ws, "noopset.onnx", opsets=()), ["noopset.onnx", "opset"], calib=(1, 4)),
    _m("model-ir-version-99", lambda ws: _relu(ws, "ir99.onnx", ir_version=99), ["ir99.onnx"], calib=(1, 4)),
    _m("model-cycle", lambda ws: _save(ws, "cycle.onnx", [
        helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
        helper.make_node("Relu", ["a"], ["b"], name="relu_b")], [_vi("x", [1, 4])], [_vi("b", [1, 4])]),
       ["cycle.onnx", "cycle"], calib=(1, 4)),
    _m("model-duplicate-node-outputs", lambda ws: _save(ws, "dupout.onnx", [
        helper.make_node("Relu", ["x"], ["y"], name="first"),
        helper.make_node("Sigmoid", ["x"], ["y"], name="second")], [_vi("x", [1, 4])], [_vi("y", [1, 4])]),
       ["dupout.onnx", "'y'"], calib=(1, 4)),
    _m("model-duplicate-graph-outputs", lambda ws: _save(ws, "dupgraphout.onnx", [
        helper.make_node("Relu", ["x"], ["y"], name="r")], [_vi("x", [1, 4])],
        [_vi("y", [1, 4]), _vi("y", [1, 4])]), ["dupgraphout.onnx", "'y'"], calib=(1, 4)),
    _m("model-dangling-input", lambda ws: _save(ws, "dangling.onnx", [
        helper.make_node("Add", ["x", "ghost"], ["y"], name="add0")], [_vi("x", [1, 4])], [_vi("y", [1, 4])]),
       ["ghost"], calib=(1, 4)),
    _m("model-dynamic-dims-no-shape", lambda ws: _save(ws, "dynamic.onnx", [
        helper.make_node("Relu", ["x"], ["y"], name="r")], [_vi("x", ["N", 4])], [_vi("y", ["N", 4])]),
       ["'x'", "--input"]),
    _m("model-input-without-shape", lambda ws: _save(ws, "noshape.onnx", [
        helper.make_node("Relu", ["x"], ["y"], name="r")], [_vi("x", None)], [_vi("y", [1, 4, 6, 6])]),
       ["'x'", "--input"]),
    _m("model-zero-size-dim", lambda ws: _save(ws, "zerodim.onnx", [
        helper.make_node("Relu", ["x"], ["y"], name="r")], [_vi("x", [1, 0])], [_vi("y", [1, 0])]), ["'x'"]),
    _m("model-no-nodes", lambda ws: _save(ws, "nonodes.onnx", [], [_vi("x", [1, 4])], [_vi("x", [1, 4])]),
       ["nonodes.onnx"], calib=(1, 4)),
    _m("model-no-outputs", lambda ws: _save(ws, "nooutputs.onnx", [
        helper.make_node("Relu", ["x"], ["y"], name="r")], [_vi("x", [1, 4])], []), ["nooutputs.onnx", "output"], calib=(1, 4)),
    _m("model-string-input", lambda ws: _save(ws, "strin.onnx", [
        helper.make_node("Identity", ["x"], ["y"], name="id")], [_vi("x", [1, 4], TensorProto.STRING)],
        [_vi("y", [1, 4], TensorProto.STRING)]), ["'x'"]),
    _m("model-nan-initializer", lambda ws: _conv_model(ws, "nan.onnx", numpy_helper.from_array(
        np.full((4, 3, 3, 3), np.nan, np.float32), "w")), ["initializer 'w'", "NaN"]),
    _m("model-inf-initializer", lambda ws: _conv_model(ws, "inf.onnx", numpy_helper.from_array(
        np.where(np.arange(108).reshape(4, 3, 3, 3) == 7, np.inf, 1.0).astype(np.float32), "w")),
       ["initializer 'w'"]),
    _m("model-nan-constant-node", lambda ws: _save(ws, "nanconst.onnx", [
        helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.full((1, 4), np.nan, np.float32)),
                         name="const_nan"),
        helper.make_node("Add", ["x", "c"], ["y"], name="add0")], [_vi("x", [1, 4])], [_vi("y", [1, 4])]),
       ["'c'", "add0"], calib=(1, 4)),
    _m("model-initializer-size-mismatch", lambda ws: _conv_model(ws, "short.onnx", _raw_tensor("w", F, [4, 3, 3, 3], b"\0" * 40)), ["initializer 'w'"]),
    _m("model-initializer-undefined-type", lambda ws: _conv_model(ws, "undeftype.onnx", _raw_tensor("w", TensorProto.UNDEFINED,
                                                                             [4, 3, 3, 3], b"")), ["initializer 'w'"]),
    _m("model-huge-declared-initializer", lambda ws: _conv_model(ws, "huge.onnx", _raw_tensor("w", F, [1 << 20, 1 << 20, 3, 3],
                                                                       b"\0" * 16)), ["initializer 'w'"]),
    _m("model-huge-declared-input", lambda ws: _save(ws, "hugein.onnx", [
        helper.make_node("Relu", ["x"], ["y"], name="r")], [_vi("x", [1 << 20, 1 << 20, 1 << 10])],
        [_vi("y", [1, 4, 6, 6])]), ["'x'"]),
    _m("model-negative-dim", lambda ws: _save(ws, "negdim.onnx", [
        helper.make_node("Relu", ["x"], ["y"], name="r")], [_vi("x", [1, -4])], [_vi("y", [1, 4, 6, 6])]), ["'x'"]),
    _m("model-external-data-missing", lambda ws: _external(ws, "extmissing.onnx", "weights.bin"),
       ["weights.bin"]),
    _m("model-external-data-outside-folder", lambda ws: (ws.path("secret.bin").write_bytes(b"\0" * 432),
                                                          _external(ws, "sub/extout.onnx", "../secret.bin"))[1],
       ["../secret.bin"]),
    _m("model-external-data-absolute-path", lambda ws: (ws.path("abs.bin").write_bytes(b"\0" * 432),
                                                         _external(ws, "extabs.onnx", str(ws.root / "abs.bin")))[1],
       ["abs.bin"]),
    _m("model-external-data-short-file", lambda ws: (ws.path("short.bin").write_bytes(b"\0" * 100),
                                                      _external(ws, "extshort.onnx", "short.bin"))[1],
       ["short.bin"]),
    _m("model-conv-weight-wrong-rank", lambda ws: _conv_model(ws, "wrank.onnx", numpy_helper.from_array(
        _w((4, 27)), "w")), ["conv0"]),
    _m("model-attribute-wrong-type", lambda ws: _save(ws, "attr.onnx", [
        helper.make_node("Conv", ["x", "w"], ["y"], name="conv0", kernel_shape="3x3")],
        [_vi("x", [1, 3, 8, 8])], [_vi("y", [1, 4, 6, 6])], [numpy_helper.from_array(_w((4, 3, 3, 3)), "w")]),
       ["conv0", "kernel_shape"]),
    _m("model-input-wrong-override", lambda ws: ws.model, ["'x'", "1x3x16x16"], status=2,
       extra=("--input", "x:1x3x9x9")),
]
