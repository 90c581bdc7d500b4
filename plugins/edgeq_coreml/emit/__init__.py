"""Emission of edgeq graphs as Core ML ML Programs (MIL builder, then ``ct.convert``)."""
