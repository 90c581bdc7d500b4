"""Quantization: scheme, QuantSpec, algorithms, requantization arithmetic.

``edgeq.quantize`` is both this package and the function
:func:`edgeq.quantize.api.quantize`: the package module is callable, so
``edgeq.quantize(model, calibration, ...)`` works whichever way it was imported.
"""

from __future__ import annotations

import sys
import types

_LAZY = {
    "quantize": ("edgeq.quantize.api", "quantize"),
    "QuantizedModel": ("edgeq.quantize.quantized_model", "QuantizedModel"),
    "compare": ("edgeq.quantize.compare", "compare"),
    "sensitivity": ("edgeq.quantize.api", "sensitivity"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'edgeq.quantize' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    def __call__(self, model, calibration, **options):
        from edgeq.quantize.api import quantize

        return quantize(model, calibration, **options)


sys.modules[__name__].__class__ = _CallableModule
