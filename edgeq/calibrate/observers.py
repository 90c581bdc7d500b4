"""Range observers: choose a quantization range from a tensor's streaming statistics.

Every observer implements ``choose_range(stats, *, levels, symmetric) -> (lo, hi)``
over a :class:`~edgeq.calibrate.stats.TensorStats` (the data is never revisited, so
one calibration serves every method and every target). ``levels`` is the number of
quantization steps (``qmax - qmin``: 255 for asymmetric int8, 65534 for symmetric
int16, 254 for symmetric int8 weights). The returned range always contains 0 (zero
must be exactly representable) and is ``(-t, t)`` when ``symmetric``.

* ``minmax``: the observed extremes.
* ``percentile`` (``percentile=99.99``): the p-th and (100-p)-th percentiles.
* ``mse``: the range minimising the expected squared quantization error: rounding noise
  ``s²/12`` per in-range non-zero value (zero is exact by construction) plus the
  clipping error of the tails (Banner et al. 2019, *Post-training 4-bit quantization*;
  AIMET's TF-enhanced search). Each candidate costs O(1) with prefix sums over the
  histogram; asymmetric ranges search a grid of (lo, hi) shrink factors.
* ``entropy``: the range minimising KL(P‖Q) between the clipped histogram and its
  ``levels+1``-bin quantized version (TensorRT entropy calibration, Migacz 2017,
  *8-bit inference with TensorRT*); candidates shrink ``[min, max]`` uniformly.

Plugins add observers with the ``register_observers`` hook (``{name: class}``).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from edgeq.calibrate.stats import TensorStats
from edgeq.errors import ConfigError

log = logging.getLogger(__name__)


class Observer(ABC):
    """Chooses a real-valued range ``(lo, hi)`` with ``lo <= 0 <= hi`` for one tensor."""

    name: ClassVar[str] = ""

    def __init__(self, **options) -> None:
        if options:
            raise ConfigError(f"observer '{self.name}' takes no options, got {sorted(options)}")

    @abstractmethod
    def _range(self, stats: TensorStats, levels: int, symmetric: bool) -> tuple[float, float]:
        ...

    def choose_range(self, stats: TensorStats, *, levels: int = 255,
                     symmetric: bool = False) -> tuple[float, float]:
        if stats.empty:
            return 0.0, 0.0
        lo, hi = self._range(stats, levels, symmetric)
        lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
        if symmetric:
            t = max(-lo, hi)
            return -t, t
        return lo, hi

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MinMaxObserver(Observer):
    name = "minmax"

    def _range(self, stats, levels, symmetric):
        return stats.min, stats.max


class PercentileObserver(Observer):
    name = "percentile"

    def __init__(self, percentile: float = 99.99) -> None:
        if not 50.0 < float(percentile) <= 100.0:
            raise ConfigError(f"observer 'percentile': percentile must be in (50, 100], got {percentile}")
        self.percentile = float(percentile)

    def _range(self, stats, levels, symmetric):
        q = self.percentile / 100.0
        lo = stats.quantile(1.0 - q) if stats.min < 0 else stats.min
        hi = stats.quantile(q) if stats.max > 0 else stats.max
        return lo, hi

    def __repr__(self) -> str:
        return f"PercentileObserver(percentile={self.percentile})"


def _prefix_sums(stats: TensorStats):
    counts, edges = stats.histogram()
    centers = 0.5 * (edges[:-1] + edges[1:])
    # the three running sums with a leading 0, written in place (one array, no
    # concatenation: hundreds of tensors per build)
    sums = np.empty((3, counts.size + 1))
    sums[:, 0] = 0.0
    np.cumsum(counts, out=sums[0, 1:])
    moment = counts * centers
    np.cumsum(moment, out=sums[1, 1:])
    moment *= centers
    np.cumsum(moment, out=sums[2, 1:])
    return centers, sums[0], sums[1], sums[2]


class MseObserver(Observer):
    name = "mse"

    def __init__(self, grid: int = 80) -> None:
        if int(grid) < 2:
            raise ConfigError(f"observer 'mse': grid must be >= 2, got {grid}")
        self.grid = int(grid)
        self._frac = np.geomspace(0.02, 1.0, self.grid)

    def _range(self, stats, levels, symmetric):
        centers, c0, c1, c2 = _prefix_sums(stats)
        if centers.size == 0:
            return stats.min, stats.max
        frac = self._frac
        if symmetric:
            t = max(-stats.min, stats.max) * frac
            err = self._errors(centers, c0, c1, c2, -t, t, 2.0 * t / levels, stats.zeros)
            best = t[int(np.argmin(err))]
            return -best, best
        # the (lo, hi) grid: bin positions are searched per candidate bound (2 x grid
        # lookups), the errors are combined over the grid by broadcasting
        lo = min(stats.min, 0.0) * frac
        hi = max(stats.max, 0.0) * frac
        err = self._errors(centers, c0, c1, c2, lo[:, None], hi[None, :], (hi[None, :] - lo[:, None]) / levels,
                           stats.zeros)
        i, j = np.unravel_index(int(np.argmin(err)), err.shape)
        return float(lo[i]), float(hi[j])

    @staticmethod
    def _errors(centers, c0, c1, c2, a, b, s, zeros):
        """Expected total squared error for each candidate range ``[a, b]``, step ``s``
        (``a`` and ``b`` broadcast against each other)."""
        j = np.searchsorted(centers, a, side="left")  # bins [0, j) lie below a
        k = np.searchsorted(centers, b, side="right")  # bins [k, n) lie above b
        below = a * a * c0[j] - 2 * a * c1[j] + c2[j]
        above = (c2[-1] - c2[k]) - 2 * b * (c1[-1] - c1[k]) + b * b * (c0[-1] - c0[k])
        # below + above + max(c0[k] - c0[j] - zeros, 0) * s * s / 12, the grid-sized terms
        # evaluated in place in that order
        inside = c0[k] - c0[j]
        inside -= zeros
        np.maximum(inside, 0.0, out=inside)
        inside *= s
        inside *= s
        inside /= 12.0
        total = below + above
        total += inside
        return total


class EntropyObserver(Observer):
    name = "entropy"

    def __init__(self, candidates: int = 96) -> None:
        self.candidates = int(candidates)

    def _range(self, stats, levels, symmetric):
        counts, edges = stats.histogram()
        if counts.size <= levels + 1:
            return stats.min, stats.max
        centers = 0.5 * (edges[:-1] + edges[1:])
        lo0, hi0 = min(stats.min, 0.0), max(stats.max, 0.0)
        if symmetric:
            lo0 = hi0 = max(-lo0, hi0)
            lo0 = -lo0
        # a candidate must keep at least levels+1 histogram bins inside it
        min_frac = min(1.0, (levels + 1) / counts.size)
        best, best_kl = (lo0, hi0), np.inf
        for f in np.linspace(min_frac, 1.0, self.candidates):
            a, b = lo0 * f, hi0 * f
            kl = self._kl(counts, centers, a, b, levels)
            if kl < best_kl:
                best, best_kl = (a, b), kl
        return best

    @staticmethod
    def _kl(counts, centers, a, b, levels) -> float:
        inside = (centers >= a) & (centers <= b)
        if inside.sum() <= levels:
            return np.inf
        p_in = counts[inside]
        ref = p_in.copy()
        ref[0] += counts[centers < a].sum()  # outliers are clipped onto the edge bins
        ref[-1] += counts[centers > b].sum()
        step = (b - a) / levels if b > a else 1.0
        group = np.clip(np.floor((centers[inside] - a) / step + 0.5).astype(np.int64), 0, levels)
        mass = np.bincount(group, weights=p_in, minlength=levels + 1)
        nonzero = np.bincount(group, weights=(p_in > 0).astype(np.float64), minlength=levels + 1)
        q = np.where(p_in > 0, mass[group] / np.maximum(nonzero[group], 1.0), 0.0)
        p = ref / ref.sum()
        q_sum = q.sum()
        if q_sum <= 0:
            return np.inf
        q = q / q_sum
        mask = p > 0
        # a bin with reference mass but no quantized mass gets a small epsilon (TensorRT's smoothing)
        q_m = np.maximum(q[mask], 1e-12)
        return float(np.sum(p[mask] * np.log(p[mask] / q_m)))


OBSERVERS: dict[str, type[Observer]] = {
    cls.name: cls for cls in (MinMaxObserver, PercentileObserver, MseObserver, EntropyObserver)
}


def available_observers() -> dict[str, type[Observer]]:
    """Built-in observers plus those registered by plugins (``register_observers``)."""
    result = dict(OBSERVERS)
    try:
        from edgeq.plugins import get_plugin_manager

        for extra in get_plugin_manager().hook.register_observers():
            for name, cls in (extra or {}).items():
                if name in result and result[name] is not cls:
                    raise ConfigError(f"observer '{name}' is registered twice (by a plugin and "
                                      f"{result[name].__module__}); rename one of them")
                result[name] = cls
    except ConfigError:
        raise
    except Exception as exc:  # a broken plugin must not hide the built-in observers
        log.warning("could not load plugin observers: %s", exc)
    return result


def get_observer(name: str | Observer, **options) -> Observer:
    """An observer instance by name (``minmax``, ``percentile``, ``mse``, ``entropy``…)."""
    if isinstance(name, Observer):
        return name
    key = str(getattr(name, "value", name)).lower()
    registry = OBSERVERS if key in OBSERVERS else available_observers()
    if key not in registry:
        raise ConfigError(f"unknown calibration method '{name}'; choose one of "
                          f"{', '.join(sorted(registry))}")
    try:
        return registry[key](**options)
    except TypeError as exc:
        raise ConfigError(f"observer '{key}': bad options {options}: {exc}") from exc
