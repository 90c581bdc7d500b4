"""Graph passes, one per module, named ``<verb>_<noun>.py``.

Canonicalisation passes (run by :func:`edgeq.ir.pipeline.canonicalize`) expose
``run(graph) -> bool``: they rewrite the :class:`~edgeq.ir.graph.Graph` in place,
keep it valid and topologically ordered, keep the names of graph outputs, never
mutate constant arrays in place (copies share them), and return whether they changed
anything. Each module's docstring states the pattern it rewrites and when it does not.

* ``fold_constants``: constant folding (also used on ONNX protos during import)
* ``remove_identity``: Identity / inference Dropout
* ``fold_batchnorm``: BatchNormalization into Conv / ConvTranspose
* ``fold_bias``: per-channel Add/Sub into Conv / FullyConnected bias
* ``rewrite_fullyconnected``: Gemm, MatMul(+Add) with constant weights → FullyConnected
* ``recognize_layernorm``, ``recognize_gelu``, ``recognize_silu``,
  ``recognize_hardswish``, ``recognize_hardsigmoid``: decomposed forms → one op
* ``fuse_activation``: Relu / Relu6 / Clip into Conv / FullyConnected (act_min/act_max)

Layout conversion (``convert_layout``) and the lowering passes that prepare a graph
for integer kernels (``decompose_*``, ``unroll_*``, ``lower_*``) follow their own
contracts, documented in their modules.
"""
