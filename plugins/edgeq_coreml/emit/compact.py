"""Compaction of a saved ML Program's spec: identical constants stored once, internal
value names shortened.

Why: in a W8A8 program every int8 tensor is a quantize/dequantize pair with its own
scale, zero point and dtype constants, and the converter names values after the ops
(``dequantize_612_scale_0_to_fp16``). An unrolled LSTM has ~600 such pairs: in silero
VAD the program text (``model.mlmodel``) was 2.7x the int8 weights, a third of it names
(docs/targets/coreml.md, "Size"). Neither change alters what the program computes:

* const ops with the same output type and the same value are merged (later uses are
  renamed to the first), as coremltools' ``const_deduplication`` does for large
  constants, here for every size;
* every value that is not a function input or output is renamed to a short base-36
  name, and each op's ``name`` attribute follows its first output.

The function's inputs and outputs keep their names, so the model's interface is
unchanged; the verifier interprets the compacted program.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _short(i: int) -> str:
    out = ""
    while True:
        i, r = divmod(i, 36)
        out = _DIGITS[r] + out
        if i == 0:
            return "_" + out


def compact_spec(spec) -> dict[str, int]:
    """Compact ``spec`` (a Model proto with an mlProgram) in place; return counts."""
    before = spec.ByteSize()
    merged = renamed = 0
    for fn in spec.mlProgram.functions.values():
        keep = {i.name for i in fn.inputs}
        for blk in fn.block_specializations.values():
            keep |= set(blk.outputs)
            rename: dict[str, str] = {}
            seen: dict[bytes, str] = {}
            ops = list(blk.operations)
            kept_ops = []
            for op in ops:
                _apply(op, rename)
                if op.type == "const" and len(op.outputs) == 1 and op.outputs[0].name not in keep:
                    key = op.outputs[0].type.SerializeToString() + b"|" + \
                        op.attributes["val"].SerializeToString()
                    first = seen.get(key)
                    if first is not None:
                        rename[op.outputs[0].name] = first
                        merged += 1
                        continue
                    seen[key] = op.outputs[0].name
                kept_ops.append(op)
            del blk.operations[:]
            blk.operations.extend(kept_ops)
            # second walk: short names for every internal value
            short: dict[str, str] = {}
            for op in blk.operations:
                for out in op.outputs:
                    if out.name not in keep:
                        short[out.name] = _short(len(short))
            for op in blk.operations:
                _apply(op, short)
                for out in op.outputs:
                    if out.name in short:
                        out.name = short[out.name]
                        renamed += 1
                if "name" in op.attributes and op.outputs:
                    op.attributes["name"].immediateValue.tensor.strings.values[:] = [op.outputs[0].name]
            blk.outputs[:] = [short.get(n, n) for n in blk.outputs]
    after = spec.ByteSize()
    logger.info("program compacted: %d duplicate constants merged, %d values renamed, %d -> %d bytes",
                merged, renamed, before, after)
    return {"merged_constants": merged, "renamed_values": renamed, "bytes_before": before,
            "bytes_after": after}


def _apply(op, rename: dict[str, str]) -> None:
    """Rename the values ``op`` reads (nested blocks included)."""
    if not rename:
        return
    for arg in op.inputs.values():
        for b in arg.arguments:
            if b.WhichOneof("binding") == "name" and b.name in rename:
                b.name = rename[b.name]
    for blk in op.blocks:
        for inner in blk.operations:
            _apply(inner, rename)
        blk.outputs[:] = [rename.get(n, n) for n in blk.outputs]
