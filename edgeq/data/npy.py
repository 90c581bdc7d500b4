"""Feeds stored as numpy files.

* a ``.npz`` file is one feed: its arrays, keyed by input name;
* a ``.npy`` file is one feed of a single input named ``input_name``;
* with ``stacked=True``, each file's first axis indexes samples instead (an ``.npz`` of
  arrays with equal first dimensions, or one ``.npy``), e.g. ``calib.npy`` of shape
  ``[N, 1, 3, 224, 224]`` gives N feeds of ``[1, 3, 224, 224]``.

Files are read with ``allow_pickle=False``: object arrays are refused, never unpickled.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.data.base import Dataset, Feed, file_digest, list_files
from edgeq.errors import CalibrationError

EXTENSIONS = (".npy", ".npz")


def _read(f: Path) -> dict[str, np.ndarray] | np.ndarray:
    try:
        if f.suffix.lower() == ".npz":
            with np.load(f, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        return np.load(f, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CalibrationError(f"{f}: cannot read this numpy file ({exc}); numpy arrays of "
                               f"numbers only (object arrays are refused)") from exc


class NpyDataset(Dataset):
    kind = "npy"

    def __init__(self, path: str | Path, *, input_name: str = "input", stacked: bool = False,
                 num_samples: int | None = None, seed: int = 0):
        super().__init__(num_samples, seed)
        self.path = Path(path)
        self.input_name = input_name
        self.stacked = bool(stacked)
        self._cache: tuple[Path, Any] | None = None

    def _file(self, f: Path):
        if self._cache is None or self._cache[0] != f:
            self._cache = (f, _read(f))
        return self._cache[1]

    def _items(self) -> list[tuple[Path, int | None]]:
        files = list_files(self.path, EXTENSIONS, self.kind)
        if not self.stacked:
            return [(f, None) for f in files]
        items = []
        for f in files:
            content = self._file(f)
            arrays = content if isinstance(content, dict) else {self.input_name: content}
            lengths = {k: (a.shape[0] if a.ndim else None) for k, a in arrays.items()}
            if not arrays or None in lengths.values() or len(set(lengths.values())) != 1:
                raise CalibrationError(f"{f}: stacked=True needs arrays with one common first "
                                       f"(sample) axis, found {lengths}")
            items.extend((f, i) for i in range(next(iter(lengths.values()))))
        return items

    def _empty_hint(self) -> str:
        return "put .npy/.npz files in it"

    def _describe(self, item) -> str:
        f, i = item
        return str(f) if i is None else f"{f}[{i}]"

    def _item_digest(self, item) -> str:
        f, i = item
        if i is None:
            return file_digest(f)
        h = hashlib.sha256(file_digest(f).encode())
        h.update(str(i).encode())
        return h.hexdigest()

    def _params(self) -> dict[str, Any]:
        return {"input": self.input_name, "stacked": self.stacked}

    def _load(self, item) -> Feed:
        f, i = item
        content = self._file(f)
        arrays = content if isinstance(content, dict) else {self.input_name: content}
        if not arrays:
            raise CalibrationError(f"{f}: the .npz file holds no arrays")
        if i is None:
            return {k: np.asarray(v) for k, v in arrays.items()}
        return {k: np.ascontiguousarray(v[i]) for k, v in arrays.items()}


def npy(path: str | Path, **options) -> NpyDataset:
    """An :class:`NpyDataset` over ``.npy``/``.npz`` files (see module docstring)."""
    return NpyDataset(path, **options)
