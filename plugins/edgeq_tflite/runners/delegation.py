"""Which operators of a loaded LiteRT model run outside the XNNPACK delegate.

LiteRT keeps the delegated nodes in its node list and appends one ``DELEGATE`` node per
partition, whose inputs and outputs are the tensors crossing the partition boundary. A
node runs on LiteRT's builtin kernels iff it produces a tensor a partition reads, a
model output no partition writes, or an input of another such node (none of these is a
partition output).
"""

from __future__ import annotations


def ops_outside_delegate(interpreter) -> tuple[int, dict[str, int]]:
    """``(number of DELEGATE partitions, {op name: count})`` of the builtin-kernel
    operators of an allocated ``Interpreter`` (see module docstring); most frequent
    first."""
    ops = interpreter._get_ops_details()
    parts = [o for o in ops if o["op_name"] == "DELEGATE"]
    written = {t for p in parts for t in p["outputs"]}
    wanted = {t for p in parts for t in p["inputs"]}
    wanted |= {d["index"] for d in interpreter.get_output_details()} - written
    outside: dict[int, str] = {}
    changed = True
    while changed:
        changed = False
        for o in ops:
            if o["op_name"] == "DELEGATE" or o["index"] in outside:
                continue
            if any(t in wanted for t in o["outputs"]) and not any(t in written for t in o["outputs"]):
                outside[o["index"]] = o["op_name"]
                wanted |= {t for t in o["inputs"] if t >= 0}
                changed = True
    counts: dict[str, int] = {}
    for name in outside.values():
        counts[name] = counts.get(name, 0) + 1
    return len(parts), dict(sorted(counts.items(), key=lambda kv: -kv[1]))
