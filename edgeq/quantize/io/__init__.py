"""Reading and writing quantized models: :mod:`.serialize` (the ``.edgeq`` format,
no pickle)."""
