"""Property: each target's reader of its own artifacts (``Target.read_artifact``) on a
mutated artifact either reads it or raises an ``EdgeqError`` naming the artifact,
within a time bound - and each host runner, which reads before it hands the files to
LiteRT, coremltools or onnxruntime-qnn, either runs the artifact or raises one.

One small real artifact per target (the CNN of _fuzz_helpers, quantized under the
target's spec and emitted by the target) is copied, then one of its files is mutated:

* byte-level, in any file (the .tflite flatbuffer; the .mlpackage's Manifest.json,
  model spec protobuf and weight blob file; the QNN QDQ ONNX, AIMET encodings JSON,
  EPContext ONNX and context binary; manifest.json). Mostly the manifest's hashes are
  then rewritten to match, so the bytes reach the target's parser instead of stopping
  at the sha256 check (which is tried too);
* structural, in the JSON documents (manifest.json, the .mlpackage's Manifest.json,
  encodings.json): values of the wrong type, odd numbers, deleted or added keys.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeq.sdk import MANIFEST_NAME, Artifact
import numpy as np

from _fuzz_helpers import (FIND_ONE_FAILURE, INPUT, SHAPE, fuzz_settings, mutated_bytes, mutated_json,
                           outcome_of, pristine_artifact, tally_untouched, workdir)

#: target name -> the module its SDK needs (the test skips without it)
TARGETS = {"tflite": "ai_edge_litert", "ane": "coremltools", "qnn": "onnxruntime_qnn"}
#: JSON documents of each artifact that get structural mutations
JSON_FILES = {"tflite": [MANIFEST_NAME],
              "ane": [MANIFEST_NAME, "model.mlpackage/Manifest.json"],
              "qnn": [MANIFEST_NAME, "encodings.json"]}


def _artifact(target: str) -> Path:
    pytest.importorskip(TARGETS[target])
    return pristine_artifact(target)


def _target(name: str):
    from edgeq.targets import get_target

    return get_target(name).target


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _fresh_copy(target: str) -> Path:
    src = _artifact(target)
    dst = workdir() / f"fuzzed-{target}"
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst


def _rehash(root: Path) -> None:
    """Rewrite manifest.json's file hashes for the mutated files (if it still parses)."""
    try:
        manifest = json.loads((root / MANIFEST_NAME).read_text())
    except (ValueError, UnicodeDecodeError):
        return
    if isinstance(manifest, dict):
        Artifact(root, manifest).write_manifest()


def _read(target: str, root: Path) -> None:
    outcome_of(f"reader:{target}", lambda: _target(target).read_artifact(Artifact.load(root)),
               [root.name])


@st.composite
def byte_mutations(draw, target: str):
    root = _artifact(target)
    rel = draw(st.sampled_from(_files(root)))
    data = draw(mutated_bytes((root / rel).read_bytes()))
    return rel, data, rel != MANIFEST_NAME and draw(st.integers(0, 9)) > 0


@st.composite
def json_mutations(draw, target: str):
    root = _artifact(target)
    rel = draw(st.sampled_from(JSON_FILES[target]))
    doc = draw(mutated_json(json.loads((root / rel).read_text())))
    return rel, json.dumps(doc).encode(), rel != MANIFEST_NAME


def _apply(target: str, case) -> Path:
    rel, data, rehash = case
    root = _fresh_copy(target)
    (root / rel).write_bytes(data)
    if rehash:
        _rehash(root)
    return root


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_reader_reads_its_pristine_artifact(target):
    """The property's baseline: an unmodified artifact is read, with its ops counted
    from the model file."""
    summary = _target(target).read_artifact(Artifact.load(_artifact(target)))
    assert summary["target"] == target
    assert summary["ops"] and all(isinstance(v, int) and v > 0 for v in summary["ops"].values())
    assert len(summary["checked"]) > 2, summary["checked"]


def reader_property(target: str, strategy, max_examples: int, **overrides):
    @given(strategy)
    @fuzz_settings(max_examples, **overrides)
    def prop(case):
        _read(target, _apply(target, case))

    return prop


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_reader_on_mutated_bytes(target):
    _artifact(target)
    reader_property(target, byte_mutations(target), 100)()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_reader_on_mutated_json(target):
    _artifact(target)
    reader_property(target, json_mutations(target), 60)()


def test_the_property_fails_for_an_unguarded_reader(monkeypatch):
    """The property can fail: with the TFLite flatbuffer verifier switched off, the
    generated accessors meet the corrupt offsets and raise struct.error / IndexError,
    which the property reports."""
    _artifact("tflite")
    import edgeq_tflite.read.model as tflite_model

    monkeypatch.setattr(tflite_model, "verify_model", lambda data: None)
    with tally_untouched(), pytest.raises(AssertionError, match="escaped instead of an EdgeqError"):
        reader_property("tflite", byte_mutations("tflite"), 100, **FIND_ONE_FAILURE)()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_host_runner_on_mutated_model_files(target):
    """The runner's path: read (and check) the artifact, then load it into the runtime
    and run it once. Mutations of the model files only (manifest.json is the reader's
    test): an accepted mutation - new weight bytes, a rehashed QNN context binary, whose
    format edgeq cannot check - reaches the runtime, which must fail cleanly too."""
    from edgeq.targets import get_runner, get_target

    _artifact(target)
    feeds = {INPUT: np.zeros(SHAPE, np.float32)}

    @given(byte_mutations(target).filter(lambda case: case[0] != MANIFEST_NAME))
    @fuzz_settings(max_examples=40)
    def prop(case):
        root = _apply(target, case)
        runner = get_runner("host", get_target(target))  # no state carried between examples
        outcome_of(f"runner:{target}", lambda: runner.run(Artifact.load(root), feeds), [root.name])

    prop()
