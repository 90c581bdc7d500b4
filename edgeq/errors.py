"""The one error hierarchy of edgeq.

Every error a user can cause (a bad file, a bad flag, a bad config, unsupported
content, a missing SDK, a device problem) is an :class:`EdgeqError` subclass. Its
message names the file, node, tensor or field involved, says what was found and what
to do about it. The CLI prints the message without a traceback and exits with
``exit_code``. ``assert`` is reserved for internal invariants.
"""

from __future__ import annotations

from typing import Any


class EdgeqError(Exception):
    """Base class of every error edgeq raises on purpose."""

    #: process exit code used by the CLI for this kind of error
    exit_code: int = 1


class UsageError(EdgeqError):
    """A malformed command-line argument or API argument (e.g. ``--input x:1xAx3``)."""

    exit_code = 2


class ConfigError(EdgeqError):
    """An invalid ``edgeq.yaml`` or target profile; the message names the field path."""

    exit_code = 2


class ModelLoadError(EdgeqError):
    """A model file that does not exist, cannot be parsed or is not a valid ONNX model."""


class ShapeError(EdgeqError):
    """A dynamic dimension without a user-given shape, or inconsistent shapes."""


class InputShapeError(ShapeError, UsageError):
    """A shape the user gave for a model input (``--input``, ``input_shapes=``) does not
    fit the model: a usage error (exit code 2) that is also a ShapeError."""


class UnsupportedOpError(EdgeqError):
    """An op (or op configuration) that edgeq or a target cannot run."""

    def __init__(self, message: str, *, op_type: str | None = None, nodes: list[str] | None = None):
        super().__init__(message)
        self.op_type = op_type
        self.nodes = list(nodes or [])


class CalibrationError(EdgeqError):
    """Calibration data that is unreadable, empty, wrongly shaped/typed or non-finite."""


class QuantizationError(EdgeqError):
    """A model that cannot be quantized under the requested spec."""


class DownloadError(EdgeqError):
    """A zoo asset that could not be fetched from the package registry."""


class CacheError(EdgeqError):
    """A cache entry that is corrupt and could not be repaired."""


class TargetUnavailableError(EdgeqError):
    """An unknown target name, or a target whose SDK package is not installed."""


class BuildError(EdgeqError):
    """A target emit step that failed; nothing is left half-written."""


class ArtifactError(BuildError):
    """An artifact directory that cannot be trusted: a missing or unreadable manifest,
    files missing or modified since the build, or content its target's reader
    (``Target.read_artifact``) finds corrupt. The message names the file and says to
    rebuild."""


class DeviceError(EdgeqError):
    """A device transport problem: no/several devices, offline, timeout, full disk…"""


class GateFailure(EdgeqError):
    """One or more profile gates were missed (exit code 3). ``edgeq.profile`` attaches
    the run's ``report`` (a ProfileResult) and the ``paths`` of the reports it wrote."""

    exit_code = 3
    report: Any = None
    paths: dict = {}


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message (its type name if it has none), for quoting a
    library's error inside one of edgeq's."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def require_module(module: str, package: str, purpose: str):
    """Import ``module`` or raise :class:`TargetUnavailableError` naming ``package``.

    SDK-specific packages are imported only when they are used, so ``edgeq --help``
    works without them; this turns an ``ImportError`` into an actionable message.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise TargetUnavailableError(
            f"{purpose} needs the Python package '{package}', which is not installed "
            f"({exc}). Install it with: pip install {package}"
        ) from exc


def check_argument(function: str, argument: str, value: Any, types: type | tuple[type, ...],
                   accepts: str) -> None:
    """Raise UsageError unless ``value`` is an instance of ``types``: the public API's
    guard, so that a wrong argument type is named with what the argument accepts instead
    of failing deep inside (``build(model=...): got int; give an ONNX path, …``)."""
    if not isinstance(value, types):
        raise UsageError(f"{function}({argument}=...): got {type(value).__name__}; give {accepts}")
