"""The verifier's concat with interleave and gather with batch_dims, against hand-derived
results (MIL's definitions)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops.concat import concat
from edgeq_coreml.verify.ops.gather import gather


def test_interleaved_concat():
    a = np.array([[1, 2], [3, 4]])
    b = np.array([[10, 20], [30, 40]])
    out = concat(None, {"values": [a, b], "axis": 0, "interleave": True}, None)
    np.testing.assert_array_equal(out, [[1, 2], [10, 20], [3, 4], [30, 40]])
    out = concat(None, {"values": [a, b], "axis": -1, "interleave": True}, None)
    np.testing.assert_array_equal(out, [[1, 10, 2, 20], [3, 30, 4, 40]])


def test_gather_with_batch_dims():
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    idx = np.array([[2, 0], [1, -1]])
    out = gather(None, {"x": x, "indices": idx, "axis": 1, "batch_dims": 1}, None)
    np.testing.assert_array_equal(out, np.stack([x[0][[2, 0]], x[1][[1, 2]]]))
    assert out.shape == (2, 2, 4)
