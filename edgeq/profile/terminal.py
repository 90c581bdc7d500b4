"""Terminal output: rich tables of a report, and progress bars for long runs.

:func:`progress` is the one progress-bar helper of edgeq (calibration, builds, device
runs): it draws on stderr only when stderr is a terminal, so logs and CI output stay
clean, and it is a no-op otherwise.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator, Mapping

from edgeq.profile.report_md import (GATE_HEADER, OP_HEADER, comparison_rows, device_rows, gate_rows,
                                     op_rows, summary_rows)


def print_report(data: Mapping[str, Any], console=None) -> None:
    """Print the summary, comparison, gates and op-profile tables of a report dict."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(stderr=True)
    secs = data["sections"]
    t = Table(title=f"edgeq profile — {data['target']} on {data['runner']}", title_justify="left")
    t.add_column("metric")
    for s in secs:
        t.add_column(s["name"], justify="right")
    for label, vals in summary_rows(secs, data):
        t.add_row(label, *vals)
    console.print(t)
    extra = secs[0].get("extra") or {} if secs else {}
    if extra.get("evaluation_data"):
        from rich.markup import escape

        from edgeq.provenance import describe

        cal = extra.get("calibration") or {}
        console.print(f"data: {escape(describe(extra['evaluation_data']))}\n"
                      f"compares: {escape(str(extra.get('compares', '')))}\n"
                      f"calibration: {cal.get('samples', '?')} samples (fingerprint "
                      f"{str(cal.get('fingerprint'))[:8]})")
    for s in secs:
        if s.get("device") and len(secs) == 1:
            d = Table(title="device", title_justify="left", show_header=False)
            d.add_column("fact")
            d.add_column("value")
            for k, v in device_rows(s["device"])[:7]:
                d.add_row(k, v)
            console.print(d)
        if s.get("op_profile"):
            o = Table(title=f"slowest operators — {s['name']}", title_justify="left")
            for h in OP_HEADER:
                o.add_column(h, justify="right" if h in ("#", "avg ms", "%", "first ms") else "left")
            for row in op_rows(s["op_profile"], top=10):
                o.add_row(*row)
            console.print(o)
    comp = data.get("comparison")
    if comp:
        c = Table(title=f"{comp['baseline']['label']} vs {comp['candidate']['label']}", title_justify="left")
        for h in ("", comp["baseline"]["label"], comp["candidate"]["label"]):
            c.add_column(h, justify="right")
        for row in comparison_rows(comp):
            c.add_row(*row)
        console.print(c)
    if data.get("gates"):
        g = Table(title="gates", title_justify="left")
        for h in GATE_HEADER:
            g.add_column(h)
        from rich.markup import escape as _escape

        for row in gate_rows(data["gates"]):
            style = "green" if row[-1] == "pass" else "bold red"
            # escaped: a per-output gate's "[output]" is not rich markup
            g.add_row(*(_escape(c) for c in row[:-1]), f"[{style}]{row[-1]}[/]")
        console.print(g)


@contextlib.contextmanager
def progress(description: str, total: int | None, *, enabled: bool | None = None
             ) -> Iterator[Callable[[int], None]]:
    """``with progress("runs on R5CT…", total=n) as advance: … advance(1)``."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)
