"""ANE placement pre-flight: which ops of a saved program are likely to leave the
Neural Engine, and why — before any Mac is involved.

Core ML decides placement when it compiles the model on the device, and Apple does
not publish the Neural Engine's op set; ``MLComputePlan`` (macOS 14.4+, the mac runner)
is the ground truth. This pass applies the public rules below to the saved program
(each row of the report names the rule; docs/targets/coreml.md cites the sources):

* ``fp32-compute``: the Neural Engine computes in fp16 (and int8 on A17 Pro / M4); an op
  whose output is fp32 or int32 (other than the I/O casts, index tensors of a
  ``gather`` and constants) runs on the CPU or GPU;
* ``gather``: gather / embedding look-ups are reported to fall back;
* ``dilated-conv``: convolutions with a dilation > 1;
* ``rnn``: ``lstm``/``gru``/``rnn`` ops (edgeq unrolls LSTMs into cell ops instead);
* ``large-dim``: a tensor dimension above 16384;
* ``rank``: tensors of rank > 5 (the Neural Engine works on at most 5-D tensors,
  ``[B, C, D, H, W]``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: rule id -> short description (the docs table lists the sources)
RULES = {
    "fp32-compute": "Neural Engine computes in fp16/int8; fp32 and int32 compute runs on CPU/GPU",
    "gather": "gather / embedding look-up is reported to fall back to the CPU",
    "dilated-conv": "dilated convolutions are reported not to run on the Neural Engine",
    "rnn": "recurrent layers (lstm, gru, rnn) do not run on the Neural Engine",
    "large-dim": "a tensor dimension above 16384 elements",
    "rank": "tensor rank above 5",
}

#: ops that move no data through an accelerator (constants, I/O casts are treated below)
_FREE = {"const", "constexpr_affine_dequantize", "constexpr_blockwise_shift_scale",
         "constexpr_lut_to_dense", "constexpr_sparse_to_dense", "classify"}
MAX_DIM = 16384
MAX_RANK = 5


def check_ops(function) -> list[dict]:
    """Rows ``{op, op_type, rule, reason}`` for the ops of a pymil Function."""
    from edgeq_coreml.verify.interpreter import numpy_dtype

    inputs = set(function.inputs)
    outputs = {v.name for v in function.outputs}
    rows = []
    for op in function.operations:
        if op.op_type in _FREE:
            continue
        hits = []
        out_dtypes = [numpy_dtype(v) for v in op.outputs]
        boundary = op.op_type == "cast" and (
            any(v.name in inputs for v in op.inputs.values() if hasattr(v, "name")) or
            any(v.name in outputs for v in op.outputs))
        if not boundary and any(d in (np.dtype(np.float32), np.dtype(np.int32)) for d in out_dtypes):
            if op.op_type != "gather" and not (op.op_type == "cast" and out_dtypes[0] == np.int32):
                hits.append(("fp32-compute", f"output dtype {', '.join(d.name for d in out_dtypes)}"))
        if op.op_type in ("gather", "gather_nd", "gather_along_axis"):
            hits.append(("gather", "gather"))
        if op.op_type == "conv":
            dil = op.inputs.get("dilations")
            if dil is not None and dil.val is not None and np.any(np.asarray(dil.val) > 1):
                hits.append(("dilated-conv", f"dilations {list(np.asarray(dil.val))}"))
        if op.op_type in ("lstm", "gru", "rnn"):
            hits.append(("rnn", op.op_type))
        for v in op.outputs:
            shape = getattr(v, "shape", None) or ()
            if len(shape) > MAX_RANK:
                hits.append(("rank", f"output rank {len(shape)}"))
            big = [int(d) for d in shape if isinstance(d, (int, np.integer)) and d > MAX_DIM]
            if big:
                hits.append(("large-dim", f"output shape {tuple(int(d) for d in shape)}"))
        for rule, detail in hits:
            rows.append({"op": op.name, "op_type": op.op_type, "rule": rule,
                         "reason": f"{RULES[rule]} ({detail})"})
    return rows


def preflight(package: Path) -> dict:
    """The pre-flight report of a saved ``.mlpackage``: ``{ops: rows, counts, total_ops}``."""
    from edgeq_coreml.verify.program import load_program

    prog = load_program(package)
    rows = check_ops(prog.function)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["rule"]] = counts.get(r["rule"], 0) + 1
    total = sum(1 for op in prog.function.operations if op.op_type not in _FREE)
    return {"ops": rows, "counts": counts, "total_ops": total,
            "likely_off_ane": len({r["op"] for r in rows}),
            "note": "estimate from public rules; MLComputePlan on macOS is the ground truth"}


def format_table(report: dict) -> str:
    """The pre-flight rows as a plain-text table for the build output."""
    rows = report.get("ops", [])
    if not rows:
        return f"ANE pre-flight: all {report.get('total_ops', 0)} ops are Neural Engine candidates"
    w = max(len(r["op"]) for r in rows)
    lines = [f"ANE pre-flight: {report['likely_off_ane']} of {report['total_ops']} ops likely leave "
             "the Neural Engine", f"{'op':<{w}}  {'type':<16} rule          reason"]
    lines += [f"{r['op']:<{w}}  {r['op_type']:<16} {r['rule']:<13} {r['reason']}" for r in rows]
    return "\n".join(lines)
