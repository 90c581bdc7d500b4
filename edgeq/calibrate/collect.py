"""Run the float model over calibration data once and keep per-tensor statistics.

:func:`collect` streams every sample through the (lowered) float graph and updates a
:class:`~edgeq.calibrate.stats.TensorStats` per float activation, plus the per-channel
mean of every Conv/FullyConnected input (for bias correction). Memory is bounded by
the number of tensors, never by the number of samples.

Backend: onnxruntime through :class:`edgeq.interp.ort_backend.OrtRunner` (every
activation as an output), falling back to the numpy float interpreter when onnxruntime
cannot run the graph.

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
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeq.calibrate.stats import DEFAULT_BINS, TensorStats, update_rows
from edgeq.errors import CalibrationError
from edgeq.quantize.gptq import MIN_HESSIAN_SAMPLES, accumulate, enough_patches, patch_count

log = logging.getLogger(__name__)

STATS_VERSION = 13
#: samples buffered per tensor at most, and the bytes all buffers may take
#: (:class:`_Batches`)
MAX_BATCH = 64
BUFFER_BYTES = 32 << 20
#: sets of staging arrays onnxruntime writes outputs into (see :func:`_ahead`)
STAGES = 2
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
        from edgeq.quantize.lower import executable

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


class _Batches:
    """Sample buffers for float32 activations, one ``[T, capacity, size]`` array per
    tensor size. A histogram update or a patch-moment update costs a dozen numpy calls
    whatever its size, which dominates for the hundreds of ``[1, 128]`` tensors of an
    unrolled LSTM and the small feature maps of late layers; buffered over samples, a
    group is histogrammed by one :func:`update_rows` call and each GPTQ input by one
    :func:`accumulate` call. A group's capacity keeps ``capacity x size`` within one
    histogram call's exact range (``TensorStats.max_sample``, no subsampling) and all
    buffers within ``BUFFER_BYTES``; tensors that would get a capacity of 1 are not
    buffered. Memory is bounded by these constants, never by the data set.

    Full buffers are processed by ``worker`` (a one-thread executor: histograms and
    patch moments, mostly numpy and BLAS, overlap with the next samples), each group
    alternating between two buffers; the statistics and ``hsum`` are only touched by
    the worker until :meth:`finish` returns."""

    def __init__(self, graph, names: list[str], stats: dict[str, TensorStats], hkeys: dict,
                 hsum: dict, worker, channels: dict | None = None) -> None:
        # GPTQ inputs without statistics of their own (a reshape's output shares its
        # source's) are buffered too, for their patch moments
        channels = channels or {}
        wanted = list(dict.fromkeys(list(names) + [x for x, _ in hkeys.values()] + list(channels)))
        by_size: dict[int, list[str]] = {}
        for n in wanted:
            if graph.tensors[n].dtype == np.float32 and not graph.is_constant(n):
                by_size.setdefault(int(graph.tensors[n].size), []).append(n)
        max_sample = TensorStats().max_sample
        cap = {size: min(MAX_BATCH, max_sample // max(size, 1)) for size in by_size}
        total = sum(2 * 4 * size * len(group) * cap[size] for size, group in by_size.items())
        shrink = min(1.0, BUFFER_BYTES / max(total, 1))
        self.hkeys, self.hsum, self.worker = hkeys, hsum, worker
        self.groups: list[dict] = []
        self.where: dict[str, tuple[int, int]] = {}
        for size, group in sorted(by_size.items()):
            c = int(cap[size] * shrink)
            if c < 2:
                continue
            gi = len(self.groups)
            rows = [j for j, n in enumerate(group) if n in stats]
            self.groups.append({"names": group, "rows": rows if len(rows) < len(group) else slice(None),
                                "bufs": [np.empty((len(group), c, size), np.float32) for _ in range(2)],
                                "jobs": [None, None], "cur": 0, "stats": [stats[group[j]] for j in rows],
                                "fill": 0, "keys": {}})
            self.where.update({n: (gi, j) for j, n in enumerate(group)})
        for k, (x, _geo) in hkeys.items():
            if x in self.where:
                self.groups[self.where[x][0]]["keys"][k] = (x, [], [0])
        self.shapes = {n: tuple(graph.tensors[n].shape) for n in self.where}
        #: STAGES sets of one sample's outputs, ``[T, size]`` per group, that onnxruntime
        #: writes into (:meth:`stage`); ``unbound[gi]`` are the rows it does not fill
        self.stages = [[np.empty((len(g["names"]), g["bufs"][0].shape[2]), np.float32) for g in self.groups]
                       for _ in range(STAGES)]
        self.unbound: list[list[tuple[int, str]] | None] = [None] * len(self.groups)
        #: per-channel sums/min/max/counts (:class:`_ChannelStats`) of buffered tensors
        self.channels = {n: c for n, c in channels.items() if n in self.where}

    def stage(self, i: int) -> dict[str, np.ndarray]:
        """Staging arrays of set ``i`` by tensor name (views of one ``[T, size]`` per group)."""
        return {n: self.stages[i][gi][j].reshape(self.shapes[n]) for n, (gi, j) in self.where.items()}

    def set_bound(self, names) -> None:
        """The tensors onnxruntime writes into the staging arrays (the others, graph
        inputs, are copied from the run's values)."""
        names = set(names)
        self.unbound = [[(j, n) for j, n in enumerate(g["names"]) if n not in names] for g in self.groups]

    def add(self, values: dict, wanted, sample: int, stage: int | None = None) -> None:
        """Buffer one sample (index ``sample``), whose bound outputs are in staging set
        ``stage`` (None: all in ``values``); the GPTQ keys in ``wanted`` take it."""
        for gi, group in enumerate(self.groups):
            slot = group["fill"]
            if slot == 0:
                job = group["jobs"][group["cur"]]
                if job is not None:  # the worker still reads this buffer
                    job.result()
            rows = group["bufs"][group["cur"]][:, slot]
            unbound = self.unbound[gi] if stage is not None else None
            if unbound is None:
                unbound = list(enumerate(group["names"]))
            elif len(unbound) < len(group["names"]):
                rows[...] = self.stages[stage][gi]  # one copy for the whole group
            for j, n in unbound:
                rows[j] = values[n].reshape(-1)
            for k, (_x, slots, phase) in group["keys"].items():
                if k in wanted:
                    if not slots:
                        phase[0] = sample
                    slots.append(slot)
            group["fill"] = slot + 1
            if group["fill"] == group["bufs"][0].shape[1]:
                self._submit(group)

    def _submit(self, group: dict) -> None:
        fill = group["fill"]
        if not fill:
            return
        keys = [(k, x, list(slots), phase[0]) for k, (x, slots, phase) in group["keys"].items() if slots]
        for _k, (_x, slots, _p) in group["keys"].items():
            slots.clear()
        cur = group["cur"]
        group["jobs"][cur] = self.worker.submit(self._flush, group, group["bufs"][cur], fill, keys)
        group["cur"], group["fill"] = 1 - cur, 0

    def _flush(self, group: dict, buf: np.ndarray, fill: int, keys: list) -> None:
        for k, x, slots, phase in keys:
            j = self.where[x][1]
            batch = buf[j, slots].reshape((len(slots),) + self.shapes[x])
            self.hsum[k] = accumulate(self.hsum[k], batch.reshape((-1,) + batch.shape[2:]), self.hkeys[k][1],
                                      phase, samples=len(slots))
        if group["stats"]:
            update_rows(group["stats"], buf[group["rows"], :fill].reshape(len(group["stats"]), -1))
        for j, n in enumerate(group["names"]):
            if n in self.channels:
                self.channels[n].update(buf[j, :fill].reshape((fill,) + self.shapes[n]), batched=True)

    def finish(self) -> None:
        """Process the partly filled buffers and wait for the worker."""
        for group in self.groups:
            self._submit(group)
        for group in self.groups:
            for job in group["jobs"]:
                if job is not None:
                    job.result()


class _ChannelStats:
    """Per-channel sum, min, max and count of one tensor (equalization and bias
    correction without patch moments)."""

    def __init__(self, shape: tuple, axis: int) -> None:
        self.axis, channels = axis, shape[axis]
        self.sum = np.zeros(channels, np.float64)
        self.min = np.full(channels, np.inf)
        self.max = np.full(channels, -np.inf)
        self.count = 0

    def update(self, v: np.ndarray, batched: bool = False) -> None:
        """Add one sample, or with ``batched`` a ``[samples, *shape]`` stack of them."""
        ax = self.axis + int(batched)
        c = v.shape[ax]
        # [before, C, after]: reductions over axes 0 and 2 (one call per statistic)
        v = v.reshape(int(np.prod(v.shape[:ax])), c, -1)
        self.sum += v.sum(axis=(0, 2), dtype=np.float64)
        np.minimum(self.min, v.min(axis=(0, 2)), out=self.min)
        np.maximum(self.max, v.max(axis=(0, 2)), out=self.max)
        self.count += v.size // c


def _patch_dim(graph, x: str, geo: dict) -> int:
    """Patch length ``K`` of a Conv/FullyConnected input with geometry ``geo``."""
    shape = graph.tensors[x].shape
    if geo["op"] == "fc":
        return int(shape[-1])
    return int(shape[1]) // geo["group"] * geo["k"][0] * geo["k"][1]


def hessian_keys(graph) -> dict[str, tuple[str, dict]]:
    """GPTQ statistics to collect: key -> (input tensor, patch geometry)."""
    from edgeq.quantize.gptq import geometry, hessian_key

    keys = {}
    for node in graph.nodes:
        key = hessian_key(node, graph)
        if key is not None:
            keys[key] = (node.inputs[0], geometry(node, graph))
    return keys


def collect(graph, dataset, *, model_hash: str, cache_dir=None, use_cache: bool = True,
            backend: str = "auto", threads: int | None = None, progress: bool = True,
            num_bins: int = DEFAULT_BINS, lowering_version: int = 0, hessians: bool = True) -> Calibration:
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
    from edgeq.quantize.equalize import find_pairs

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
    channels = {n: _ChannelStats(graph.tensors[n].shape, ax) for n, ax in mean_inputs.items()}
    from edgeq.quantize._blas import single_threaded

    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgeq-statistics")
    batches = _Batches(graph, names, stats, hkeys, hsum, worker, channels)
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
            for values, stage in _ahead(runs, dataset):
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
    calib = Calibration(stats, means, cmin, cmax, {k: v for k, v in hsum.items() if v is not None}, n_done,
                        key, fingerprint, time.perf_counter() - t0)
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(tmp, **calib.to_arrays())
            tmp.replace(path)
        except OSError as exc:
            log.warning("could not write the calibration cache %s: %s", path, exc)
    return calib


def _ahead(runs: list, dataset):
    """``(values, i)`` for every feed of ``dataset``: ``values`` from ``runs[i](feed)``,
    ``i`` alternating over the (two) run functions, computed one sample ahead in a
    worker thread: onnxruntime releases the GIL while it runs, so the model runs on one
    core while the statistics of the previous sample are taken on the other. The
    worker starts sample ``j + 2`` only once the consumer is done with sample ``j``
    (asks for the next one), so at most two samples' values exist at a time and the two
    run functions (each with its own output arrays) never overwrite a sample in use.
    Errors raised by the data set or a run are re-raised here."""
    results: queue.Queue = queue.Queue()
    tokens = threading.Semaphore(2)  # samples computed but not yet consumed
    stop = threading.Event()

    def work() -> None:
        try:
            for i, feed in enumerate(dataset):
                while not tokens.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                k = i % len(runs)
                results.put(("value", (runs[k](feed), k)))
        except BaseException as exc:  # handed to the consuming thread
            results.put(("error", exc))
            return
        results.put(("end", None))

    worker = threading.Thread(target=work, name="edgeq-calibration", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = results.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
            tokens.release()  # the consumer is done with this sample
    finally:
        stop.set()  # a consumer that stops early releases the worker
        worker.join()


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
