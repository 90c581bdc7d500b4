"""edgeq: calibrate, quantize to integer-only arithmetic, and deploy ONNX models to
edge targets through pluggy-registered target plugins.

The app-prep workflow, in order (docs/api.md runs every step)::

    model = edgeq.load("model.onnx", input_shapes={"input": (1, 3, 224, 224)})  # -> Model
    qm = edgeq.quantize(model, "data/calib", spec=None, method="mse")          # -> QuantizedModel
    rep = edgeq.compare(model, qm, "data/eval")                                 # -> CompareReport
    layers = edgeq.sensitivity(model, "data/calib")                             # which layers to promote
    arts = edgeq.build(qm, targets=["tflite"], output_dir="build")              # -> {name: Artifact}
    result = edgeq.profile(arts["tflite"].path, data="data/eval",
                           gates=["top1_agreement>=0.98"])                      # -> ProfileResult

Every error edgeq raises on purpose is an :class:`EdgeqError` whose message names the
file, node, argument or field and says what to do. Names are imported lazily, so
``import edgeq`` stays cheap.
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
