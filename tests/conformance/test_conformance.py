"""Target-neutral conformance: every case of edgeq.testing.cases (one small quantized
graph per op) against the float interpreter, the integer simulator, and every installed
target's artifact run by its host runner.

* ``test_simulator_close_to_float``: the simulator's dequantized result is within a few
  output LSBs of the dequantized graph evaluated in float — what the quantized op means;
* ``test_target_matches_simulator``: for each installed target with a host runner, the
  case emitted through ``Target.emit`` and run by ``--runner host`` is within the
  target's ``simulator_tolerance_lsb`` of the simulator; a case the target's ``check``
  refuses is skipped with the target's reason, naming the node.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.errors import UnsupportedOpError
from edgeq.targets import list_targets
from edgeq.testing import conformance

NAMES = conformance.case_names()
_CASES: dict = {}


def _case(name):
    if name not in _CASES:
        _CASES[name] = conformance.load_case(name)
    return _CASES[name]


def _simulated(case):
    try:
        return conformance.simulate(case.graph, case.int_feeds)
    except UnsupportedOpError as exc:  # a gap of the simulator, not a mismatch
        pytest.skip(f"integer simulator does not support this configuration: {exc}")


def _host_targets() -> list[str]:
    rows = [r for r in list_targets() if r.source == "plugin" or r.name == r.target]
    return sorted({r.target for r in rows if r.sdk_installed and "host" in r.runners})


def test_there_are_cases_and_targets():
    assert len(NAMES) >= 60
    assert "tflite" in _host_targets()


@pytest.mark.parametrize("name", NAMES)
def test_simulator_close_to_float(name):
    case = _case(name)
    sim = _simulated(case)
    ref = conformance.float_reference(case.graph, case.feeds)
    for out, q in conformance.output_params(case.graph).items():
        if q is None:  # an integer result (indices): the float graph gives the same
            np.testing.assert_array_equal(sim[out], ref[out], err_msg=f"{name}: output {out}")
            continue
        got = (sim[out].astype(np.float64) - float(q.zero_point[0])) * float(q.scale[0])
        tol = 4 * float(q.scale[0]) + 0.02 * np.abs(ref[out]).max()
        np.testing.assert_allclose(got, ref[out], atol=tol, err_msg=f"{name}: output {out}")


@pytest.mark.parametrize("target", _host_targets())
@pytest.mark.parametrize("name", NAMES)
def test_target_matches_simulator(name, target, tmp_path, request):
    from edgeq.targets import get_target

    known = get_target(target).target.known_deviations
    if name in known:  # measured and documented by the target: expected to fail
        request.applymarker(pytest.mark.xfail(reason=f"{target}: {known[name]}", strict=True))
    case = _case(name)
    _simulated(case)
    try:
        outputs = conformance.run_on_target(target, case, tmp_path)
    except conformance.CaseNotSupported as exc:
        pytest.skip(f"{target} cannot run {name}: {exc}")
    tolerance = get_target(target).target.simulator_tolerance_lsb
    worst = conformance.compare_to_simulator(case, outputs, tolerance)
    assert set(worst) == set(case.graph.outputs)


def test_compare_to_simulator_catches_an_off_by_two():
    """The comparison itself fails when a target is 2 LSB off (the check can fail)."""
    case = _case("relu")
    sim = conformance.simulate(case.graph, case.int_feeds)
    (out, q), = conformance.output_params(case.graph).items()
    wrong = (sim[out].astype(np.float64) + 2 - float(q.zero_point[0])) * float(q.scale[0])
    with pytest.raises(AssertionError, match="2 LSB"):
        conformance.compare_to_simulator(case, {out: wrong}, 1)
    assert conformance.compare_to_simulator(case, {out: wrong}, 2) == {out: 2}


def test_tolerance_per_storage_type():
    from edgeq.types import QDType

    assert conformance.tolerance_for(1, QDType.INT16) == 1
    assert conformance.tolerance_for({"int8": 1, "int16": 17}, QDType.INT16) == 17
    assert conformance.tolerance_for({"int8": 1}, QDType.INT16) == 0  # unstated: bit-exact
