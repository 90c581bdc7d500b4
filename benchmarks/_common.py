"""Helpers shared by the benchmark scripts (imported as ``_common``: a script's own folder
is first on ``sys.path``)."""

from __future__ import annotations

from collections.abc import Sequence


class Cycled(Sequence):
    """The first ``n`` samples of ``dataset``, cycling it when it is shorter, read lazily
    (one sample at a time, as a directory of files is). With ``noise``, repeats get
    Gaussian noise of that standard deviation (seeded by the index) on float inputs, so
    that every sample differs."""

    def __init__(self, dataset, n: int, noise: float = 0.0) -> None:
        self.dataset, self.n, self.noise = dataset, n, noise

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if not 0 <= i < self.n:
            raise IndexError(i)
        feed = self.dataset[i % len(self.dataset)]
        if not self.noise or i < len(self.dataset):
            return feed
        import numpy as np

        rng = np.random.default_rng(i)
        return {k: (v + rng.normal(0, self.noise, v.shape).astype(v.dtype)) if v.dtype.kind == "f" else v
                for k, v in feed.items()}


def proc_status_mb(key: str) -> float:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM`` …) in MB (Linux; NaN
    elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return float("nan")
