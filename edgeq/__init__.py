"""edgeq: calibrate, quantize to integer-only arithmetic, and deploy ONNX models to
edge targets through pluggy-registered target plugins.

Public API (imported lazily so ``import edgeq`` stays cheap)::

    edgeq.load(path, input_shapes=None) -> Model
    edgeq.quantize(model, calibration, **options) -> QuantizedModel
    edgeq.build(...), edgeq.profile(...), edgeq.compare(...), edgeq.sensitivity(...)
"""

from __future__ import annotations

__version__ = "0.1.0"

from edgeq.errors import EdgeqError  # noqa: E402

_LAZY = {
    "load": ("edgeq.model", "load"),
    "Model": ("edgeq.model", "Model"),
    "quantize": ("edgeq.quantize.api", "quantize"),
    "QuantizedModel": ("edgeq.quantize.quantized_model", "QuantizedModel"),
    "compare": ("edgeq.quantize.compare", "compare"),
    "sensitivity": ("edgeq.quantize.api", "sensitivity"),
    "build": ("edgeq.build", "build"),
    "profile": ("edgeq.profile.api", "profile"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'edgeq' has no attribute {name!r}")


__all__ = ["EdgeqError", "__version__", *_LAZY]
