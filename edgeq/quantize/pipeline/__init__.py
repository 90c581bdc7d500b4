"""Orchestration of one quantization: :mod:`.builder` (the Builder that holds the
lowered graph, calibration and options, and rebuilds the quantized graph for a set of
int16 nodes), :mod:`.graph_builder` (precision assignment and the QuantizedGraph
itself), :mod:`.ranges` (range choice from calibration statistics) and
:mod:`.fakequant` (fake-quantized float runs for the mixed-precision search)."""
