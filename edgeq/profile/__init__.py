"""Profiling results: latency statistics, accuracy metrics, reports and gates.

- :mod:`edgeq.profile.benchmark_model` — parse TFLite's ``benchmark_model`` output;
- :mod:`edgeq.profile.stats` — latency helpers (``latency_from_benchmark`` …);
- :mod:`edgeq.profile.accuracy` — ``compare_outputs`` / ``attach_accuracy`` vs FP32;
- :mod:`edgeq.profile.report` — ``report_to_dict``, ``write_reports``, ``publish``,
  ``combine``, ``attach_baseline``, ``load_report`` (schema in ``report_schema``);
- :mod:`edgeq.profile.gates` — ``parse_gates``, ``evaluate``, ``write_junit``,
  ``raise_for_failures``;
- :mod:`edgeq.profile.terminal` — rich tables (``print_report``) and ``progress``.
"""
