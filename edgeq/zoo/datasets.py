"""The zoo's data sets on disk, and ready-to-run feeds for each zoo model.

Data set kinds (each with a ``calib`` and an ``eval`` split, generated on first use
into ``<cache>/datasets/<kind>/<split>/`` and verified by manifest afterwards):

=============  ==========================================================  ============
kind           content                                                     used by
=============  ==========================================================  ============
images         crops of scikit-image photographs (disjoint photos/split)   mobilenet-v2
text_lines     rendered lines of English, half turned 180 degrees          ppocr-cls
speech         espeak-ng speech at 16 kHz, clean / silences / noise        silero-vad
text           English sentences from the Python Language Reference       minilm-l6
=============  ==========================================================  ============

See :mod:`edgeq.zoo.data_images`, :mod:`edgeq.zoo.data_speech` and
:mod:`edgeq.zoo.data_text` for how each is made and labelled.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable

import numpy as np

from edgeq.data.base import Dataset
from edgeq.errors import UsageError
from edgeq.zoo import cache

logger = logging.getLogger(__name__)

SPLITS = ("calib", "eval")
#: bump when a generator changes, so cached data sets are rebuilt
DATA_VERSION = 2


def _make_text(split: str, out: Path) -> None:
    from edgeq.zoo.data_text import sentences

    (out / "sentences.txt").write_text("\n".join(sentences(split)) + "\n", encoding="utf-8")


def _generators() -> dict[str, Callable[[str, Path], None]]:
    from edgeq.zoo import data_images, data_speech

    return {"images": data_images.make_photo_crops, "text_lines": data_images.make_text_lines,
            "speech": data_speech.make_speech, "text": _make_text}


DATASET_KINDS = ("images", "text_lines", "speech", "text")


def dataset_dir(kind: str, split: str = "calib", cache_dir: str | os.PathLike | None = None) -> Path:
    """Directory of the ``kind`` data set's ``split``, generated the first time.

    Raises :class:`UsageError` for an unknown kind/split, and
    :class:`~edgeq.errors.DownloadError` when a tool it needs (espeak-ng) is missing.
    """
    if kind not in DATASET_KINDS:
        raise UsageError(f"unknown zoo data set {kind!r}; use one of {', '.join(DATASET_KINDS)}")
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}; use 'calib' or 'eval'")
    entry = cache.cache_root(cache_dir) / "datasets" / kind / split
    if _valid(entry):
        return entry
    with cache.entry_lock(entry):
        if _valid(entry):
            return entry
        logger.info("generating the zoo's %s data set (%s split) in %s", kind, split, entry)
        staging = cache.fresh_dir(entry)
        try:
            _generators()[kind](split, staging)
            cache.write_manifest(staging, {"kind": kind, "split": split, "version": DATA_VERSION})
            cache.commit_dir(staging, entry)
        except BaseException:
            cache.discard(staging)
            raise
    return entry


def _valid(entry: Path) -> bool:
    manifest = cache.read_json(entry / cache.MANIFEST)
    if manifest is not None and manifest.get("version") != DATA_VERSION:
        logger.info("zoo data set %s is from an older generator; rebuilding it", entry)
        return False
    return cache.verify_manifest(entry)


def dataset(name: str, split: str = "calib", n: int | None = None, seed: int = 0,
            cache_dir: str | os.PathLike | None = None) -> Dataset:
    """The :mod:`edgeq.data` dataset feeding zoo model ``name`` from its data set's split."""
    from edgeq import zoo
    from edgeq.data.audio import audio
    from edgeq.data.images import images
    from edgeq.data.npy import npy
    from edgeq.data.text import text

    zm = zoo.info(name)
    root = dataset_dir(zm.dataset, split, cache_dir)
    options = dict(zm.preprocessing)
    kind = options.pop("kind")
    if kind == "text":
        tokenizer = zoo.get(name, cache_dir).parent / options.pop("tokenizer")
        return text(root / "sentences.txt", tokenizer, num_samples=n, seed=seed, **options)
    # the data kinds' own modules, not edgeq.data.create: edgeq.data's "zoo" kind calls
    # this function, and the zoo must not import that registry back
    factory = {"images": images, "audio": audio, "npy": npy}[kind]
    return factory(path=root, num_samples=n, seed=seed, **options)


def feeds(name: str, split: str = "calib", n: int | None = None, seed: int = 0,
          cache_dir: str | os.PathLike | None = None) -> list[dict[str, np.ndarray]]:
    """``n`` preprocessed feed dicts for zoo model ``name`` (all of the split if ``None``),
    chosen deterministically by ``seed``; ready for ``onnxruntime``/``Model.run``."""
    return list(dataset(name, split, n, seed, cache_dir))


def labels(name: str, split: str = "calib", n: int | None = None, seed: int = 0,
           cache_dir: str | os.PathLike | None = None) -> np.ndarray | None:
    """Ground truth aligned with :func:`feeds` (same arguments), where the data has it.

    ``ppocr-cls``: ``[n]`` class (0 upright, 1 rotated 180); ``silero-vad``: ``[n, chunks]``
    0/1 speech per chunk; ``None`` for models whose data carries no labels.
    """
    from edgeq import zoo
    from edgeq.zoo.data_speech import chunk_labels

    zm = zoo.info(name)
    ds = dataset(name, split, n, seed, cache_dir)
    if zm.dataset == "text_lines":
        truth = json.loads((dataset_dir(zm.dataset, split, cache_dir) / "labels.json").read_text())
        return np.array([truth[f.name]["label"] for f in ds.items], np.int64)
    if zm.dataset == "speech":
        truth = json.loads((dataset_dir(zm.dataset, split, cache_dir) / "labels.json").read_text())
        hop, frames = zm.preprocessing["frame_hop"], zm.preprocessing["frames"]
        return np.stack([chunk_labels(truth[f.name]["speech"], start + hop * np.arange(frames), hop)
                         for f, start in ds.items])
    return None


def export_split(name: str, split: str, dest: str | os.PathLike,
                 cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """Copy the ``split`` ("calib" or "eval") files of zoo model ``name``'s data set into
    the new directory ``dest`` (labels included, the cache's manifest not), all or
    nothing; returns the files written. ``dest`` must not exist or be empty."""
    import shutil
    import tempfile

    from edgeq import zoo
    from edgeq.errors import UsageError

    if split not in SPLITS:
        raise UsageError(f"zoo data split {split!r} is not one of {', '.join(SPLITS)}")
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest}: exists and is not an empty directory; give a new directory "
                         "for the zoo data")
    src = dataset_dir(zoo.info(name).dataset, split, cache_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for f in sorted(src.iterdir()):
            if f.is_file() and f.name != "manifest.json":
                shutil.copy2(f, tmp / f.name)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(dest.iterdir())
