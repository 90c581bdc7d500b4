"""Quantization arithmetic: the scheme (scales, zero points, weight and bias
quantization: :mod:`.scheme`) and TFLite's fixed-point requantization rules
(:mod:`.fixed_point`), shared by the quantizer, the integer simulator and the emitters."""
