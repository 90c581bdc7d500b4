"""Run the float model over calibration data once and keep per-tensor statistics.

:func:`collect` streams every sample through the (lowered) float graph and updates a
:class:`~edgeq.calibrate.stats.TensorStats` per float activation, plus the per-channel
mean of every Conv/FullyConnected input (for bias correction) and GPTQ's patch moments.
Memory is bounded by the number of tensors and fixed buffer sizes, never by the number
of samples.

Backend: onnxruntime through :class:`edgeq.interp.ort_backend.OrtRunner` (every
activation as an output, one intra-op thread), falling back to the numpy float
interpreter when onnxruntime cannot run the graph.

Speed (the statistics cost more than the model on small graphs): activations are
buffered over samples per tensor size (:class:`~edgeq.calibrate.streaming.Batches`), so that one numpy call
histograms hundreds of small tensors (:func:`~edgeq.calibrate.stats.update_rows`) and
one matrix product takes the patch moments of many samples; onnxruntime writes the
buffered activations into staging arrays (output binding) and runs one sample ahead in
a worker thread (:func:`~edgeq.calibrate.streaming.run_ahead`), and full buffers are
processed by a second worker.
The statistics are those of one sample at a time (tests/unit/test_calibration_batching.py).

Cache: the result is stored as ``<cache>/calibration/<key>.npz`` (no pickle), ``key`` a
sha256 of the model hash, the data fingerprint (which covers the preprocessing), the
lowering version and the histogram size. Rebuilding for another method or another
target reuses it; a corrupt entry is recomputed (logged).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeq.calibrate.stats import DEFAULT_BINS, TensorStats
from edgeq.calibrate.streaming import STAGES, Batches, ChannelStats, run_ahead
from edgeq.errors import CalibrationError
from edgeq.quantize.algorithms.gptq import MIN_HESSIAN_SAMPLES, accumulate, enough_patches, patch_count

log = logging.getLogger(__name__)

STATS_VERSION = 13
#: patch-moment jobs of unbuffered inputs the statistics worker may lag behind (each
#: holds one input array)
MAX_PENDING = 8


@dataclass
class Calibration:
    """Statistics of one calibration run over a lowered graph."""

    stats: dict[str, TensorStats]
    #: input tensor of a Conv/FullyConnected -> mean per input channel
    channel_means: dict[str, np.ndarray] = field(default_factory=dict)
    #: same inputs -> min / max per input channel (cross-layer equalization)
    channel_min: dict[str, np.ndarray] = field(default_factory=dict)
    channel_max: dict[str, np.ndarray] = field(default_factory=dict)
    #: GPTQ input statistics: hessian key -> sum of patch outer products [g, K, K]
    hessians: dict[str, np.ndarray] = field(default_factory=dict)
    num_samples: int = 0
    key: str = ""
    data_fingerprint: str = ""
    seconds: float = 0.0
    cached: bool = False

    def to_arrays(self) -> dict[str, np.ndarray]:
        names = sorted(self.stats)
        means = sorted(self.channel_means)
        hess = sorted(self.hessians)
        index = {"names": names, "means": means, "hessians": hess, "num_samples": self.num_samples,
                 "data_fingerprint": self.data_fingerprint, "version": STATS_VERSION}
        out = {"index": np.frombuffer(json.dumps(index).encode(), np.uint8)}
        out.update(_pack_stats([self.stats[n] for n in names]))
        for i, n in enumerate(means):
            out[f"m{i}"] = self.channel_means[n]
            out[f"lo{i}"] = self.channel_min[n]
            out[f"hi{i}"] = self.channel_max[n]
        for i, n in enumerate(hess):
            out[f"h{i}"] = self.hessians[n].astype(np.float32)
        return out

    @classmethod
    def from_arrays(cls, arrays, key: str) -> "Calibration":
        index = json.loads(bytes(arrays["index"]).decode())
        if index.get("version") != STATS_VERSION:
            raise ValueError(f"statistics version {index.get('version')} != {STATS_VERSION}")
        stats = dict(zip(index["names"], _unpack_stats(arrays, len(index["names"]))))
        means = {n: np.asarray(arrays[f"m{i}"]) for i, n in enumerate(index["means"])}
        lo = {n: np.asarray(arrays[f"lo{i}"]) for i, n in enumerate(index["means"])}
        hi = {n: np.asarray(arrays[f"hi{i}"]) for i, n in enumerate(index["means"])}
        hess = {n: np.asarray(arrays[f"h{i}"], np.float64) for i, n in enumerate(index.get("hessians", []))}
        return cls(stats, means, lo, hi, hess, int(index["num_samples"]), key, index["data_fingerprint"],
                   cached=True)


def _pack_stats(stats: list[TensorStats]) -> dict[str, np.ndarray]:
    """All histograms in three arrays (one zip member per tensor and field costs more
    to write than the statistics themselves): per tensor its ``TensorStats.to_arrays``
    meta and extremes, and its occupied bins concatenated."""
    arrays = [s.to_arrays() for s in stats]
    spans = [s._occupied() for s in stats]
    first = [0 if occ is None else occ[0] - s.k0 for s, occ in zip(stats, spans)]
    length = [0 if occ is None else occ[1] - occ[0] + 1 for occ in spans]
    counts = [a["counts"][f: f + n] for a, f, n in zip(arrays, first, length)]
    return {"s_meta": np.array([a["meta"] for a in arrays], np.int64).reshape(len(stats), -1),
            "s_minmax": np.array([a["minmax"] for a in arrays], np.float64).reshape(len(stats), 2),
            "s_span": np.array([first, length], np.int64).reshape(2, len(stats)),
            "s_counts": np.concatenate(counts) if counts else np.zeros(0)}


def _unpack_stats(arrays, n: int) -> list[TensorStats]:
    meta, minmax, span = arrays["s_meta"], arrays["s_minmax"], arrays["s_span"]
    packed = np.asarray(arrays["s_counts"], np.float64)
    out, pos = [], 0
    for i in range(n):
        counts = np.zeros(int(meta[i][0]), np.float64)
        first, length = int(span[0][i]), int(span[1][i])
        counts[first: first + length] = packed[pos: pos + length]
        pos += length
        out.append(TensorStats.from_arrays({"counts": counts, "meta": meta[i], "minmax": minmax[i]}))
    return out


def cache_dir_for(cache_dir=None) -> Path:
    from edgeq.zoo.cache import cache_root

    return cache_root(cache_dir) / "calibration"


def cache_key(model_hash: str, data_fingerprint: str, lowering_version: int, num_bins: int) -> str:
    text = json.dumps([model_hash, data_fingerprint, lowering_version, num_bins, STATS_VERSION])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def observed_tensors(graph) -> list[str]:
    """Float activations of a graph (inputs and node outputs; not constants)."""
    names = [n for n in graph.inputs if graph.tensors[n].dtype.kind == "f" and not graph.is_constant(n)]
    for node in graph.nodes:
        names += [o for o in node.outputs if o and graph.tensors[o].dtype.kind == "f"]
    return list(dict.fromkeys(names))


#: ops whose output holds exactly the input's values (only the shape or order changes)
COPY_OPS = frozenset({"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Identity"})


def copy_aliases(graph, names: list[str]) -> dict[str, str]:
    """Tensors whose statistics equal another's (outputs of value-preserving ops, followed
    back to the first tensor): collected once, shared by both names."""
    producers = graph.producers()
    wanted = set(names)
    aliases: dict[str, str] = {}
    for name in names:
        node = producers.get(name)
        src = name
        while node is not None and node.op_type in COPY_OPS and node.inputs[0] in wanted:
            src = node.inputs[0]
            node = producers.get(src)
        if src != name:
            aliases[name] = src
    return aliases


def _mean_axes(graph, node) -> tuple[str, int] | None:
    """(input tensor, channel axis) of a Conv (NCHW, axis 1) or FullyConnected (last axis)."""
    x = node.inputs[0]
    if node.op_type == "Conv":
        return x, 1
    if node.op_type == "FullyConnected":
        return x, len(graph.tensors[x].shape) - 1
    return None


class _Runner:
    def __init__(self, graph, names: list[str], backend: str, threads: int | None) -> None:
        from edgeq.quantize.rewrites.prepare import executable

        self.graph = executable(graph)
        self.names = names
        self.ort = None
        if backend in ("auto", "ort"):
            try:
                from edgeq.interp.ort_backend import OrtRunner

                # one intra-op thread by default: calibration graphs are many small ops
                # (an unrolled LSTM, 1x1 convs on small maps) returning hundreds of
                # outputs, where onnxruntime's spinning worker pool costs more than it
                # parallelises (measured per sample, 2 cores: silero 2.2 vs 6.3 ms,
                # PP-OCR 1.3 vs 3.5 ms, MobileNetV2 14-18 vs 41 ms, MiniLM 17-38 vs 45-57 ms)
                self.ort = OrtRunner(self.graph, outputs=names, threads=threads or 1)
            except Exception as exc:  # onnxruntime cannot run it: the numpy interpreter can
                if backend == "ort":
                    raise
                log.info("calibration falls back to the float interpreter: %s", exc)

    def run(self, feed) -> dict[str, np.ndarray]:
        if self.ort is not None:
            return self.ort.run(feed)
        from edgeq.interp.float_interp import run_graph

        return run_graph(self.graph, feed, outputs=self.names)

    def runs(self, stages: list[dict[str, np.ndarray]]) -> list:
        """One run function per set of staging arrays: onnxruntime writes the staged
        outputs into them (I/O binding); without onnxruntime, plain runs."""
        if self.ort is None or self.ort.session is None:
            return [self.run] * len(stages)
        return [self.ort.bind(stage).run for stage in stages]


def _patch_dim(graph, x: str, geo: dict) -> int:
    """Patch length ``K`` of a Conv/FullyConnected input with geometry ``geo``."""
    shape = graph.tensors[x].shape
    if geo["op"] == "fc":
        return int(shape[-1])
    return int(shape[1]) // geo["group"] * geo["k"][0] * geo["k"][1]


def hessian_keys(graph) -> dict[str, tuple[str, dict]]:
    """GPTQ statistics to collect: key -> (input tensor, patch geometry)."""
    from edgeq.quantize.algorithms.gptq import geometry, hessian_key

    keys = {}
    for node in graph.nodes:
        key = hessian_key(node, graph)
        if key is not None:
            keys[key] = (node.inputs[0], geometry(node, graph))
    return keys


def collect(graph, dataset, *, model_hash: str, cache_dir=None, use_cache: bool = True,
            backend: str = "auto", threads: int | None = None, progress: bool = True,
            num_bins: int = DEFAULT_BINS, lowering_version: int | str = 0, hessians: bool = True) -> Calibration:
    """Statistics of every float activation of ``graph`` over ``dataset`` (see module doc);
    with ``hessians``, also the GPTQ input statistics of every Conv/FullyConnected."""
    fingerprint = dataset.fingerprint()
    key = cache_key(model_hash, fingerprint, lowering_version, num_bins)
    path = cache_dir_for(cache_dir) / f"{key}.npz"
    if use_cache and path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                calib = Calibration.from_arrays({k: z[k] for k in z.files}, key)
            missing = [n for n in observed_tensors(graph) if n not in calib.stats]
            missing += [k for k in hessian_keys(graph) if hessians and k not in calib.hessians]
            if not missing:
                log.info("calibration statistics from cache %s", path)
                return calib
            log.warning("cached statistics %s lack %d tensors; recollecting", path, len(missing))
        except Exception as exc:
            log.warning("ignoring corrupt calibration cache %s: %s", path, exc)
    names = observed_tensors(graph)
    aliases = copy_aliases(graph, names)
    names = [n for n in names if n not in aliases]
    hkeys = hessian_keys(graph) if hessians else {}
    with_moments = {x for x, _ in hkeys.values()}
    from edgeq.quantize.algorithms.equalize_pairs import find_pairs

    equalizable = {t for _p, _c, t, _chain in find_pairs(graph)}
    mean_inputs = {}
    for node in graph.nodes:
        found = _mean_axes(graph, node) if node.op_type in ("Conv", "FullyConnected") else None
        if not found or graph.is_constant(found[0]):
            continue
        # channel statistics serve equalization and bias correction where no patch
        # moments are collected
        if found[0] not in with_moments or found[0] in equalizable:
            mean_inputs[found[0]] = found[1]
    hsum: dict[str, np.ndarray | None] = dict.fromkeys(hkeys)
    hcount = dict.fromkeys(hkeys, 0)
    need = {k: enough_patches(_patch_dim(graph, x, geo)) for k, (x, geo) in hkeys.items()}
    # static shapes: every sample gives a layer the same number of patches
    per_sample = {k: patch_count(np.empty(graph.tensors[x].shape, np.float32), geo) for k, (x, geo) in hkeys.items()}
    fetch = list(dict.fromkeys(names + [x for x, _ in hkeys.values()] + list(mean_inputs)))
    runner = _Runner(graph, fetch, backend, threads)
    stats = {n: TensorStats(num_bins) for n in names}
    channels = {n: ChannelStats(graph.tensors[n].shape, ax) for n, ax in mean_inputs.items()}
    from edgeq.quantize.algorithms._blas import single_threaded

    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgeq-statistics")
    batches = Batches(graph, names, stats, hkeys, hsum, worker, channels)
    direct = [n for n in names if n not in batches.where]  # statistics updated per sample
    direct_channels = {n: c for n, c in channels.items() if n not in batches.where}
    # patch moments of unbuffered inputs (large feature maps) go to the same worker, at
    # most MAX_PENDING jobs behind
    pending: list = []

    def accumulate_direct(k: str, x: np.ndarray, phase: int) -> None:
        hsum[k] = accumulate(hsum[k], x, hkeys[k][1], phase)

    t0 = time.perf_counter()
    n_done = 0
    try:
        with _progress(progress, len(dataset), "calibrating") as advance, single_threaded():
            runs = runner.runs([batches.stage(i) for i in range(STAGES)])
            if runner.ort is not None and runner.ort.session is not None:
                batches.set_bound(runner.ort._session_outputs)
            for values, stage in run_ahead(runs, dataset):
                for n in direct:
                    stats[n].update(values[n])
                for n, c in direct_channels.items():
                    c.update(np.asarray(values[n]))
                wanted = set()
                for k, (x, geo) in hkeys.items():
                    if hcount[k] < need[k] or n_done < MIN_HESSIAN_SAMPLES:
                        if x in batches.where:  # buffered inputs: accumulated when the buffer is full
                            wanted.add(k)
                        else:
                            pending.append(worker.submit(accumulate_direct, k, values[x], n_done))
                        hcount[k] += per_sample[k]
                batches.add(values, wanted, n_done, stage)
                while len(pending) > MAX_PENDING:
                    pending.pop(0).result()
                n_done += 1
                advance()
            batches.finish()
            for job in pending:
                job.result()
    finally:
        worker.shutdown(wait=True, cancel_futures=True)
    if n_done == 0:
        raise CalibrationError("the calibration data set yielded no samples; give at least one")
    for alias, source in aliases.items():
        stats[alias] = stats[source]
    means = {n: (c.sum / max(c.count, 1)).astype(np.float32) for n, c in channels.items()}
    cmin = {n: c.min for n, c in channels.items()}
    cmax = {n: c.max for n, c in channels.items()}
    # the cache stores GPTQ statistics in float32 (half the bytes); fresh ones are rounded
    # the same way, so that a build gives the same bytes whether its statistics were
    # collected now or read from the cache
    hessians = {k: v.astype(np.float32).astype(np.float64) for k, v in hsum.items() if v is not None}
    calib = Calibration(stats, means, cmin, cmax, hessians, n_done,
                        key, fingerprint, time.perf_counter() - t0)
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # unique per writer (two builds in one process share the pid), renamed into
            # place whole: a reader sees the old file, the new one, or none
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp.npz")
            try:
                np.savez(tmp, **calib.to_arrays())
                tmp.replace(path)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not write the calibration cache %s: %s", path, exc)
    return calib


class _progress:
    """A rich progress bar on stderr (a no-op when disabled)."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self.enabled, self.total, self.label = enabled, total, label
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
