"""Interpret a loaded ML Program in numpy, op by op (kernels in ``ops/``).

Contract: ``run_program(prog, feeds)`` takes feeds by model input name (the Core ML
names; an ImageType input takes its pixel values as an NCHW float array in 0..255),
casts each to the dtype the program declares for the input, runs every operation of
``main`` in order and returns the model outputs by name as numpy arrays (in the
program's output dtype, usually float32).

Numerics (docs/targets/coreml.md, "Verification"): each kernel computes in float32 (fp64
where a reduction would otherwise depend on summation order) and its result is stored
in the dtype the program declares for that output — ``np.float16`` for fp16 ops, so
every intermediate is rounded to fp16 as Core ML's fp16 path stores it. ``quantize``
rounds half to even (``np.around``), as coremltools' own value inference of the op does.
"""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from edgeq.sdk import UnsupportedOpError, UsageError

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.program import LoadedProgram

logger = logging.getLogger(__name__)


def numpy_dtype(var) -> np.dtype:
    """The numpy dtype of a MIL Var (its tensor element type)."""
    from coremltools.converters.mil.mil import types

    dt = var.dtype
    if types.is_tensor(var.sym_type):
        dt = var.sym_type.get_primitive()
    name = types.builtin_to_string(dt)
    return np.dtype({"fp16": np.float16, "fp32": np.float32, "fp64": np.float64, "bool": np.bool_,
                     "str": object, "string": object}.get(name, name))


class _Ctx:
    def __init__(self) -> None:
        self.env: dict[str, np.ndarray] = {}
        self.dtypes: dict[str, np.dtype] = {}

    def resolve(self, var):
        if isinstance(var, (list, tuple)):
            return [self.resolve(v) for v in var]
        if var.name in self.env:
            return self.env[var.name]
        if var.val is not None:
            val = var.val
            return np.asarray(val) if not isinstance(val, str) else val
        raise KeyError(f"value '{var.name}' is used before it is computed")


def run_program(prog: LoadedProgram, feeds: Mapping[str, np.ndarray], *,
                keep: bool = False) -> dict[str, np.ndarray]:
    """Run ``prog`` on ``feeds`` (see the module docstring). With ``keep=True`` the
    result also holds every intermediate value by MIL name (for debugging/tests)."""
    fn = prog.function
    ctx = _Ctx()
    for name, var in fn.inputs.items():
        if name not in feeds:
            raise UsageError(f"missing input '{name}'; the program's inputs are {list(fn.inputs)}")
        ctx.env[name] = np.asarray(feeds[name]).astype(numpy_dtype(var))
    for op in fn.operations:
        if op.op_type == "const":
            continue
        kernel = OPS.lookup(op)
        inputs = {k: ctx.resolve(v) for k, v in op.inputs.items()}
        try:
            results = kernel(op, inputs, ctx)
        except UnsupportedOpError:
            raise
        except Exception as exc:
            raise UnsupportedOpError(f"program op '{op.name}' ({op.op_type}): the numpy kernel "
                                     f"failed: {type(exc).__name__}: {exc}", op_type=op.op_type,
                                     nodes=[op.name]) from exc
        if not isinstance(results, (list, tuple)):
            results = [results]
        for var, value in zip(op.outputs, results):
            if isinstance(value, dict):  # a classifier's label -> probability output
                ctx.env[var.name] = value
                continue
            dt = numpy_dtype(var)
            ctx.env[var.name] = np.asarray(value).astype(dt, copy=False) if dt != object else value
    out = {}
    for var in fn.outputs:
        out[var.name] = ctx.env[var.name] if var.name in ctx.env else np.asarray(var.val)
    if keep:
        out.update({f"@{k}": v for k, v in ctx.env.items()})
    return out
