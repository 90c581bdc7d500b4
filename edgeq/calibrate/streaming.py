"""Sample buffers and the worker threads of calibration (:func:`edgeq.calibrate.collect.collect`).

* :class:`Batches`: activations buffered over samples per tensor size, processed per
  full buffer by a statistics worker (histograms with one
  :func:`~edgeq.calibrate.stats.update_rows` call per group, GPTQ patch moments with one
  :func:`~edgeq.quantize.algorithms.gptq.accumulate` call per input, per-channel statistics);
* :class:`ChannelStats`: per-channel sum/min/max of a Conv/FullyConnected input;
* :func:`run_ahead`: the model run one sample ahead in a worker thread.

The results equal those of one sample at a time (histograms up to the bin width a
stream reaches, see :mod:`edgeq.calibrate.stats`); memory is bounded by the constants
below, never by the number of samples.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

from edgeq.calibrate.stats import TensorStats, update_rows
from edgeq.quantize.algorithms.gptq import accumulate

#: samples buffered per tensor at most, and the bytes all buffers may take (:class:`Batches`)
MAX_BATCH = 64
BUFFER_BYTES = 32 << 20
#: sets of staging arrays onnxruntime writes outputs into (see :func:`run_ahead`)
STAGES = 2


class Batches:
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
        #: per-channel sums/min/max/counts (:class:`ChannelStats`) of buffered tensors
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


class ChannelStats:
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
        # [C, everything else] (one copy): reductions along a contiguous last axis are
        # ~10x faster than numpy's over axes (0, 2) of [before, C, after]
        v = np.moveaxis(v.reshape(int(np.prod(v.shape[:ax])), c, -1), 1, 0).reshape(c, -1)
        self.sum += v.sum(axis=1, dtype=np.float64)
        np.minimum(self.min, v.min(axis=1), out=self.min)
        np.maximum(self.max, v.max(axis=1), out=self.max)
        self.count += v.size // c


def run_ahead(runs: list, dataset):
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
