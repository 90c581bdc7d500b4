"""Feeds given directly as Python objects: any iterable of ``{input name: array}`` dicts.

A sequence (list, tuple, anything with ``__len__`` and ``__getitem__``) is read lazily,
item by item; any other iterable (a generator, a one-shot iterator) is read once into
memory, because calibration walks the data more than once and the fingerprint needs
every sample. Values are converted with ``np.asarray``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Iterable

import numpy as np

from edgeq.data.base import Dataset, Feed
from edgeq.errors import CalibrationError


class IterableDataset(Dataset):
    kind = "iterable"

    def __init__(self, samples: Iterable[Mapping[str, Any]], *, num_samples: int | None = None,
                 seed: int = 0, name: str = "samples"):
        super().__init__(num_samples, seed)
        if isinstance(samples, Dataset):
            samples = list(samples)
        elif not (isinstance(samples, Sequence) or
                  (hasattr(samples, "__len__") and hasattr(samples, "__getitem__"))):
            try:
                samples = list(samples)
            except TypeError:
                raise CalibrationError(f"{name}: expected an iterable of feed dicts, got "
                                       f"{type(samples).__name__}") from None
        self._samples = samples
        self.name = name

    def _items(self) -> list[int]:
        return list(range(len(self._samples)))

    def _empty_hint(self) -> str:
        return "the iterable yielded no feed dicts"

    def _where(self) -> str:
        return self.name

    def _describe(self, item: int) -> str:
        return f"{self.name}[{item}]"

    def _params(self) -> dict[str, Any]:
        return {}

    def _item_digest(self, item: int) -> str:
        h = hashlib.sha256()
        for key, arr in sorted(self.sample(item).items()):
            h.update(f"{key}:{arr.dtype.str}:{arr.shape}".encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()

    def _load(self, item: int) -> Feed:
        sample = self._samples[item]
        if not isinstance(sample, Mapping):
            raise CalibrationError(f"{self._describe(item)} is a {type(sample).__name__}; each "
                                   f"sample must be a dict of input name -> array")
        feed = {}
        for key, value in sample.items():
            try:
                arr = np.asarray(value)
            except (TypeError, ValueError) as exc:
                raise CalibrationError(f"{self._describe(item)}: input {key!r} is not an array "
                                       f"({exc})") from exc
            if arr.dtype == object:
                raise CalibrationError(f"{self._describe(item)}: input {key!r} is not numeric "
                                       f"(object array)")
            feed[str(key)] = arr
        return feed


def from_iterable(samples: Iterable[Mapping[str, Any]], **options) -> IterableDataset:
    """An :class:`IterableDataset` over ``samples`` (see module docstring)."""
    return IterableDataset(samples, **options)
