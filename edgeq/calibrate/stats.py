"""Streaming per-tensor statistics with bounded memory.

Calibration runs the float model once and keeps, per tensor, a :class:`TensorStats`:
exact min/max/count/zero count plus a histogram whose memory is fixed (``num_bins``
counters) however many samples stream through. Observers
(:mod:`edgeq.calibrate.observers`) then choose ranges from these statistics without
touching the data again, so one calibration serves every method and every target.

Histogram layout: bins of width ``w`` (a power of two) aligned at 0, bin ``k`` covers
``[k*w, (k+1)*w)``. When new data does not fit in ``num_bins`` bins the width doubles
and pairs of bins merge (``k -> floor(k/2)``), which is exact, so the histogram of a
stream does not depend on how the stream is batched beyond the final width. After a
doubling the occupied span covers at least half of the bins, so the resolution is
never worse than span / (num_bins / 2).
"""

from __future__ import annotations

import logging
import math

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_BINS = 4096


class TensorStats:
    """Streaming statistics of one tensor with bounded memory (see module docstring)."""

    def __init__(self, num_bins: int = DEFAULT_BINS) -> None:
        assert num_bins >= 64 and num_bins % 2 == 0
        self.num_bins = num_bins
        self.counts = np.zeros(num_bins, np.float64)
        self.log2w: int | None = None  # bin width is 2**log2w
        self.k0 = 0  # absolute index of counts[0]
        self.min = math.inf
        self.max = -math.inf
        self.count = 0
        self.zeros = 0
        self.nonfinite = 0
        self.max_sample = 1 << 18
        self._phase = 0
        self._occ: tuple[int, int] | None = None  # absolute indices of the first/last used bin

    # -- accumulation -------------------------------------------------------------
    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x)
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float32)
        x = x.ravel()
        if x.size == 0:
            return
        lo, hi = float(x.min()), float(x.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):  # NaN propagates through min/max
            finite = np.isfinite(x)
            self.nonfinite += int(x.size - np.count_nonzero(finite))
            x = x[finite]
            if x.size == 0:
                return
            lo, hi = float(x.min()), float(x.max())
        if x.size > self.max_sample:
            # large tensors: histogram a strided subsample whose phase moves from call to
            # call (the extremes stay exact); 256k values per call are plenty for a
            # histogram of a few thousand bins
            step = -(-x.size // self.max_sample)
            x = x[self._phase % step::step]
            self._phase += 1
        self._prepare(lo, hi, int(x.size), int(np.count_nonzero(x == 0)))
        inv_w = 2.0 ** -self.log2w
        # x * 2^-k is exact in float32 while the bin index fits its 24-bit mantissa
        if max(abs(lo), abs(hi)) * inv_w < 2.0 ** 22:
            idx = np.floor(x * np.float32(inv_w)).astype(np.intp)
        else:
            idx = np.floor(x.astype(np.float64) * inv_w).astype(np.intp)
        a, b = int(idx.min()), int(idx.max())
        self._occ = (a, b) if self._occ is None else (min(a, self._occ[0]), max(b, self._occ[1]))
        idx -= self.k0
        self.counts += np.bincount(idx, minlength=self.num_bins)[: self.num_bins]

    def _prepare(self, lo: float, hi: float, size: int, zeros: int) -> None:
        """The bookkeeping of :meth:`update` before the bins are counted: ``[lo, hi]`` the
        extremes of finite data, ``size`` and ``zeros`` those of the values counted."""
        self.min, self.max = min(self.min, lo), max(self.max, hi)
        self.count += size
        self.zeros += zeros
        if self.log2w is None:
            span = max(hi - lo, abs(hi), abs(lo))
            # first data fills a quarter to half of the bins, leaving room to grow
            self.log2w = math.ceil(math.log2(span / (self.num_bins // 2))) if span > 0 else -60
            self.k0 = math.floor(lo / 2.0 ** self.log2w)
        self._fit(lo, hi)

    def _occupied(self) -> tuple[int, int] | None:
        return self._occ

    def _scan_occupied(self) -> tuple[int, int] | None:
        nz = np.flatnonzero(self.counts)
        if nz.size == 0:
            return None
        return self.k0 + int(nz[0]), self.k0 + int(nz[-1])

    def _fit(self, lo: float, hi: float) -> None:
        """Widen/shift the bins so that [lo, hi] and the current content fit."""
        while True:
            w = 2.0 ** self.log2w
            a, b = math.floor(lo / w), math.floor(hi / w)
            occ = self._occupied()
            if occ is not None:
                a, b = min(a, occ[0]), max(b, occ[1])
            if b - a + 1 <= self.num_bins:
                break
            self._double()
        if a < self.k0 or b >= self.k0 + self.num_bins:
            # shift the window; put the new content in the middle when possible
            start = a - max(0, (self.num_bins - (b - a + 1)) // 2) if occ is None else a
            start = min(start, a)
            self._shift(start)

    def _double(self) -> None:
        idx = np.arange(self.num_bins) + self.k0
        new_idx = np.floor_divide(idx, 2)
        base = int(new_idx[0])
        merged = np.bincount(new_idx - base, weights=self.counts, minlength=self.num_bins)
        self.counts = merged[: self.num_bins].astype(np.float64)
        self.k0 = base
        self.log2w += 1
        if self._occ is not None:
            self._occ = (self._occ[0] // 2, self._occ[1] // 2)

    def _shift(self, new_k0: int) -> None:
        occ = self._occupied()
        new = np.zeros(self.num_bins, np.float64)
        if occ is not None:
            src = slice(occ[0] - self.k0, occ[1] - self.k0 + 1)
            dst0 = occ[0] - new_k0
            new[dst0: dst0 + (occ[1] - occ[0] + 1)] = self.counts[src]
        self.counts, self.k0 = new, new_k0

    def merge(self, other: "TensorStats") -> None:
        """Add another stream's statistics (same ``num_bins``)."""
        if other.count == 0:
            self.nonfinite += other.nonfinite
            return
        assert other.num_bins == self.num_bins
        if self.log2w is None:
            nonfinite = self.nonfinite
            self.__dict__.update(other.copy().__dict__)
            self.nonfinite += nonfinite
            return
        o = other.copy()
        while o.log2w < self.log2w:
            o._double()
        while self.log2w < o.log2w:
            self._double()
        oc = o._occupied()
        w = 2.0 ** self.log2w
        self._fit(oc[0] * w, oc[1] * w)
        lo = oc[0] - self.k0
        self.counts[lo: lo + oc[1] - oc[0] + 1] += o.counts[oc[0] - o.k0: oc[1] - o.k0 + 1]
        mine = self._occ or oc
        self._occ = (min(mine[0], oc[0]), max(mine[1], oc[1]))
        self.min, self.max = min(self.min, o.min), max(self.max, o.max)
        self.count += o.count
        self.zeros += o.zeros
        self.nonfinite += o.nonfinite

    def copy(self) -> "TensorStats":
        c = TensorStats(self.num_bins)
        c.__dict__.update({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()})
        return c

    # -- views --------------------------------------------------------------------
    @property
    def empty(self) -> bool:
        return self.count == 0

    def histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` trimmed to the occupied bins (``len(edges) = len(counts)+1``)."""
        occ = self._occupied()
        if occ is None:
            return np.zeros(0), np.zeros(1)
        w = 2.0 ** self.log2w
        counts = self.counts[occ[0] - self.k0: occ[1] - self.k0 + 1]
        edges = np.arange(occ[0], occ[1] + 2, dtype=np.float64) * w
        # the outermost edges are the exact extremes (tighter than the bin edges)
        edges[0], edges[-1] = self.min, max(self.max, self.min)
        return counts, edges

    def quantile(self, q: float) -> float:
        """Approximate ``q``-quantile (0..1), linear inside a bin."""
        counts, edges = self.histogram()
        if counts.size == 0:
            return 0.0
        cum = np.concatenate([[0.0], np.cumsum(counts)])
        target = q * cum[-1]
        i = int(np.clip(np.searchsorted(cum, target, side="right") - 1, 0, counts.size - 1))
        frac = (target - cum[i]) / counts[i] if counts[i] > 0 else 0.0
        return float(edges[i] + frac * (edges[i + 1] - edges[i]))

    # -- (de)serialisation for the calibration cache --------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        meta = np.array([self.num_bins, -10**9 if self.log2w is None else self.log2w, self.k0,
                         self.count, self.zeros, self.nonfinite], np.int64)
        return {"counts": self.counts, "meta": meta, "minmax": np.array([self.min, self.max])}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "TensorStats":
        meta = [int(v) for v in arrays["meta"]]
        s = cls(meta[0])
        s.counts = np.asarray(arrays["counts"], np.float64).copy()
        s.log2w = None if meta[1] == -10**9 else meta[1]
        s.k0, s.count, s.zeros, s.nonfinite = meta[2], meta[3], meta[4], meta[5]
        s.min, s.max = (float(v) for v in arrays["minmax"])
        s._occ = s._scan_occupied()
        return s


#: bins counted per ``np.bincount`` call of :func:`update_rows` (bounds its scratch memory)
_ROW_BLOCK_BINS = 1 << 18


def update_rows(stats: list[TensorStats], x: np.ndarray) -> None:
    """``stats[i].update(x[i])`` for every row of ``x`` ``[T, N]``, with the same result,
    in a few numpy calls for all rows: the many small tensors of an unrolled recurrence
    otherwise pay a dozen calls each per update. Rows with non-finite values, rows wider
    than the subsampling threshold and statistics with another bin count go through
    :meth:`TensorStats.update`."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] != len(stats):
        raise ValueError(f"update_rows: {x.shape} rows for {len(stats)} statistics")
    if x.shape[1] == 0:
        return
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float32)
    lo, hi = x.min(axis=1), x.max(axis=1)
    finite = np.isfinite(lo) & np.isfinite(hi)  # NaN propagates through min/max
    fast = [i for i, s in enumerate(stats)
            if finite[i] and x.shape[1] <= s.max_sample and s.num_bins == stats[0].num_bins]
    for i in sorted(set(range(len(stats))) - set(fast)):
        stats[i].update(x[i])
    if not fast:
        return
    rows = x[fast] if len(fast) < len(stats) else x
    zeros = rows.shape[1] - np.count_nonzero(rows, axis=1)
    group = [stats[i] for i in fast]
    for j, (s, i) in enumerate(zip(group, fast)):
        s._prepare(float(lo[i]), float(hi[i]), int(x.shape[1]), int(zeros[j]))
    bins = group[0].num_bins
    inv_w = np.array([2.0 ** -s.log2w for s in group])
    k0 = np.array([s.k0 for s in group], np.intp)
    # floor is monotonic: the first/last bins are those of the row extremes
    first = np.floor(lo[fast] * inv_w).astype(np.intp)
    last = np.floor(hi[fast] * inv_w).astype(np.intp)
    # x * 2^-k is exact in float32 while the bin index fits its 24-bit mantissa (as in
    # TensorStats.update), else in float64; blocks of rows keep the scratch in cache
    wide = np.maximum(np.abs(first), np.abs(last)) >= 2 ** 22
    per_block = max(1, _ROW_BLOCK_BINS // bins)
    for b0 in range(0, len(group), per_block):
        b1 = min(b0 + per_block, len(group))
        dtype = np.float64 if wide[b0:b1].any() else rows.dtype
        t = rows[b0:b1].astype(dtype, copy=False) * inv_w[b0:b1, None].astype(dtype)
        np.floor(t, out=t)
        idx = t.astype(np.intp)
        idx += ((np.arange(b1 - b0) * bins) - k0[b0:b1])[:, None]
        counts = np.bincount(idx.ravel(), minlength=(b1 - b0) * bins).reshape(b1 - b0, bins)
        for j in range(b1 - b0):
            s = group[b0 + j]
            a, b = int(first[b0 + j]), int(last[b0 + j])
            s.counts[a - s.k0: b - s.k0 + 1] += counts[j, a - s.k0: b - s.k0 + 1]  # the bins this row reached
            s._occ = (a, b) if s._occ is None else (min(a, s._occ[0]), max(b, s._occ[1]))
