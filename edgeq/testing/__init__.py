"""Test support shared by the core's tests and every target plugin's tests.

* :mod:`edgeq.testing.qgraph` — :class:`QGraph`, a builder of hand-made quantized graphs
  (the quantized-graph contract of docs/quantization.md), and a small min/max quantizer
  for test graphs;
* :mod:`edgeq.testing.float_models` — small float graphs (a CNN with MobileNet blocks, a
  transformer encoder block);
* :mod:`edgeq.testing.cases` — the conformance cases, one quantized graph per op;
* :mod:`edgeq.testing.conformance` — runs a case in the float interpreter, the integer
  simulator and an installed target, and compares them.
"""
