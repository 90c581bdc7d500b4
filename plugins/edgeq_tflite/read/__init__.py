"""Reading a TFLite artifact back: the flatbuffer verifier and the model summary."""
