"""Profiling results: latency statistics, accuracy metrics, reports and gates.

- :mod:`edgeq.profile.stats` — latency helpers (``percentile``, ``speedup`` …);
- :mod:`edgeq.profile.accuracy` — ``compare_outputs`` / ``attach_accuracy`` vs FP32;
- :mod:`edgeq.profile.report` — ``report_to_dict``, ``write_reports``,
  ``combine``, ``attach_baseline``, ``load_report`` (schema in ``report_schema``);
- :mod:`edgeq.profile.gates` — ``parse_gates``, ``evaluate``, ``write_junit``,
  ``raise_for_failures``;
- :mod:`edgeq.profile.publish` — ``publish``: gates, reports, JUnit and tables in CI order;
- :mod:`edgeq.profile.terminal` — rich tables (``print_report``) and ``progress``.
"""

import sys as _sys
import types as _types


class _CallableModule(_types.ModuleType):
    """``edgeq.profile(...)`` is :func:`edgeq.profile.api.profile`, also after this package
    was imported (as ``edgeq.quantize`` is both a package and a function)."""

    def __call__(self, artifact_dir, **kwargs):
        from edgeq.profile.api import profile

        return profile(artifact_dir, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
