"""The dataset contract shared by every ``edgeq.data`` source.

A :class:`Dataset` is an iterable of *feed dicts* (``{input name: np.ndarray}``, ready to
run) with ``__len__``. It is built from a deterministic list of items (files, windows,
lines ...); ``num_samples`` and ``seed`` pick a subset of them: the first
``num_samples`` of a seeded permutation, kept in item order, so a smaller sample of the
same seed is a subset of a larger one.

Guarantees, each violation being a :class:`~edgeq.errors.CalibrationError` that names
the file/sample, what was found and what to do:

* no empty data sets;
* every sample is a dict of numpy arrays with the same names, shapes and dtypes as the
  first one, and float values are finite (no NaN/Inf);
* :meth:`Dataset.validate` checks names, shapes and dtypes against a model's inputs.

:meth:`Dataset.fingerprint` is a sha256 over the preprocessing parameters and the
content of every selected item, stable across runs and machines (calibration
statistics are cached under it).
"""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from typing import Any, Iterator, Sequence

import numpy as np

from edgeq.errors import CalibrationError, EdgeqError

logger = logging.getLogger(__name__)

Feed = dict[str, np.ndarray]


def select(n_items: int, num_samples: int | None, seed: int) -> list[int]:
    """Indices of the selected items: the first ``num_samples`` of a seeded permutation,
    sorted. ``None`` (or more than available, with a warning) selects all."""
    if num_samples is None or num_samples >= n_items:
        if num_samples is not None and num_samples > n_items:
            logger.warning("asked for %d samples, the data set has %d; using all of them",
                           num_samples, n_items)
        return list(range(n_items))
    if num_samples <= 0:
        raise CalibrationError(f"num_samples must be positive, got {num_samples}")
    perm = np.random.default_rng(seed).permutation(n_items)
    return sorted(int(i) for i in perm[:num_samples])


def graph_inputs(model: Any) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """``{name: (shape, dtype)}`` of the runtime inputs of a Graph (or an object with
    ``.graph``); constant-initialised inputs are not fed."""
    graph = getattr(model, "graph", model)
    result = {}
    for name in graph.inputs:
        t = graph.tensors[name]
        if t.data is None:
            result[name] = (tuple(t.shape), np.dtype(t.dtype))
    return result


class Dataset(ABC):
    """Base class: subclasses list items and load one item into a feed dict."""

    #: dataset kind, as used in edgeq.yaml (``images``, ``audio`` ...)
    kind: str = "dataset"

    def __init__(self, num_samples: int | None = None, seed: int = 0):
        self.num_samples = num_samples
        self.seed = int(seed)
        self._selected: list[Any] | None = None
        self._fingerprint: str | None = None
        self._signature: dict[str, tuple[tuple[int, ...], np.dtype]] | None = None

    # -- subclass interface ------------------------------------------------------------
    @abstractmethod
    def _items(self) -> Sequence[Any]:
        """All candidate items, in a deterministic order (may raise CalibrationError)."""

    @abstractmethod
    def _load(self, item: Any) -> Feed:
        """The feed dict of one item (raise CalibrationError naming the item on failure)."""

    @abstractmethod
    def _describe(self, item: Any) -> str:
        """A human name for ``item`` used in error messages (a file path, 'line 12' ...)."""

    @abstractmethod
    def _params(self) -> dict[str, Any]:
        """The preprocessing parameters that shape the feeds (JSON-able)."""

    @abstractmethod
    def _item_digest(self, item: Any) -> str:
        """A content hash of ``item`` (file bytes, text ...)."""

    def _empty_hint(self) -> str:
        return "add samples"

    # -- public API --------------------------------------------------------------------
    @property
    def items(self) -> list[Any]:
        """The selected items (after ``num_samples`` / ``seed``)."""
        if self._selected is None:
            every = list(self._items())
            if not every:
                raise CalibrationError(f"{self.kind} data set {self._where()} is empty: "
                                       f"{self._empty_hint()}")
            self._selected = [every[i] for i in select(len(every), self.num_samples, self.seed)]
        return self._selected

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Feed]:
        for item in self.items:
            yield self.sample(item)

    def __getitem__(self, index: int) -> Feed:
        return self.sample(self.items[index])

    def sample(self, item: Any) -> Feed:
        """Load and check one item (shapes consistent with the first, values finite).

        Whatever a reader library raises on a bad file (pillow, numpy, the WAV parser,
        tokenizers) becomes a CalibrationError naming the item: a data error, never a
        crash of edgeq.
        """
        try:
            feed = self._load(item)
        except EdgeqError:
            raise
        except Exception as exc:
            raise CalibrationError(f"{self._describe(item)}: cannot read this {self.kind} sample "
                                   f"({type(exc).__name__}: {exc}); remove or replace the file") from exc
        self._check(feed, item)
        return feed

    @property
    def input_names(self) -> list[str]:
        return list(self.sample(self.items[0]))

    def fingerprint(self) -> str:
        """Stable sha256 of the preprocessing parameters and the selected items' content."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            h.update(json.dumps({"kind": self.kind, "params": self._params()},
                                sort_keys=True, default=str).encode())
            for item in self.items:
                h.update(self._item_digest(item).encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def validate(self, model: Any, full: bool = False) -> None:
        """Check the feeds against ``model``'s inputs (a Graph or an object with ``.graph``).

        Checks the first sample, or every sample with ``full=True`` (which also finds
        NaN/Inf and unreadable files anywhere in the set). Raises CalibrationError.
        """
        expected = graph_inputs(model)
        for item in (self.items if full else self.items[:1]):
            feed = self.sample(item)
            where = self._describe(item)
            missing = sorted(set(expected) - set(feed))
            extra = sorted(set(feed) - set(expected))
            if missing or extra:
                raise CalibrationError(
                    f"{where}: the data gives inputs {sorted(feed)}, the model takes "
                    f"{sorted(expected)} (missing {missing}, unexpected {extra}); set the "
                    f"data set's input name(s) to the model's")
            for name, (shape, dtype) in expected.items():
                arr = feed[name]
                if tuple(arr.shape) != shape:
                    raise CalibrationError(
                        f"{where}: input {name!r} has shape {tuple(arr.shape)}, the model "
                        f"expects {shape}; adjust the {self.kind} data set's size/shape options")
                if arr.dtype != dtype:
                    raise CalibrationError(
                        f"{where}: input {name!r} has dtype {arr.dtype}, the model expects "
                        f"{dtype}; set the data set's dtype")

    # -- helpers -----------------------------------------------------------------------
    def _where(self) -> str:
        path = getattr(self, "path", None)
        return str(path) if path is not None else f"({type(self).__name__})"

    def _check(self, feed: Any, item: Any) -> None:
        where = self._describe(item)
        if not isinstance(feed, dict) or not feed:
            raise CalibrationError(f"{where}: a sample must be a non-empty dict of input name "
                                   f"-> array, got {type(feed).__name__}")
        signature = {}
        for name, arr in feed.items():
            if not isinstance(arr, np.ndarray):
                raise CalibrationError(f"{where}: input {name!r} is a {type(arr).__name__}, "
                                       f"not a numpy array")
            if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
                bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
                raise CalibrationError(f"{where}: input {name!r} holds {bad} NaN/Inf values; "
                                       f"remove or fix this sample")
            signature[name] = (tuple(arr.shape), arr.dtype)
        if self._signature is None:
            self._signature = signature
        elif signature != self._signature:
            raise CalibrationError(
                f"{where}: sample has inputs {_fmt(signature)}, earlier samples had "
                f"{_fmt(self._signature)}; every sample must have the same names, shapes "
                f"and dtypes")

    def __repr__(self) -> str:
        n = len(self._selected) if self._selected is not None else "?"
        return f"<{type(self).__name__} {self._where()} samples={n}>"


def _fmt(sig: dict[str, tuple[tuple[int, ...], np.dtype]]) -> str:
    return ", ".join(f"{k} {list(s)} {d}" for k, (s, d) in sig.items())


def file_digest(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def list_files(path, extensions: tuple[str, ...], kind: str) -> list:
    """Files under directory ``path`` (recursively) with one of ``extensions``, sorted by
    relative path; ``path`` may also be a single such file."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise CalibrationError(f"{kind} data set: {p} does not exist")
    if p.is_file():
        if p.suffix.lower() not in extensions:
            raise CalibrationError(f"{kind} data set: {p} is not one of {', '.join(extensions)}")
        return [p]
    visible = [f for f in p.rglob("*") if f.suffix.lower() in extensions
               and not any(part.startswith(".") for part in f.relative_to(p).parts)]
    # a link to nowhere is a sample the user meant to include: say so rather than skip it
    broken = [f for f in visible if f.is_symlink() and not f.exists()]
    if broken:
        raise CalibrationError(f"{kind} data set: {broken[0]} is a symbolic link to "
                               f"{broken[0].readlink()}, which does not exist; fix or remove the link")
    return sorted((f for f in visible if f.is_file()), key=lambda f: f.relative_to(p).as_posix())
