"""Bad configurations: edgeq.yaml files (YAML errors, unknown keys, wrong types, unknown
targets, bad gate strings) and target profile files, given to ``edgeq build --config``
and ``--target``."""

from __future__ import annotations

from _corpus import Case, Invocation, Workspace

GOOD = """\
model: {{path: cnn.onnx}}
calibration:
  dataset: {{kind: npy, path: calib, input_name: x}}
  num_samples: 4
targets: [{targets}]
output: out
{extra}"""


def _config(id, text, needles, status=2, name="edgeq.yaml"):
    """``edgeq build --config FILE`` with FILE holding ``text`` (a str, or a callable of
    the workspace)."""
    def make(ws: Workspace) -> Invocation:
        path = ws.path(name)
        body = text(ws) if callable(text) else text
        path.write_bytes(body) if isinstance(body, bytes) else path.write_text(body)
        return Invocation(["build", "--config", str(path)], status, tuple(needles), out=ws.out)
    return Case(id, "config", make)


def _good(targets="tflite", extra="", **replace) -> str:
    text = GOOD.format(targets=targets, extra=extra)
    for old, new in replace.items():
        text = text.replace(old.replace("_", " "), new)
    return text


def _profile(id, profile_text, needles, status=2, name="myphone.yaml"):
    """``edgeq build MODEL --target PROFILE.yaml`` with a bad target profile."""
    def make(ws: Workspace) -> Invocation:
        path = ws.path(name)
        path.write_text(profile_text)
        return ws.build(ws.model, target=str(path), status=status, needles=tuple(needles))
    return Case(id, "config", make)


CASES: list[Case] = [
    _config("config-yaml-syntax-error", "model: {path: cnn.onnx\ntargets: [tflite]\n", ["edgeq.yaml:2:", "invalid YAML"]),
    _config("config-yaml-tab-indent", "model:\n\tpath: cnn.onnx\n", ["edgeq.yaml"]),
    _config("config-empty-file", "", ["edgeq.yaml", "empty"]),
    _config("config-not-a-mapping", "- tflite\n- ane\n", ["edgeq.yaml"]),
    _config("config-binary-file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", ["edgeq.yaml"]),
    _config("config-unknown-top-level-key", _good(extra="optimise: true\n"), ["optimise"]),
    _config("config-unknown-nested-key", _good().replace("num_samples: 4", "num_sample: 4"),
            ["calibration.num_sample"]),
    _config("config-duplicate-key", _good() + "output: elsewhere\n", ["edgeq.yaml:7: output: given twice (first on line 6)"]),
    _config("config-wrong-type-num-samples", _good().replace("num_samples: 4", "num_samples: many"),
            ["calibration.num_samples"]),
    _config("config-negative-num-samples", _good().replace("num_samples: 4", "num_samples: -3"),
            ["calibration.num_samples"]),
    _config("config-wrong-type-targets", _good().replace("targets: [tflite]", "targets: tflite"), ["targets"]),
    _config("config-unknown-target", _good(targets="tpu-v9"), ["tpu-v9"]),
    _config("config-duplicate-target", _good(targets="tflite, tflite"), ["tflite"]),
    _config("config-bad-target-option", _good(targets="{name: tflite, options: {threads: 0}}"),
            ["threads"]),
    _config("config-unknown-target-option", _good(targets="{name: tflite, options: {turbo: true}}"), ["turbo"]),
    _config("config-bad-gate-operator", _good(extra="profile:\n  gates: ['sqnr_db=>3']\n"), ["sqnr_db=>3"]),
    _config("config-unknown-gate-metric", _good(extra="profile:\n  gates: ['happiness>=3']\n"), ["happiness"]),
    _config("config-gate-not-a-number", _good(extra="profile:\n  gates: ['sqnr_db>=high']\n"), ["sqnr_db>=high"]),
    _config("config-unknown-dataset-kind", _good().replace("kind: npy", "kind: parquet"), ["parquet"]),
    _config("config-unknown-method", _good().replace("num_samples: 4", "num_samples: 4\n  method: magic"),
            ["calibration.method"]),
    _config("config-model-missing", _good().replace("cnn.onnx", "gone.onnx"), ["gone.onnx"], status=1),
    _config("config-no-model", _good().replace("model: {path: cnn.onnx}\n", ""), ["model"]),
    _config("config-version-2", "version: 2\n" + _good(), ["version"]),
    _profile("profile-bad-name", "name: My Phone\ntarget: tflite\n", ["myphone.yaml", "name"]),
    _profile("profile-unknown-plugin-target", "name: myphone\ntarget: warp-drive\n", ["warp-drive"], status=1),
    _profile("profile-wrong-option-type", "name: myphone\ntarget: tflite\noptions: {threads: lots}\n",
             ["myphone.yaml", "threads"]),
    _profile("profile-yaml-syntax", "name: myphone\ntarget: [tflite\n", ["myphone.yaml"]),
    Case("profile-missing-file", "config", lambda ws: ws.build(ws.model, target=str(ws.root / "nothere.yaml"),
                                                               status=2, needles=("nothere.yaml",))),
]
