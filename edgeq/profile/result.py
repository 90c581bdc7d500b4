"""What :func:`edgeq.profile` returns: the runner's :class:`~edgeq.contracts.ProfileReport`
with the gate results and the paths of the reports written, and the forms the CLI
writes (``report.json``, ``report.md``, ``report.html``) on demand.

::

    rep = edgeq.profile("build/tflite", data="eval/", gates=["top1_agreement>=0.9"])
    rep.accuracy["sqnr_db"], rep.latency.p50_ms
    rep.passed                      # every gate passed
    rep.to_json()                   # the report.json text (schema: edgeq.profile.report_schema)
    rep.to_html("report.html")      # a self-contained HTML page, plots embedded
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from edgeq.contracts import ProfileReport


@dataclass
class ProfileResult(ProfileReport):
    """A profile run: every ProfileReport field, plus ``gates`` (GateResult per gate and
    section, in order) and ``paths`` (report format -> file written)."""

    gates: list[Any] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def from_report(cls, report: ProfileReport, gates=(), paths=None) -> "ProfileResult":
        values = {f.name: getattr(report, f.name) for f in fields(ProfileReport)}
        return cls(**values, gates=list(gates), paths=dict(paths or {}))

    @property
    def passed(self) -> bool:
        """True when every gate passed (and when there were none)."""
        return all(g.passed for g in self.gates)

    def to_dict(self) -> dict[str, Any]:
        """The report.json document, validated against its schema."""
        from edgeq.profile.report import report_to_dict
        from edgeq.profile.report_schema import validate_report

        data = report_to_dict(self, gates=self.gates)
        validate_report(data, source="report")
        return data

    def to_json(self, path: str | Path | None = None) -> str:
        """The report.json text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_markdown(self) -> str:
        from edgeq.profile.report_md import render_markdown

        return render_markdown(self.to_dict())

    def to_html(self, path: str | Path, *, plot_format: str = "png") -> Path:
        """Write the self-contained HTML report (plots embedded) to ``path``; returns it."""
        from edgeq.profile.report_html import render_html

        path = Path(path)
        path.write_text(render_html(self.to_dict(), plot_format=plot_format))
        return path
