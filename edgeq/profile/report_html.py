"""``report.html``: one self-contained file (inline CSS, plots as base64 ``data:`` images,
no external resources) that opens in any browser, also offline and from CI artifacts.

Sections: gates, summary (one column per device), FP32 vs int8 comparison, latency
histogram, and per device its facts, accuracy table, per-layer SQNR and operator
profile. Every plot is an ``<img class="plot">``; a small inline script records each
image's decoded width in ``data-decoded`` on page load, so a headless browser can
check that the plots really decode.
"""

from __future__ import annotations

import html
from typing import Any, Mapping, Sequence

from edgeq.profile import plots
from edgeq.profile.report_md import (GATE_HEADER, OP_HEADER, OUTPUT_HEADER, comparison_rows, device_rows,
                                     gate_rows, op_rows, output_rows, summary_rows)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d232b;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #d5dbe3;padding-bottom:.2rem;margin-top:2rem}
.meta{color:#5a6573;font-size:.9rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #d5dbe3;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f1f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#1e7b34;font-weight:600}.fail{color:#b3261e;font-weight:700}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:1rem;color:#fff;font-weight:600}
.badge.pass{background:#1e7b34;color:#fff}.badge.fail{background:#b3261e;color:#fff}
img.plot{max-width:100%;height:auto;display:block;margin:.6rem 0;border:1px solid #eef1f5}
.note{color:#5a6573;font-style:italic}
"""

_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img.plot'), ok = 0;
  imgs.forEach(function (img) {
    img.setAttribute('data-decoded', String(img.naturalWidth));
    if (img.naturalWidth > 0) { ok += 1; }
  });
  document.body.setAttribute('data-plots-decoded', ok + '/' + imgs.length);
});
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for c in row:
            c = str(c)
            kind = "pass" if c == "pass" else "fail" if c == "FAIL" else \
                "num" if c[:1].isdigit() or c[:1] in "-+" else ""
            cells.append(f'<td class="{kind}">{_e(c)}</td>' if kind else f"<td>{_e(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _img(uri: str | None, alt: str, ident: str) -> str:
    if uri is None:
        return ""
    return f'<img class="plot" id="{_e(ident)}" alt="{_e(alt)}" src="{uri}">'


def render_html(data: Mapping[str, Any], *, plot_format: str = "png") -> str:
    if plot_format not in ("png", "svg"):
        raise ValueError(f"plot_format must be 'png' or 'svg', not {plot_format!r}")
    secs = data["sections"]
    can_plot = plots.available()
    title = f"edgeq profile — {data['target']} on {data['runner']}"
    parts = [f"<h1>{_e(title)}</h1>",
             f'<p class="meta">Generated {_e(data["created_utc"])} by edgeq {_e(data["edgeq_version"])}'
             f' · report schema v{_e(data["schema_version"])}</p>']
    if not can_plot:
        parts.append('<p class="note">Plots are missing: install matplotlib '
                     '(pip install matplotlib) and regenerate the report.</p>')
    art = data.get("artifact") or {}
    if art:
        parts.append("<h2>Artifact</h2>" + _table(["artifact", "value"], [
            [k, v] for k, v in art.items() if not isinstance(v, (dict, list))]))
    gates = data.get("gates") or []
    if gates:
        failed = sum(not g["passed"] for g in gates)
        badge = ('<span class="badge pass">all gates passed</span>' if not failed
                 else f'<span class="badge fail">{failed} gate check(s) failed</span>')
        parts.append(f'<h2 id="gates">Gates</h2><p>{badge}</p>' + _table(GATE_HEADER, gate_rows(gates)))
    parts.append('<h2 id="summary">Summary</h2>' + _table(
        ["metric"] + [s["name"] for s in secs], [[label, *vals] for label, vals in summary_rows(secs, data)]))
    comp = data.get("comparison")
    if comp:
        parts.append(f'<h2 id="comparison">{_e(comp["baseline"]["label"])} vs '
                     f'{_e(comp["candidate"]["label"])}</h2>')
        parts.append(_table(["", comp["baseline"]["label"], comp["candidate"]["label"]], comparison_rows(comp)))
        if can_plot:
            parts.append(_img(plots.comparison(comp, plot_format), "latency and size comparison",
                              "plot-comparison"))
    if can_plot and any((s.get("latency") or {}).get("samples_ms") for s in secs):
        parts.append('<h2 id="latency">Latency</h2>')
        parts.append(_img(plots.latency_histogram(secs, plot_format), "latency histogram",
                          "plot-latency"))
    for i, s in enumerate(secs):
        parts.append(f'<h2 id="section-{i}">{_e(s["name"])}</h2>')
        if s.get("device"):
            parts.append("<h3>Device</h3>" + _table(["fact", "value"], device_rows(s["device"])))
        acc = s.get("accuracy") or {}
        if acc.get("outputs"):
            parts.append(f"<h3>Accuracy vs {_e(acc.get('reference') or 'reference')} "
                         f"({_e(acc.get('samples'))} samples)</h3>")
            parts.append(_table(OUTPUT_HEADER, output_rows(acc)))
        if acc.get("per_layer") and can_plot:
            parts.append("<h3>Per-layer SQNR</h3>")
            parts.append(_img(plots.layer_sqnr(acc["per_layer"], plot_format), "per-layer SQNR",
                              f"plot-sqnr-{i}"))
        if s.get("op_profile"):
            parts.append("<h3>Operator profile</h3>")
            if can_plot:
                parts.append(_img(plots.op_profile(s["op_profile"], plot_format), "slowest operators",
                                  f"plot-ops-{i}"))
            parts.append(_table(OP_HEADER, op_rows(s["op_profile"])))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(p for p in parts if p)
            + f"\n<script>{_SCRIPT}</script>\n</body></html>\n")
