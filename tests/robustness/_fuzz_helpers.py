"""Shared pieces of the property-based robustness tests (tests/robustness/test_fuzz_*.py).

* :func:`time_bound`: a per-example wall-clock bound, so a hang fails the example;
* :func:`outcome_of`: runs one fuzzed input, classifies how it ended (``_tally``'s
  outcomes), records it and fails the test on anything but a clear ``EdgeqError`` or a
  clean acceptance;
* byte-level mutations (flip, truncate, insert, overwrite) as hypothesis strategies;
* the small real models and artifacts the tests mutate, built once per session.
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import signal
import sys
import tempfile
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from edgeq.errors import EdgeqError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from _tally import record  # noqa: E402
from onnx_helpers import helper, make_model  # noqa: E402

#: seconds one fuzzed input may take before it counts as a hang
EXAMPLE_LIMIT_S = 20.0

#: the CI budget: reproducible (derandomized), no example database on disk, a generous
#: per-example deadline (a loaded 2-core machine runs the suite) and no shrinking passes
#: beyond the defaults' so a failure still shrinks to a small input
FUZZ_SETTINGS = dict(derandomize=True, database=None, deadline=timedelta(seconds=10),
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.function_scoped_fixture],
                     phases=[Phase.explicit, Phase.generate, Phase.shrink])


def fuzz_settings(max_examples: int, **overrides):
    return settings(max_examples=max_examples, **{**FUZZ_SETTINGS, **overrides})


#: for the tests that prove a property can fail: stop at the first failure, unshrunk
FIND_ONE_FAILURE = dict(phases=[Phase.generate], report_multiple_bugs=False)


@contextlib.contextmanager
def tally_untouched():
    """Run a deliberately failing property without its inputs entering the tally."""
    from _tally import COUNTS

    saved = COUNTS.copy()
    try:
        yield
    finally:
        COUNTS.clear()
        COUNTS.update(saved)


class Hang(Exception):
    """An input exceeded :data:`EXAMPLE_LIMIT_S`."""


@contextlib.contextmanager
def time_bound(seconds: float = EXAMPLE_LIMIT_S):
    """Raise :class:`Hang` in the body after ``seconds`` of wall-clock time (SIGALRM);
    a hang inside native code, which a Python signal handler cannot interrupt, is caught
    by faulthandler a little later: it dumps every thread's stack and ends the process,
    so the run fails loudly instead of waiting forever."""

    def on_alarm(signum, frame):
        raise Hang(f"exceeded {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds * 3, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


def outcome_of(category: str, fn: Callable[[], object], names: Iterable[str], *,
               limit_s: float = EXAMPLE_LIMIT_S) -> str:
    """Run ``fn`` on one fuzzed input and record how it ended.

    ``clear_error``: an ``EdgeqError`` whose message names one of ``names`` (the file
    or directory fed); ``accepted``: ``fn`` returned. Anything else - another exception
    (``traceback``), an ``EdgeqError`` that names none of ``names`` (``unclear``), a
    hang - is recorded and fails the example with the details.
    """
    names = [str(n) for n in names]
    try:
        with time_bound(limit_s):
            fn()
    except Hang as exc:
        record(category, "hang")
        raise AssertionError(f"{category}: the input hung ({exc})") from exc
    except EdgeqError as exc:
        message = str(exc)
        if not any(n in message for n in names):
            # an error that does not say which file is not a clear one
            record(category, "unclear")
            raise AssertionError(f"{category}: {type(exc).__name__} does not name any of "
                                 f"{names}: {message!r}") from exc
        record(category, "clear_error")
        return "clear_error"
    except Exception as exc:  # noqa: BLE001 - the property under test
        record(category, "traceback")
        raise AssertionError(f"{category}: {type(exc).__name__} escaped instead of an EdgeqError:\n"
                             + "".join(traceback.format_exception(exc))) from exc
    record(category, "accepted")
    return "accepted"


# -- byte-level mutations ------------------------------------------------------------------
@st.composite
def mutated_bytes(draw, original: bytes, max_edits: int = 4) -> bytes:
    """``original`` with 1..``max_edits`` edits: bit flips, overwritten runs (random or
    with extreme little-endian integers, the values that break offsets and sizes),
    insertions, deletions, or a truncation."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, max_edits))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "overwrite", "extreme", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            run = draw(st.binary(min_size=1, max_size=8))
            data[at:at + len(run)] = run
        elif kind == "extreme":
            value = draw(st.sampled_from([0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF,
                                          0x80000000, len(data), len(data) + 4]))
            run = int(value).to_bytes(4, "little")
            data[at:at + 4] = run
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)


# -- models and artifacts, built once per session ----------------------------------------------
@functools.lru_cache(maxsize=None)
def workdir() -> Path:
    """A scratch directory for this session's fuzzed files (removed at exit)."""
    tmp = tempfile.TemporaryDirectory(prefix="edgeq-fuzz-")
    _keep.append(tmp)
    return Path(tmp.name)


_keep: list = []

INPUT = "image"
OUTPUT = "probs"
SHAPE = (1, 3, 8, 8)


def cnn_model():
    """Conv + Relu, Conv (stride 2) + Relu, GlobalAveragePool, Flatten, Gemm, Softmax:
    ops every target lowers in integer arithmetic."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    inits = {"w1": rng.normal(0, 0.4, (4, 3, 3, 3)).astype(f32), "b1": rng.normal(0, 0.1, 4).astype(f32),
             "w2": rng.normal(0, 0.3, (8, 4, 3, 3)).astype(f32), "b2": rng.normal(0, 0.1, 8).astype(f32),
             "fc_w": rng.normal(0, 0.5, (5, 8)).astype(f32), "fc_b": rng.normal(0, 0.1, 5).astype(f32)}
    nodes = [
        helper.make_node("Conv", [INPUT, "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1],
                         strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], [OUTPUT], name="softmax", axis=-1),
    ]
    return make_model(nodes, inputs={INPUT: SHAPE}, outputs={OUTPUT: (1, 5)}, initializers=inits)


def shapes_model():
    """Attribute- and shape-heavy ops: Transpose, Reshape, Slice, Concat, Clip, Pad,
    ReduceMean, Unsqueeze, Mul by a constant."""
    f32 = np.float32
    i64 = np.int64
    inits = {"shape": np.array([1, 12, 4], i64), "starts": np.array([0], i64), "ends": np.array([2], i64),
             "axes": np.array([2], i64), "lo": np.array(-1, f32), "hi": np.array(1, f32),
             "pads": np.array([0, 0, 1, 0, 0, 1], i64), "k": np.full((1, 12, 4), 0.5, f32),
             "uaxes": np.array([0], i64)}
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], name="transpose", perm=[0, 2, 1]),
        helper.make_node("Reshape", ["t", "shape"], ["r"], name="reshape"),
        helper.make_node("Slice", ["r", "starts", "ends", "axes"], ["s"], name="slice"),
        helper.make_node("Concat", ["s", "s"], ["c"], name="concat", axis=2),
        helper.make_node("Clip", ["c", "lo", "hi"], ["cl"], name="clip"),
        helper.make_node("Pad", ["cl", "pads"], ["p"], name="pad", mode="constant"),
        helper.make_node("ReduceMean", ["p"], ["m"], name="mean", axes=[1], keepdims=1),
        helper.make_node("Mul", ["r", "k"], ["mk"], name="mul"),
        helper.make_node("Squeeze", ["m", "uaxes"], ["sq"], name="squeeze"),
        helper.make_node("Unsqueeze", ["sq", "uaxes"], ["y"], name="unsqueeze"),
    ]
    return make_model(nodes, inputs={"x": (1, 4, 12)}, outputs={"y": (1, 1, 6), "mk": (1, 12, 4)},
                      initializers=inits, opset=17)


def calibration_feeds(n: int = 4) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    return [{INPUT: rng.uniform(-1, 1, SHAPE).astype(np.float32)} for _ in range(n)]


@functools.lru_cache(maxsize=None)
def pristine_artifact(target: str) -> Path:
    """The small CNN quantized under ``target``'s spec and built into an artifact (once
    per session); tests copy it before mutating."""
    import onnx

    import edgeq
    from edgeq.sdk import emit_atomically
    from edgeq.targets import get_target

    root = workdir() / "pristine"
    root.mkdir(exist_ok=True)
    model_path = root / "cnn.onnx"
    if not model_path.is_file():
        onnx.save(cnn_model(), str(model_path))
    rt = get_target(target)
    rt.require_sdk()
    qm = edgeq.quantize(edgeq.load(model_path), calibration_feeds(), spec=rt.spec)
    art = emit_atomically(rt.target, qm, root / target, rt.build_options())
    return art.path


# -- JSON documents ------------------------------------------------------------------------
_ODD_VALUES = [None, True, -1, 0, 2 ** 63, 1e308, float("nan"), float("inf"), "", "x" * 64,
               "../../etc/passwd", [], {}, [None], {"": None}]


@st.composite
def mutated_json(draw, document, max_edits: int = 3):
    """``document`` (parsed JSON) with 1..``max_edits`` edits at random paths: a value
    replaced by an odd one of another type, a key deleted or added, a list emptied or
    an element duplicated."""
    import copy

    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_edits))):
        # walk down a random path to a container
        parent, key = None, None
        node = doc
        for _depth in range(draw(st.integers(0, 6))):
            if isinstance(node, dict) and node:
                k = draw(st.sampled_from(sorted(node, key=str)))
            elif isinstance(node, list) and node:
                k = draw(st.integers(0, len(node) - 1))
            else:
                break
            parent, key, node = node, k, node[k]
        kind = draw(st.sampled_from(["replace", "delete", "add", "empty", "duplicate"]))
        if parent is None:
            if kind == "replace":
                doc = copy.deepcopy(draw(st.sampled_from(_ODD_VALUES)))
            continue
        if kind == "replace":
            parent[key] = copy.deepcopy(draw(st.sampled_from(_ODD_VALUES)))
        elif kind == "delete":
            del parent[key]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "files", "inputs", "quant", "model_file"]))] = \
                copy.deepcopy(draw(st.sampled_from(_ODD_VALUES)))
        elif kind == "empty" and isinstance(node, (list, dict)):
            node.clear()
        elif kind == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(node))
    return doc
