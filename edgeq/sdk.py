"""The plugin SDK: everything a target plugin may import from edgeq, in one module.

A target plugin (``plugins/edgeq_*`` or a third-party package) imports ``edgeq.sdk``
and nothing else from edgeq; ``tests/unit/test_sdk_contract.py`` enforces it. The core
may reorganise its modules freely behind this surface; a name listed here keeps its
meaning (docs/plugins.md documents each one).

Names are resolved lazily (PEP 562), so ``from edgeq.sdk import hookimpl`` in a
plugin's ``plugin.py`` imports neither numpy-heavy interpreters nor the device stack:
``edgeq targets`` and ``edgeq --help`` stay fast.

Groups (the table in docs/plugins.md follows the same order):

* hooks: ``hookimpl``, ``PluginError``;
* contracts: ``Target``, ``Runner``, ``RunnerFactory``, ``Artifact``, ``BuildOptions``,
  ``ProfileReport``, ``LatencyStats``, ``MANIFEST_NAME``, ``sha256_file``,
  ``edgeq_version``, ``directory_mode``, ``emit_atomically``;
* quantization types: ``QuantSpec``, ``QuantParams``, ``QDType``, ``NodePlacement``,
  ``SAME_SCALE_OPS``, ``FIXED_OUTPUT``, ``allows_fallback``;
* errors: ``EdgeqError``, ``UsageError``, ``ConfigError``, ``BuildError``,
  ``ArtifactError``, ``UnsupportedOpError``, ``DeviceError``, ``TargetUnavailableError``,
  ``require_module``;
* graph and passes: ``Graph``, ``Node``, ``Tensor``, ``convert_layout``,
  ``count_transposes``, ``lower_quantized``, ``executable``, ``RSQRT_FLOOR``, ``transpose_geometry``, ``nearest_plan``, ``resize_bilinear_flags``;
* op registries for lowerings: ``OpRegistry``;
* integer arithmetic (TFLite reference rules): ``quantize_multiplier``,
  ``multiply_by_quantized_multiplier``, ``calculate_activation_range_quantized``,
  ``round_half_away``, ``float_to_int``, ``int8_table`` (the lookup table of an int8
  op without a builtin, e.g. Mish);
* interpreters: ``run_graph`` (float), ``run_quantized`` (integer simulator);
* device transports: ``Transport``, ``Session``, ``CommandResult``, ``DeviceFacts``,
  ``HostTransport``, ``AdbTransport``, ``RetryPolicy``, ``select_devices``,
  ``DEFAULT_ADB_DIR``, ``quote_command``, ``tail``;
* reports and metrics: ``attach_accuracy``, ``combine_reports``, ``progress``,
  ``sqnr_db``, ``cosine``, ``percentile``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> (module, attribute in that module)
_EXPORTS: dict[str, tuple[str, str]] = {
    # hooks
    "hookimpl": ("edgeq.plugins", "hookimpl"),
    "PluginError": ("edgeq.plugins", "PluginError"),
    # contracts
    "Target": ("edgeq.contracts", "Target"),
    "Runner": ("edgeq.contracts", "Runner"),
    "RunnerFactory": ("edgeq.contracts", "RunnerFactory"),
    "Artifact": ("edgeq.contracts", "Artifact"),
    "BuildOptions": ("edgeq.contracts", "BuildOptions"),
    "ProfileReport": ("edgeq.contracts", "ProfileReport"),
    "LatencyStats": ("edgeq.contracts", "LatencyStats"),
    "MANIFEST_NAME": ("edgeq.contracts", "MANIFEST_NAME"),
    "sha256_file": ("edgeq.contracts", "sha256_file"),
    "edgeq_version": ("edgeq.contracts", "edgeq_version"),
    "directory_mode": ("edgeq.staging", "directory_mode"),
    "emit_atomically": ("edgeq.staging", "emit_atomically"),
    # quantization types
    "QuantSpec": ("edgeq.types", "QuantSpec"),
    "QuantParams": ("edgeq.types", "QuantParams"),
    "QDType": ("edgeq.types", "QDType"),
    "NodePlacement": ("edgeq.types", "NodePlacement"),
    "SAME_SCALE_OPS": ("edgeq.quantize.spec", "SAME_SCALE_OPS"),
    "FIXED_OUTPUT": ("edgeq.quantize.spec", "FIXED_OUTPUT"),
    "allows_fallback": ("edgeq.quantize.spec", "allows_fallback"),
    # errors
    "EdgeqError": ("edgeq.errors", "EdgeqError"),
    "UsageError": ("edgeq.errors", "UsageError"),
    "ConfigError": ("edgeq.errors", "ConfigError"),
    "BuildError": ("edgeq.errors", "BuildError"),
    "ArtifactError": ("edgeq.errors", "ArtifactError"),
    "UnsupportedOpError": ("edgeq.errors", "UnsupportedOpError"),
    "DeviceError": ("edgeq.errors", "DeviceError"),
    "TargetUnavailableError": ("edgeq.errors", "TargetUnavailableError"),
    "require_module": ("edgeq.errors", "require_module"),
    # graph and passes
    "Graph": ("edgeq.ir.graph", "Graph"),
    "Node": ("edgeq.ir.graph", "Node"),
    "Tensor": ("edgeq.ir.graph", "Tensor"),
    "convert_layout": ("edgeq.ir.passes.convert_layout", "convert_layout"),
    "count_transposes": ("edgeq.ir.passes.convert_layout", "count_transposes"),
    "lower_quantized": ("edgeq.quantize.rewrites.prepare", "lower"),
    "executable": ("edgeq.quantize.rewrites.prepare", "executable"),
    "RSQRT_FLOOR": ("edgeq.interp.float_ops.rsqrt", "RSQRT_FLOOR"),
    "transpose_geometry": ("edgeq.interp.float_ops.conv_transpose", "transpose_geometry"),
    "nearest_plan": ("edgeq.interp.float_ops.resize", "nearest_plan"),
    "resize_bilinear_flags": ("edgeq.interp.integer_ops.resize_bilinear", "tflite_flags"),
    # op registries
    "OpRegistry": ("edgeq.interp.registry", "OpRegistry"),
    # integer arithmetic
    "quantize_multiplier": ("edgeq.quantize.arith.fixed_point", "quantize_multiplier"),
    "multiply_by_quantized_multiplier": ("edgeq.quantize.arith.fixed_point",
                                         "multiply_by_quantized_multiplier"),
    "calculate_activation_range_quantized": ("edgeq.quantize.arith.fixed_point",
                                             "calculate_activation_range_quantized"),
    "round_half_away": ("edgeq.quantize.arith.fixed_point", "round_half_away"),
    "float_to_int": ("edgeq.interp.integer_ops.quantize", "float_to_int"),
    "int8_table": ("edgeq.interp.integer_ops._table_unary", "int8_table"),
    # interpreters
    "run_graph": ("edgeq.interp.float_interp", "run_graph"),
    "run_quantized": ("edgeq.interp.int_interp", "run_quantized"),
    # device transports
    "Transport": ("edgeq.devices.base", "Transport"),
    "Session": ("edgeq.devices.base", "Session"),
    "CommandResult": ("edgeq.devices.base", "CommandResult"),
    "DeviceFacts": ("edgeq.devices.base", "DeviceFacts"),
    "quote_command": ("edgeq.devices.base", "quote_command"),
    "tail": ("edgeq.devices.base", "tail"),
    "HostTransport": ("edgeq.devices.host", "HostTransport"),
    "AdbTransport": ("edgeq.devices.adb", "AdbTransport"),
    "RetryPolicy": ("edgeq.devices.adb", "RetryPolicy"),
    "select_devices": ("edgeq.devices.adb", "select_devices"),
    "DEFAULT_ADB_DIR": ("edgeq.devices.adb", "DEFAULT_BASE_DIR"),
    # reports and metrics
    "attach_accuracy": ("edgeq.profile.accuracy", "attach_accuracy"),
    "combine_reports": ("edgeq.profile.report", "combine"),
    "progress": ("edgeq.profile.terminal", "progress"),
    "sqnr_db": ("edgeq.metrics", "sqnr_db"),
    "cosine": ("edgeq.metrics", "cosine"),
    "percentile": ("edgeq.profile.stats", "percentile"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(
            f"edgeq.sdk has no attribute {name!r}; the plugin SDK's names are listed in "
            "docs/plugins.md") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # cache: the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from edgeq.devices.adb import DEFAULT_BASE_DIR as DEFAULT_ADB_DIR  # noqa: F401
    from edgeq.devices.adb import AdbTransport, RetryPolicy, select_devices  # noqa: F401
    from edgeq.devices.base import (CommandResult, DeviceFacts, Session, Transport,  # noqa: F401
                                    quote_command, tail)
    from edgeq.devices.host import HostTransport  # noqa: F401
    from edgeq.errors import (ArtifactError, BuildError, ConfigError, DeviceError, EdgeqError,  # noqa: F401
                              TargetUnavailableError, UnsupportedOpError, UsageError,
                              require_module)
    from edgeq.interp.float_interp import run_graph  # noqa: F401
    from edgeq.interp.float_ops.conv_transpose import transpose_geometry  # noqa: F401
    from edgeq.interp.float_ops.resize import nearest_plan  # noqa: F401
    from edgeq.interp.integer_ops.resize_bilinear import tflite_flags as resize_bilinear_flags  # noqa: F401
    from edgeq.interp.int_interp import run_quantized  # noqa: F401
    from edgeq.interp.integer_ops.quantize import float_to_int  # noqa: F401
    from edgeq.interp.integer_ops._table_unary import int8_table  # noqa: F401
    from edgeq.interp.registry import OpRegistry  # noqa: F401
    from edgeq.ir.graph import Graph, Node, Tensor  # noqa: F401
    from edgeq.ir.passes.convert_layout import convert_layout, count_transposes  # noqa: F401
    from edgeq.plugins import PluginError, hookimpl  # noqa: F401
    from edgeq.metrics import cosine, sqnr_db  # noqa: F401
    from edgeq.profile.accuracy import attach_accuracy  # noqa: F401
    from edgeq.profile.report import combine as combine_reports  # noqa: F401
    from edgeq.profile.stats import percentile  # noqa: F401
    from edgeq.profile.terminal import progress  # noqa: F401
    from edgeq.quantize.arith.fixed_point import (calculate_activation_range_quantized,  # noqa: F401
                                                  multiply_by_quantized_multiplier,
                                                  quantize_multiplier, round_half_away)
    from edgeq.quantize.rewrites.prepare import executable  # noqa: F401
    from edgeq.quantize.rewrites.prepare import lower as lower_quantized  # noqa: F401
    from edgeq.quantize.spec import FIXED_OUTPUT, SAME_SCALE_OPS, allows_fallback  # noqa: F401
    from edgeq.contracts import (MANIFEST_NAME, Artifact, BuildOptions, LatencyStats,  # noqa: F401
                              ProfileReport, Runner, RunnerFactory, Target, edgeq_version,
                              sha256_file)
    from edgeq.staging import directory_mode, emit_atomically  # noqa: F401
    from edgeq.types import NodePlacement, QDType, QuantParams, QuantSpec  # noqa: F401
