"""The QNN emitter: QDQ ONNX model (qdq.py), AIMET-style encodings (encodings.py) and the
HTP context binary compiled offline by onnxruntime-qnn (context.py)."""
