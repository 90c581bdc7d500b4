"""From what a user names as data (``--calib DIR``, ``--data zoo:NAME``, a dataset, a list
of feeds, an ``edgeq.yaml`` dataset section) to an :mod:`edgeq.data` dataset for a model.

Accepted forms, in the order they are recognised by :func:`resolve`:

* an :class:`edgeq.data.Dataset` -> used as it is;
* a dataset section of ``edgeq.yaml`` (``edgeq.config.DatasetSection``) -> its dataset;
* ``"zoo:NAME"`` or ``"zoo:NAME:SPLIT"`` -> the zoo's data for model NAME
  (:func:`edgeq.zoo.dataset`), split ``calib`` for calibration and ``eval`` for profiling
  unless given; ``"zoo:"`` alone means the zoo model the graph was built from;
* a path (``str`` / ``os.PathLike``) of a directory or a file -> a dataset of ``kind``
  (``images`` | ``audio`` | ``npy``, or any kind ``edgeq.data.create`` knows), and when
  ``kind`` is not given it is **detected from the files' content** (magic bytes: PNG,
  JPEG, GIF, BMP, TIFF, WebP, PNM -> images; RIFF/WAVE -> audio; ``\\x93NUMPY`` / zip ->
  npy). A directory mixing kinds is an error asking for the kind;
* any other iterable of feed dicts -> :func:`edgeq.data.from_iterable`.

The options of a dataset made from a path come, in increasing priority, from (1) the
model's inputs (image size and layout from a 4-D input, the input name, audio window
from the input shape, extra inputs fed with zeros), (2) the preprocessing recorded in the
model (``edgeq.zoo.preprocessing`` / ``edgeq.preprocessing`` ONNX metadata, when its
kind matches), (3) ``options`` given by the caller (``--calib-opt KEY=VALUE``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from edgeq.errors import CalibrationError, UsageError

log = logging.getLogger(__name__)

ZOO_PREFIX = "zoo"
#: graph metadata keys holding a JSON preprocessing description (edgeq.data options + kind)
PREPROCESSING_KEYS = ("edgeq.preprocessing", "edgeq.zoo.preprocessing")
#: magic bytes -> kind; checked against the first 12 bytes of a file
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "images"), (b"\xff\xd8\xff", 0, "images"), (b"GIF8", 0, "images"),
    (b"BM", 0, "images"), (b"II*\x00", 0, "images"), (b"MM\x00*", 0, "images"),
    (b"WEBP", 8, "images"), (b"P5", 0, "images"), (b"P6", 0, "images"),
    (b"WAVE", 8, "audio"), (b"\x93NUMPY", 0, "npy"), (b"PK\x03\x04", 0, "npy"),
)
#: at most this many files are read to detect a directory's kind
SNIFF_LIMIT = 64


def zoo_name_of(graph) -> str | None:
    """The zoo model a graph was built from (its ``edgeq.zoo.name`` metadata), if any."""
    return (getattr(graph, "metadata", None) or {}).get("edgeq.zoo.name") or None


def parse_zoo(text: str, default_split: str, graph=None) -> tuple[str, str] | None:
    """``"zoo:NAME[:SPLIT]"`` -> ``(NAME, SPLIT)``; ``"zoo:"`` names the zoo model ``graph``
    was built from. None if ``text`` is not a zoo reference."""
    if not text.startswith(ZOO_PREFIX + ":"):
        return None
    name, _, split = text[len(ZOO_PREFIX) + 1:].partition(":")
    if not name:
        name = zoo_name_of(graph) if graph is not None else None
        if not name:
            raise UsageError(f"data {text!r}: write zoo:NAME (a model from 'edgeq zoo list'); "
                             "'zoo:' alone only works for models built from the zoo")
    split = split or default_split
    if split not in ("calib", "eval"):
        raise UsageError(f"data {text!r}: split {split!r} is not 'calib' or 'eval'")
    return name, split


def _classify(head: bytes) -> str | None:
    for magic, offset, kind in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return kind
    return None


def sniff_kind(path: str | os.PathLike) -> str:
    """The data kind of a file or directory, from file content (see the module doc)."""
    root = Path(path)
    if not root.exists():
        raise CalibrationError(f"{root}: no such file or directory; give a directory of "
                               "images, .wav or .npy/.npz files, or zoo:NAME")
    files = [root] if root.is_file() else sorted(
        f for f in root.rglob("*") if f.is_file()
        and not any(p.startswith(".") for p in f.relative_to(root).parts))
    counts: dict[str, int] = {}
    for f in files[:SNIFF_LIMIT]:
        try:
            with open(f, "rb") as fh:
                kind = _classify(fh.read(12))
        except OSError as exc:
            raise CalibrationError(f"{f}: cannot read ({exc.strerror or exc})") from exc
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
    if not counts:
        raise CalibrationError(f"{root}: found no image, WAV or numpy files (looked at "
                               f"{min(len(files), SNIFF_LIMIT)} file(s)); give a directory of "
                               "them, pass the kind explicitly (--calib-kind), or use zoo:NAME")
    if len(counts) > 1:
        found = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        raise UsageError(f"{root}: mixes data kinds ({found}); keep one kind per directory or "
                         "say which to use (--calib-kind / --data-kind)")
    return next(iter(counts))


def _float_inputs(graph) -> list[tuple[str, tuple[int, ...]]]:
    out = []
    for name in graph.inputs:
        t = graph.tensors[name]
        if t.data is None:
            out.append((name, tuple(int(d) for d in t.shape)))
    return out


def _model_preprocessing(graph, kind: str) -> dict[str, Any]:
    meta = getattr(graph, "metadata", None) or {}
    for key in PREPROCESSING_KEYS:
        if key in meta:
            try:
                pre = json.loads(meta[key])
            except (TypeError, json.JSONDecodeError):
                log.warning("ignoring unreadable %s metadata", key)
                continue
            if isinstance(pre, dict) and pre.get("kind") == kind:
                return {k: v for k, v in pre.items() if k != "kind"}
    return {}


def default_options(kind: str, graph) -> dict[str, Any]:
    """Dataset options for ``kind`` that fit ``graph``'s inputs (see the module doc)."""
    inputs = _float_inputs(graph)
    opts: dict[str, Any] = {}
    if kind == "images":
        four_d = [(n, s) for n, s in inputs if len(s) == 4]
        if len(four_d) == 1:
            name, (_, a, b, c) = four_d[0]
            nchw = a in (1, 3) or c not in (1, 3)
            channels = a if nchw else c
            opts.update(input_name=name, size=[b, c] if nchw else [a, b],
                        layout="NCHW" if nchw else "NHWC", color="L" if channels == 1 else "RGB")
            if channels == 1:  # edgeq.data.images' default mean/std have 3 entries
                opts.update(mean=[0.0], std=[1.0])
    elif kind == "audio" and inputs:
        name, shape = max(inputs, key=lambda ns: _numel(ns[1]))
        opts.update(input_name=name, window=_numel(shape), shape=list(shape))
        zeros = {n: list(s) for n, s in inputs if n != name}
        if zeros:
            opts["zero_inputs"] = zeros
    elif kind == "npy" and len(inputs) == 1:
        opts["input_name"] = inputs[0][0]
    opts.update(_model_preprocessing(graph, kind))
    return opts


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def resolve(data: Any, graph, *, split: str = "calib", kind: str | None = None,
            options: Mapping[str, Any] | None = None, num_samples: int | None = None,
            seed: int = 0, what: str = "calibration data"):
    """An :mod:`edgeq.data` dataset for ``graph`` from ``data`` (see the module doc).

    ``split`` is the zoo split used when a ``zoo:NAME`` reference names none;
    ``num_samples``/``seed`` select a subset of datasets made here. Errors are
    UsageError / CalibrationError naming the path or reference.
    """
    import edgeq.data
    from edgeq.data import Dataset

    if data is None:
        raise UsageError(f"no {what} given")
    if isinstance(data, Dataset):
        return data
    if hasattr(data, "to_dataset") and hasattr(data, "kind"):  # an edgeq.yaml dataset section
        if data.kind == "zoo" and "split" not in data.model_fields_set:
            from edgeq import zoo

            opts = data.options()
            return zoo.dataset(opts.pop("model"), split, n=num_samples, seed=seed, **opts)
        return data.to_dataset(num_samples, seed)
    if isinstance(data, str):
        ref = parse_zoo(data, split, graph)
        if ref is not None:
            from edgeq import zoo

            return zoo.dataset(ref[0], ref[1], n=num_samples, seed=seed)
    if isinstance(data, (str, os.PathLike)):
        path = Path(data).expanduser()
        kind = kind or sniff_kind(path)
        opts = {**default_options(kind, graph), **dict(options or {})}
        log.info("%s: %s data set from %s with %s", what, kind, path, opts)
        return edgeq.data.create(kind, path=path, num_samples=num_samples, seed=seed, **opts)
    if isinstance(data, (Mapping, bytes)) or not isinstance(data, Iterable):
        raise UsageError(f"{what}: expected a directory, zoo:NAME, an edgeq.data dataset or an "
                         f"iterable of feed dicts, got {type(data).__name__}")
    return edgeq.data.from_iterable(data, num_samples=num_samples, seed=seed)


def describe(dataset) -> dict[str, Any]:
    """A JSON-ready description of a dataset for build and profile reports."""
    return {"kind": getattr(dataset, "kind", type(dataset).__name__),
            "path": str(getattr(dataset, "path", "")) or None,
            "samples": len(dataset), "fingerprint": dataset.fingerprint()}
