"""The TFLite artifacts of the four zoo models are byte-identical to those of edgeq
before its plugin SDK restructuring, and the same whether the calibration statistics
were collected afresh or read from the cache.

The goldens are the sha256 of ``model.tflite`` from ``edgeq.build("zoo:NAME",
targets=["tflite"])`` (the zoo's calibration split, default options) at commit 0a09b36,
the last commit before the restructuring. A change that is meant to change the emitted
bytes (new quantization defaults, a new lowering) updates them and says why.
"""

from __future__ import annotations

import hashlib

import pytest

pytest.importorskip("ai_edge_litert.interpreter")

import edgeq  # noqa: E402

pytestmark = pytest.mark.slow

GOLDEN_SHA256 = {
    "mobilenet-v2": "1acac5351429a09c5bb6ebc64ddf57cca527dac59d4309f36266e9140e2ceeb9",
    "ppocr-cls": "7e40176ef178cbe7fac14c56c996fdfe4ab17bc640c645153923b1f1ac48920c",
    "minilm-l6": "4f70733903c9c96119896ca7400cfaee0afb44014bd0f437a0d5bffd9313309d",
    # silero-vad: its LSTM is one fused integer UNIDIRECTIONAL_SEQUENCE_LSTM (QuantSpec.fused_ops)
    "silero-vad": "3d640fb5f063bf3df404abecc735cb36eab9ab2cc67a3d4b7f77603af090e691",
}


def _build_sha(name, out, cache):
    arts = edgeq.build(f"zoo:{name}", targets=["tflite"], output_dir=out, progress=False,
                       cache_dir=str(cache))
    return hashlib.sha256((arts["tflite"].path / "model.tflite").read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(GOLDEN_SHA256))
def test_tflite_artifact_is_byte_identical(name, tmp_path):
    if name == "silero-vad":
        import shutil

        if shutil.which("espeak-ng") is None:
            pytest.skip("the speech data set needs Debian's espeak-ng (apt-get install espeak-ng)")
    cold = _build_sha(name, tmp_path / "a", tmp_path / "cache")  # statistics collected now
    assert cold == GOLDEN_SHA256[name]
    if name == "minilm-l6":  # the model whose GPTQ statistics used to round differently when cached
        assert _build_sha(name, tmp_path / "b", tmp_path / "cache") == cold
