"""The edgeq canonical ops: ops that exist in the IR after canonicalisation but are
not (or not exactly) ONNX default-domain ops. Everything else keeps its ONNX meaning.

* ``FullyConnected(X, W, B?)``: ``Y = X @ W.T + B`` over the last axis of ``X``
  (leading axes kept). ``W`` is ``[out, in]`` (TFLite FULLY_CONNECTED layout, see
  tensorflow/lite/kernels/fully_connected.cc). Produced from Gemm and MatMul+Add.
* ``Silu(X)``: ``X * sigmoid(X)``.
* ``Gelu(X)``: attrs ``approximate`` = "none" (erf form) or "tanh" (ONNX opset 20 Gelu).
* ``HardSigmoid``/``HardSwish``/``LayerNormalization``: ONNX semantics, also
  recognised from their decomposed forms.
* Any node may carry fused clamp attrs ``act_min``/``act_max`` (see graph.py).
"""

FULLY_CONNECTED = "FullyConnected"
SILU = "Silu"
GELU = "Gelu"

CANONICAL_OPS = frozenset({FULLY_CONNECTED, SILU, GELU})
