"""Where the bytes of a ``.tflite`` file go, and the least the schema allows.

``size_breakdown(model)`` splits a file into

* ``constant_data``: the bytes of every constant buffer (weights, biases, LUTs);
* ``scales`` / ``zero_points``: the quantization vectors, each distinct vector counted
  once (the writer shares identical vectors, see ``writer.SharedQuantizationT``);
* ``graph``: everything else (tensor and operator tables, names, shapes, metadata,
  alignment padding).

and gives ``schema_floor``: the smallest file the TFLite schema permits for the same
constants and quantization, ``constant_data`` plus one float32 scale per quantized
channel of every tensor whose scales differ, plus one int64 zero point per scale for
each distinct channel count. The runtime rejects a tensor whose ``zero_point`` vector is
shorter than its ``scale`` vector ("QuantizationParam has 1 zero_point values and 32
scale values. Must have same number.", ``interpreter_builder.cc``) or absent, so the
zero points cannot be dropped; and a per-channel int32 bias needs its own scale vector
(``input_scale * filter_scale[c]``), which XNNPACK reads.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.schema import schema


def size_breakdown(model: bytes) -> dict[str, int]:
    """Byte counts of ``model`` (a serialized TFLite flatbuffer), as described above."""
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    constant_data = sum(len(b.data) for b in m.buffers if b.data is not None)
    scales: set[bytes] = set()
    zero_points: set[bytes] = set()
    for sub in m.subgraphs:
        for t in sub.tensors:
            q = t.quantization
            if q is None or q.scale is None:
                continue
            scales.add(np.asarray(q.scale, np.float32).tobytes())
            if q.zeroPoint is not None:
                zero_points.add(np.asarray(q.zeroPoint, np.int64).tobytes())
    scale_bytes = sum(len(s) for s in scales)
    zero_point_bytes = sum(len(z) for z in zero_points)
    quant = scale_bytes + zero_point_bytes
    return {
        "total": len(model),
        "constant_data": constant_data,
        "scales": scale_bytes,
        "zero_points": zero_point_bytes,
        "graph": len(model) - constant_data - quant,
        "schema_floor": constant_data + quant,
    }
