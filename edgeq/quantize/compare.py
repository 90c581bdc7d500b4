"""``edgeq.compare(model, qmodel, data)``: how far a quantized model is from its float
reference, per output and per layer.

Per output (over all samples): SQNR in dB (``10·log10(Σ ref² / Σ (ref - q)²)``),
cosine similarity per sample (mean and min), max and mean absolute error, and by task:

* ``classification`` (a ``[1, C]`` output): top-1 agreement, top-5 agreement
  (``C >= 5``, the float top-1 class among the quantized top-5), and with ``labels``
  the top-1 accuracy of both models;
* ``probability`` (values in ``[0, 1]``, e.g. per-frame speech probabilities): mean
  absolute error and decision agreement at 0.5;
* ``embedding``: the cosine figures above.

Per layer: the SQNR of every quantized activation (the integer simulator's
intermediate, dequantized) against the lowered float graph's tensor of the same name,
over the first ``layer_samples`` samples, to find where the error comes from.

The float reference runs in onnxruntime (the float IR exported with IR names); the
quantized model runs in the integer simulator (:meth:`QuantizedModel.run`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeq.metrics import cosine, sqnr_db_from_powers

log = logging.getLogger(__name__)


#: zoo task -> comparison task
ZOO_TASKS = {"image-classification": "classification", "text-orientation": "classification",
             "sentence-embedding": "embedding", "voice-activity-detection": "probability"}


def detect_task(ref: np.ndarray) -> str:
    """``embedding`` for unit-norm vectors, ``classification`` for other ``[1, C]``
    outputs, ``probability`` for values in [0, 1], else ``embedding``."""
    if ref.ndim == 2 and ref.shape[0] == 1 and ref.shape[1] >= 2:
        if ref.shape[1] >= 16 and abs(float(np.linalg.norm(ref)) - 1.0) < 1e-3:
            return "embedding"
        return "classification"
    if ref.size > 1 and float(ref.min()) >= 0.0 and float(ref.max()) <= 1.0:
        return "probability"
    return "embedding"


class _OutputAccumulator:
    def __init__(self, name: str, task: str | None) -> None:
        self.name, self.task = name, task
        self.sig = self.noise = 0.0
        self.cos: list[float] = []
        self.max_abs = self.sum_abs = 0.0
        self.n_values = 0
        self.top1 = self.top5 = self.n = 0
        self.correct_f = self.correct_q = self.n_labels = 0
        self.decisions = self.n_decisions = 0
        self.classes = 0

    def add(self, ref: np.ndarray, out: np.ndarray, label=None) -> None:
        ref = np.asarray(ref, np.float64)
        out = np.asarray(out, np.float64).reshape(ref.shape)
        if self.task is None:
            self.task = detect_task(ref)
        err = out - ref
        self.sig += float(np.sum(ref * ref))
        self.noise += float(np.sum(err * err))
        self.cos.append(cosine(ref, out))
        self.max_abs = max(self.max_abs, float(np.max(np.abs(err))) if err.size else 0.0)
        self.sum_abs += float(np.sum(np.abs(err)))
        self.n_values += err.size
        self.n += 1
        if self.task == "classification":
            r, q = ref.reshape(-1), out.reshape(-1)
            self.classes = r.size
            self.top1 += int(np.argmax(r) == np.argmax(q))
            if r.size >= 5:
                self.top5 += int(np.argmax(r) in np.argsort(-q)[:5])
            if label is not None:
                self.n_labels += 1
                self.correct_f += int(np.argmax(r) == int(label))
                self.correct_q += int(np.argmax(q) == int(label))
        elif self.task == "probability":
            self.decisions += int(np.sum((ref >= 0.5) == (out >= 0.5)))
            self.n_decisions += ref.size

    def result(self) -> dict:
        r = {"task": self.task, "samples": self.n, "sqnr_db": sqnr_db_from_powers(self.sig, self.noise),
             "cosine_mean": float(np.mean(self.cos)) if self.cos else float("nan"),
             "cosine_min": float(np.min(self.cos)) if self.cos else float("nan"),
             "max_abs_error": self.max_abs,
             "mean_abs_error": self.sum_abs / max(self.n_values, 1)}
        if self.task == "classification":
            r["top1_agreement"] = self.top1 / max(self.n, 1)
            if self.classes >= 5:
                r["top5_agreement"] = self.top5 / max(self.n, 1)
            if self.n_labels:
                r["float_top1_accuracy"] = self.correct_f / self.n_labels
                r["quant_top1_accuracy"] = self.correct_q / self.n_labels
        elif self.task == "probability":
            r["decision_agreement"] = self.decisions / max(self.n_decisions, 1)
        return r


#: what edgeq compare compares (every figure of a CompareReport says so)
COMPARES = "integer simulator (QuantizedModel.run) vs the FP32 model in onnxruntime"


@dataclass
class CompareReport:
    outputs: dict[str, dict] = field(default_factory=dict)
    #: rows (tensor, node, op_type, dtype, sqnr_db), in graph order
    layers: list[tuple[str, str, str, str, float]] = field(default_factory=list)
    samples: int = 0
    #: the data the figures were measured on (edgeq/provenance.py), the calibration of the
    #: quantized model, and what was compared
    data: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)
    compares: str = COMPARES

    def to_dict(self) -> dict:
        return {"samples": self.samples, "data": self.data, "calibration": self.calibration,
                "compares": self.compares, "outputs": self.outputs,
                "layers": [{"tensor": t, "node": n, "op_type": o, "dtype": d, "sqnr_db": s}
                           for t, n, o, d, s in self.layers]}

    def worst_layers(self, k: int = 10):
        return sorted(self.layers, key=lambda r: r[4])[:k]


def _load(model, qmodel):
    from edgeq.quantize.inputs import as_model
    from edgeq.quantize.quantized_model import QuantizedModel

    import os

    from edgeq.errors import check_argument

    if not isinstance(qmodel, QuantizedModel):
        check_argument("compare", "qmodel", qmodel, (str, os.PathLike),
                       "a QuantizedModel from edgeq.quantize or the path of a saved .edgeq")
        qmodel = QuantizedModel.load(qmodel)
    if model is None:
        return qmodel.float_graph, qmodel
    m = as_model(model)
    return m.graph, qmodel


def compare(model: Any, qmodel: Any, data: Any, *, labels: Any = None, task: str | None = None,
            per_layer: bool = True, layer_samples: int = 4, max_samples: int | None = None,
            progress: bool = False) -> CompareReport:
    """Compare ``qmodel`` (QuantizedModel or saved path) with ``model`` (Model, path, or
    None for the float graph saved in ``qmodel``) on ``data`` (dataset or iterable of
    feed dicts). ``labels`` (one per sample) adds task accuracy."""
    from edgeq.calibrate.collect import _progress
    from edgeq.interp.ort_backend import OrtRunner

    float_graph, qm = _load(model, qmodel)
    if task is None:
        task = _zoo_task(float_graph)
    ref_runner = OrtRunner(float_graph)
    labels = None if labels is None else list(labels)
    acc = {name: _OutputAccumulator(name, task) for name in float_graph.outputs}
    layer = _LayerAccumulator(qm) if per_layer and qm.lowered_graph is not None else None
    report = CompareReport()
    feeds = list(data) if max_samples is None else [f for _, f in zip(range(max_samples), data)]
    with _progress(progress, len(feeds), "comparing") as advance:
        for i, feed in enumerate(feeds):
            ref = ref_runner.run(feed)
            out = qm.run(feed)
            for name in float_graph.outputs:
                acc[name].add(ref[name], out[name], labels[i] if labels is not None and i < len(labels) else None)
            if layer is not None and i < layer_samples:
                layer.add(feed)
            advance()
    from edgeq.provenance import calibration_record, data_record

    report.samples = len(feeds)
    report.data = data_record(data, len(feeds))
    report.calibration = calibration_record(qm)
    report.outputs = {k: v.result() for k, v in acc.items()}
    if layer is not None:
        report.layers = layer.rows()
    return report


def _zoo_task(graph) -> str | None:
    """The comparison task of a zoo model (from its ``edgeq.zoo.name`` metadata)."""
    name = (graph.metadata or {}).get("edgeq.zoo.name")
    if not name:
        return None
    try:
        from edgeq import zoo

        return ZOO_TASKS.get(zoo.info(name).task)
    except Exception:  # an unknown zoo name: fall back to detection
        return None


class _LayerAccumulator:
    """Per-tensor SQNR of the integer simulator's intermediates vs the lowered float graph."""

    def __init__(self, qm) -> None:
        from edgeq.interp.ort_backend import OrtRunner
        from edgeq.quantize.rewrites.prepare import executable

        self.qm = qm
        lowered = qm.lowered_graph
        self.pairs = []
        producers = lowered.producers()
        for f_name, q_name in qm.tensor_map.items():
            qt = qm.graph.tensors.get(q_name)
            if qt is None or qt.quant is None or qt.dtype.kind != "i" or f_name not in lowered.tensors:
                continue
            node = producers.get(f_name)
            self.pairs.append((f_name, q_name, node.name if node else "<input>",
                               node.op_type if node else "Input", qt.dtype.name))
        self.float_runner = OrtRunner(executable(lowered), outputs=[p[0] for p in self.pairs])
        self.sig = np.zeros(len(self.pairs))
        self.noise = np.zeros(len(self.pairs))

    def add(self, feed) -> None:
        ref = self.float_runner.run(feed)
        out = self.qm.run(feed, outputs=[p[1] for p in self.pairs])
        for i, (f_name, q_name, *_rest) in enumerate(self.pairs):
            qt = self.qm.graph.tensors[q_name]
            deq = qt.quant.dequantize(out[q_name]).astype(np.float64)
            r = np.asarray(ref[f_name], np.float64)
            self.sig[i] += float(np.sum(r * r))
            self.noise[i] += float(np.sum((deq - r) ** 2))

    def rows(self):
        return [(f, n, o, d, sqnr_db_from_powers(s, e)) for (f, _q, n, o, d), s, e in zip(self.pairs, self.sig, self.noise)]
