"""classify(probabilities, classes): the classifier outputs the converter appends for
``ClassifierConfig`` — the top class label and the label -> probability mapping."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("classify")
def classify(op, inputs, ctx):
    probs = np.asarray(inputs["probabilities"], np.float64).reshape(-1)
    classes = list(inputs["classes"])
    best = int(np.argmax(probs))
    return [np.asarray(classes[best], dtype=object), {c: float(p) for c, p in zip(classes, probs)}]
