"""What :func:`edgeq.quantize` and friends accept as a model and as calibration data:
normalised to an ``edgeq.model.Model`` and an ``edgeq.data`` Dataset."""

from __future__ import annotations

import logging
from pathlib import Path

from edgeq.errors import UsageError

log = logging.getLogger(__name__)


def as_model(model):
    """A Model from a Model, a path to an .onnx file, or a Model-like object; UsageError else."""
    from edgeq.model import Model, load

    if isinstance(model, Model):
        return model
    if isinstance(model, (str, Path)):
        return load(model)
    if hasattr(model, "graph") and hasattr(model, "sha256"):
        return model
    raise UsageError(f"quantize() takes a Model from edgeq.load or a path to an .onnx file, "
                     f"got {type(model).__name__}")


def as_dataset(calibration, num_samples, seed, graph=None, what: str = "calibration"):
    """A Dataset from a Dataset (its own sampling wins), a directory or ``zoo:NAME``
    (resolved for ``graph`` as ``edgeq build --calib`` does), or any iterable of feed
    dicts; UsageError naming ``what`` for anything else."""
    import os

    from edgeq.data import Dataset, from_iterable

    if isinstance(calibration, (str, os.PathLike)):
        if graph is None:
            raise UsageError(f"{what}: a path or zoo:NAME needs the model to resolve it")
        from edgeq.data.resolve import resolve

        return resolve(calibration, graph, split="calib", num_samples=num_samples, seed=seed,
                       what=f"{what} data")
    if isinstance(calibration, (bytes, dict)) or not hasattr(calibration, "__iter__"):
        raise UsageError(f"{what}=...: got {type(calibration).__name__}; give an edgeq.data dataset, "
                         "a directory path, 'zoo:NAME' or an iterable of feed dicts "
                         "({input name: numpy array})")
    if isinstance(calibration, Dataset):
        if num_samples is not None and num_samples != calibration.num_samples:
            log.info("using the dataset's own sampling (%s samples)", calibration.num_samples)
        return calibration
    return from_iterable(calibration, num_samples=num_samples, seed=seed)
