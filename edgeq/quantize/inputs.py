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


def as_dataset(calibration, num_samples, seed):
    """A Dataset from a Dataset (its own sampling wins) or any iterable of feed dicts."""
    from edgeq.data import Dataset, from_iterable

    if isinstance(calibration, Dataset):
        if num_samples is not None and num_samples != calibration.num_samples:
            log.info("using the dataset's own sampling (%s samples)", calibration.num_samples)
        return calibration
    return from_iterable(calibration, num_samples=num_samples, seed=seed)
