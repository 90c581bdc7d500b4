"""``report.md``: the report as GitHub-flavoured Markdown tables, and the row builders
shared with the HTML and terminal renderers (so all three show the same numbers)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

MISSING = "—"


def fmt(value: Any, digits: int = 4) -> str:
    """A compact human string for a report value."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def summary_rows(sections: Sequence[Mapping[str, Any]], data: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """(metric label, one value per section) rows of the summary table."""
    def lat(s, k):
        return (s.get("latency") or {}).get(k)

    def acc(s, k):
        return (s.get("accuracy") or {}).get(k)

    rows = [
        ("latency p50 (ms)", [fmt(lat(s, "p50_ms")) for s in sections]),
        ("latency p90 (ms)", [fmt(lat(s, "p90_ms")) for s in sections]),
        ("latency mean ± std (ms)", [f"{fmt(lat(s, 'mean_ms'))} ± {fmt(lat(s, 'std_ms'), 2)}"
                                     if lat(s, "mean_ms") is not None else MISSING for s in sections]),
        ("latency min / max (ms)", [f"{fmt(lat(s, 'min_ms'))} / {fmt(lat(s, 'max_ms'))}"
                                    if lat(s, "min_ms") is not None else MISSING for s in sections]),
        ("runs", [fmt(lat(s, "runs")) for s in sections]),
        ("load / init (ms)", [fmt(lat(s, "load_ms")) for s in sections]),
        ("peak memory (MB)", [fmt(s.get("peak_memory_mb")) for s in sections]),
        ("model size (MB)", [fmt((data.get("artifact") or {}).get("size_mb")) for _ in sections]),
        ("eval samples", [fmt(acc(s, "samples")) for s in sections]),
        ("top-1 agreement", [fmt(acc(s, "top1_agreement")) for s in sections]),
        ("SQNR (dB, worst output)", [fmt(acc(s, "sqnr_db")) for s in sections]),
        ("cosine mean / min", [f"{fmt(acc(s, 'cosine_mean'), 6)} / {fmt(acc(s, 'cosine_min'), 6)}"
                               if acc(s, "cosine_mean") is not None else MISSING for s in sections]),
        ("max abs error", [fmt(acc(s, "max_abs_error")) for s in sections]),
    ]
    return [r for r in rows if any(v != MISSING and v != f"{MISSING} / {MISSING}" for v in r[1])]


def device_rows(device: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    if not device:
        return []
    rows = [(k, fmt(device.get(k))) for k in ("serial", "kind", "model", "soc", "abi", "os_version")]
    rows += [(k, fmt(v)) for k, v in sorted((device.get("extra") or {}).items())]
    return [r for r in rows if r[1] != MISSING]


def output_rows(accuracy: Mapping[str, Any]) -> list[list[str]]:
    return [[name, fmt(v.get("sqnr_db")), fmt(v.get("cosine_mean"), 6), fmt(v.get("cosine_min"), 6),
             fmt(v.get("max_abs_error")), fmt(v.get("mean_abs_error")), fmt(v.get("top1_agreement"))]
            for name, v in (accuracy.get("outputs") or {}).items()]


OUTPUT_HEADER = ["output", "SQNR (dB)", "cosine mean", "cosine min", "max abs err", "mean abs err", "top-1"]
OP_HEADER = ["#", "node type", "name", "avg ms", "%", "first ms"]
GATE_HEADER = ["gate", "device", "value", "result"]


def op_rows(ops: Sequence[Mapping[str, Any]], top: int = 20) -> list[list[str]]:
    rows = sorted(ops, key=lambda o: -(o.get("avg_ms") or 0.0))[:top]
    return [[fmt(o.get("index")), o["node_type"], o["name"], fmt(o.get("avg_ms")), fmt(o.get("percent"), 3),
             fmt(o.get("first_ms"))] for o in rows]


def gate_rows(gates: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    return [[g["expr"], g.get("section") or "", fmt(g.get("value")), "pass" if g["passed"] else "FAIL"]
            for g in gates]


def comparison_rows(comp: Mapping[str, Any]) -> list[list[str]]:
    b, c = comp["baseline"], comp["candidate"]
    rows = [["p50 latency (ms)", fmt(b.get("latency_p50_ms")), fmt(c.get("latency_p50_ms"))],
            ["mean latency (ms)", fmt(b.get("latency_mean_ms")), fmt(c.get("latency_mean_ms"))],
            ["peak memory (MB)", fmt(b.get("peak_memory_mb")), fmt(c.get("peak_memory_mb"))],
            ["size (MB)", fmt(b.get("size_mb")), fmt(c.get("size_mb"))],
            ["speed-up", "", fmt(comp.get("speedup"), 3)],
            ["size ratio", "", fmt(comp.get("size_ratio"), 3)]]
    paired = comp.get("paired")
    if paired:
        q1, q3 = paired["speedup_iqr"]
        rows.insert(5, ["speed-up spread (IQR)", "", f"{fmt(q1, 3)}-{fmt(q3, 3)}"])
        clock = f", ratios of {paired['clock']}" if paired.get("clock") else ""
        rows.append(["timing", f"{paired['rounds']} interleaved rounds of {paired['runs_per_block']} runs{clock}",
                     f"noise (CV) {fmt(paired.get('baseline_cv'), 2)} / {fmt(paired.get('candidate_cv'), 2)}"])
        load = paired.get("load_average_before"), paired.get("load_average_after")
        if load[0] is not None:
            rows.append(["host load (1 min)", fmt(load[0], 2), fmt(load[1], 2)])
    return rows


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_markdown(data: Mapping[str, Any]) -> str:
    secs = data["sections"]
    art = data.get("artifact") or {}
    out = [f"# edgeq profile report — {data['target']} on {data['runner']}\n",
           f"Generated {data['created_utc']} by edgeq {data['edgeq_version']} "
           f"(report schema v{data['schema_version']}).\n"]
    if art:
        out.append(table(["artifact", "value"], [[k, fmt(v)] for k, v in art.items()
                                                 if not isinstance(v, (dict, list))]))
    if data.get("gates"):
        failed = sum(not g["passed"] for g in data["gates"])
        out.append(f"\n## Gates — {'all passed' if not failed else f'{failed} failed'}\n")
        out.append(table(GATE_HEADER, gate_rows(data["gates"])))
    out.append("\n## Summary\n")
    out.append(table(["metric"] + [s["name"] for s in secs],
                     [[label, *vals] for label, vals in summary_rows(secs, data)]))
    if data.get("comparison"):
        comp = data["comparison"]
        out.append(f"\n## {comp['baseline']['label']} vs {comp['candidate']['label']}\n")
        out.append(table(["", comp["baseline"]["label"], comp["candidate"]["label"]], comparison_rows(comp)))
    for s in secs:
        out.append(f"\n## {s['name']}\n")
        if s.get("device"):
            out.append("\n### Device\n")
            out.append(table(["fact", "value"], device_rows(s["device"])))
        acc = s.get("accuracy") or {}
        if acc.get("outputs"):
            out.append(f"\n### Accuracy vs {acc.get('reference') or 'reference'} "
                       f"({fmt(acc.get('samples'))} samples)\n")
            out.append(table(OUTPUT_HEADER, output_rows(acc)))
        if acc.get("per_layer"):
            worst = sorted((r for r in acc["per_layer"] if r.get("sqnr_db") is not None),
                           key=lambda r: r["sqnr_db"])[:10]
            out.append("\n### Per-layer SQNR (10 worst)\n")
            out.append(table(["layer", "SQNR (dB)"], [[r["name"], fmt(r["sqnr_db"])] for r in worst]))
        if s.get("op_profile"):
            out.append("\n### Operator profile (slowest 20)\n")
            out.append(table(OP_HEADER, op_rows(s["op_profile"])))
    return "\n".join(out)
