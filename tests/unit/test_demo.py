"""The demo's command lines: the profile step carries the model's gates and an FP32
baseline (timed interleaved), and the demo says what its evaluation data is."""

from __future__ import annotations

import pytest

from edgeq import demo
from edgeq.profile.gates import parse_gates


@pytest.mark.parametrize("model", sorted(demo.GATES))
def test_profile_step_has_the_models_gates(model):
    build, profile = demo.commands(model, "out", 8, 8, 5)
    assert build[:2] == ["build", f"zoo:{model}"] and profile[:2] == ["profile", "out/tflite"]
    gates = [profile[i + 1] for i, a in enumerate(profile) if a == "--gate"]
    assert gates == demo.GATES[model] and parse_gates(gates)
    assert profile[profile.index("--baseline") + 1] == "fp32"


@pytest.mark.parametrize("model", sorted(demo.GATES))
def test_evaluation_data_is_described(model):
    line = demo.describe_data(model)
    assert line.startswith("evaluation data: the zoo's") and "eval split" in line
