"""AIMET-style quantization encodings for the QNN SDK's converter.

``qnn-onnx-converter --input_network model.onnx --quantization_overrides enc.json`` takes a
JSON file with ``activation_encodings`` and ``param_encodings``: tensor name -> list of
encodings (one per tensor, or one per channel for per-axis weights), each with
``bitwidth``, ``dtype`` ("int"), ``is_symmetric``, ``scale``, ``offset`` and the real
range ``min``/``max`` (AIMET's export format; QNN: ``real = scale · (q + offset)``). The
values are edgeq's: a user with the SDK converting the float model with these overrides
gets the quantization edgeq chose, not a recalibration.

Names are those of the float ONNX model (edgeq keeps the canonical graph's tensor names
through quantization); tensors the quantized graph introduced (lowerings, converters) are
listed too, under their edgeq names, so the emitted QDQ model converts one to one.
"""

from __future__ import annotations


def _entries(enc: dict) -> list[dict]:
    bits = int(enc["bitwidth"])
    out = []
    for scale, offset in zip(enc["scale"], enc["offset"]):
        # for signed storage (weights) QNN's integer range is [-2^(b-1), 2^(b-1) - 1]
        signed = enc["dtype"].startswith("int")
        qmin = -(1 << (bits - 1)) if signed else 0
        qmax = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
        out.append({"bitwidth": bits, "dtype": "int", "is_symmetric": str(offset == 0 and signed),
                    "scale": scale, "offset": offset,
                    "min": scale * (qmin + offset), "max": scale * (qmax + offset)})
    return out


def aimet_encodings(encodings: dict[str, dict], weights: set[str]) -> dict:
    """``{"activation_encodings": …, "param_encodings": …}`` from the emitter's records
    (``QdqModel.encodings``); ``weights`` names the parameters (weights and biases)."""
    act, param = {}, {}
    for name, enc in sorted(encodings.items()):
        (param if name in weights else act)[name] = _entries(enc)
    return {"version": "0.6.1", "activation_encodings": act, "param_encodings": param,
            "quantizer_args": {"activation_bitwidth": 8, "param_bitwidth": 8, "dtype": "int",
                               "per_channel_quantization": True, "quant_scheme": "post_training"}}
