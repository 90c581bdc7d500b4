"""Publishing a profile run the way a CI step needs it: evaluate the gates, write the
reports (always, also when a gate fails), the JUnit XML and the terminal tables, then
raise :class:`~edgeq.errors.GateFailure` for a missed gate. It sits above both
:mod:`edgeq.profile.report` and :mod:`edgeq.profile.gates`, which do not import it."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from edgeq.profile.gates import Gate, evaluate, parse_gates, raise_for_failures, write_junit
from edgeq.profile.report import report_to_dict, write_reports
from edgeq.contracts import ProfileReport


def publish(report: ProfileReport, out_dir: str | Path, *, gates: Iterable = (),
            junit: str | Path | None = None, console=None, plot_format: str = "png"
            ) -> dict[str, Path]:
    """Gates, reports, JUnit and terminal summary in the order CI needs.

    The reports (and the JUnit file) are written before a failed gate raises
    :class:`~edgeq.errors.GateFailure`; pass ``console`` (a rich Console) to print the
    summary tables.
    """
    parsed = [g if isinstance(g, Gate) else parse_gates([g])[0] for g in gates]
    results = evaluate(report, parsed)
    data = report_to_dict(report, gates=results)
    paths = write_reports(data, out_dir, plot_format=plot_format)
    if junit is not None:
        paths["junit"] = write_junit(results, junit)
    if console is not None:
        from edgeq.profile.terminal import print_report

        print_report(data, console)
    raise_for_failures(results)
    return paths
