"""Calibration and evaluation data: iterables of ready-to-run feed dicts.

::

    edgeq.data.images(dir, size, resize="crop"|"stretch"|"pad"|None, mean, std, layout, color, input_name)
    edgeq.data.audio(dir, sample_rate, window=N | frames=F, frame_length, frame_hop, zero_inputs)
    edgeq.data.npy(dir_or_file, input_name, stacked=False)
    edgeq.data.text(file, tokenizer_json, max_len)
    edgeq.data.from_iterable(iterable_of_feed_dicts)
    edgeq.data.create(kind, **options)   # the same, by kind name (edgeq.yaml), incl. "zoo"

Every dataset takes ``num_samples`` and ``seed``, has ``len()``, ``fingerprint()`` and
``validate(graph)``; see :mod:`edgeq.data.base` for the guarantees.
"""

from __future__ import annotations

from typing import Any

from edgeq.data.audio import AudioDataset, audio
from edgeq.data.base import Dataset, Feed
from edgeq.data.images import ImageDataset, images
from edgeq.data.iterable import IterableDataset, from_iterable
from edgeq.data.npy import NpyDataset, npy
from edgeq.data.text import TextDataset, text
from edgeq.errors import ConfigError

__all__ = ["Dataset", "Feed", "ImageDataset", "AudioDataset", "NpyDataset", "TextDataset",
           "IterableDataset", "images", "audio", "npy", "text", "from_iterable", "create",
           "BUILTIN_KINDS"]


def _zoo(model: str, split: str = "calib", num_samples: int | None = None, seed: int = 0,
         cache_dir: str | None = None) -> Dataset:
    from edgeq import zoo

    return zoo.dataset(model, split, n=num_samples, seed=seed, cache_dir=cache_dir)


#: kind name -> factory; plugins add kinds through the register_datasets hook
BUILTIN_KINDS = {"images": images, "audio": audio, "npy": npy, "text": text, "zoo": _zoo}


def create(kind: str, **options: Any) -> Dataset:
    """The dataset of ``kind`` (built-in or registered by a plugin) built from ``options``.

    Unknown kinds and bad options raise :class:`ConfigError` naming them.
    """
    factories: dict[str, Any] = dict(BUILTIN_KINDS)
    if kind not in factories:
        from edgeq.plugins import collect_mapping

        factories.update(collect_mapping("register_datasets", builtin=tuple(BUILTIN_KINDS)))
    if kind not in factories:
        raise ConfigError(f"unknown calibration data kind {kind!r}; use one of "
                          f"{', '.join(sorted(factories))}")
    try:
        return factories[kind](**options)
    except TypeError as exc:
        raise ConfigError(f"calibration data of kind {kind!r}: bad options "
                          f"{sorted(options)} ({exc})") from exc
