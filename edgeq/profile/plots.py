"""Report plots drawn with matplotlib and returned as ``data:`` URIs for embedding.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot), so no global
backend is touched and plotting works headless and from threads. Every function takes
the report dict (see :mod:`edgeq.profile.report_schema`) pieces it needs and returns
``None`` when there is nothing to plot.
"""

from __future__ import annotations

import base64
import io
from typing import Any, Mapping, Sequence

_PALETTE = ["#3b6ea8", "#d9822b", "#4d9a5b", "#b8474d", "#7d5ba6", "#8c6d46"]


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _uri(fig, fmt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110, bbox_inches="tight")
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.set_layout_engine("constrained")
    return fig


def latency_histogram(sections: Sequence[Mapping[str, Any]], fmt: str = "png") -> str | None:
    """Histogram of per-run latency samples, one colour per device, p50/p90 marked."""
    data = [(s["name"], s["latency"]) for s in sections
            if s.get("latency") and s["latency"].get("samples_ms")]
    if not data:
        return None
    fig = _figure(6.4, 3.4)
    ax = fig.add_subplot()
    for i, (name, lat) in enumerate(data):
        color = _PALETTE[i % len(_PALETTE)]
        samples = lat["samples_ms"]
        ax.hist(samples, bins=min(30, max(5, len(samples) // 2)), alpha=0.55, color=color,
                label=f"{name} (n={len(samples)})")
        ax.axvline(lat["p50_ms"], color=color, linestyle="-", linewidth=1.5)
        ax.axvline(lat["p90_ms"], color=color, linestyle="--", linewidth=1.2)
    ax.set_xlabel("latency per inference (ms)  — solid: p50, dashed: p90")
    ax.set_ylabel("runs")
    ax.set_title("Latency distribution")
    ax.legend(fontsize=8)
    return _uri(fig, fmt)


def layer_sqnr(per_layer: Sequence[Mapping[str, Any]], fmt: str = "png",
               limit: int = 60) -> str | None:
    """Horizontal bars of per-layer SQNR (dB) in graph order, worst layers highlighted."""
    rows = [(r["name"], r["sqnr_db"]) for r in per_layer if r.get("sqnr_db") is not None]
    if not rows:
        return None
    if len(rows) > limit:  # keep the worst layers, in graph order
        worst = set(sorted(range(len(rows)), key=lambda i: rows[i][1])[:limit])
        rows = [r for i, r in enumerate(rows) if i in worst]
    fig = _figure(6.4, max(2.2, 0.22 * len(rows) + 1.0))
    ax = fig.add_subplot()
    values = [v for _, v in rows]
    cut = sorted(values)[max(0, len(values) // 10 - 1)] if len(values) >= 10 else min(values)
    colors = [_PALETTE[3] if v <= cut else _PALETTE[0] for v in values]
    ax.barh(range(len(rows)), values, color=colors)
    ax.set_yticks(range(len(rows)), [n if len(n) <= 40 else "…" + n[-39:] for n, _ in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("SQNR vs FP32 (dB, higher is better)")
    ax.set_title("Per-layer SQNR")
    return _uri(fig, fmt)


def op_profile(ops: Sequence[Mapping[str, Any]], fmt: str = "png", top: int = 15) -> str | None:
    """The slowest operators (average ms per inference)."""
    rows = sorted((op for op in ops if op.get("avg_ms") is not None), key=lambda o: -o["avg_ms"])[:top]
    if not rows:
        return None
    fig = _figure(6.4, max(2.0, 0.25 * len(rows) + 1.0))
    ax = fig.add_subplot()
    labels = [f"{o['node_type']} {o['name'][-30:]}" for o in rows]
    ax.barh(range(len(rows)), [o["avg_ms"] for o in rows], color=_PALETTE[1])
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("average time per inference (ms)")
    ax.set_title(f"Slowest operators (top {len(rows)})")
    return _uri(fig, fmt)


def comparison(comp: Mapping[str, Any] | None, fmt: str = "png") -> str | None:
    """Baseline (e.g. FP32) vs candidate (int8): p50 latency and model size side by side."""
    if not comp:
        return None
    b, c = comp["baseline"], comp["candidate"]
    panels = [(key, title) for key, title in (("latency_p50_ms", "p50 latency (ms)"), ("size_mb", "size (MB)"))
              if b.get(key) is not None and c.get(key) is not None]
    if not panels:
        return None
    fig = _figure(3.2 * len(panels), 3.0)
    for i, (key, title) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        vals = [b[key], c[key]]
        bars = ax.bar([b["label"], c["label"]], vals, color=[_PALETTE[0], _PALETTE[2]])
        ax.bar_label(bars, labels=[f"{v:.3g}" for v in vals], fontsize=8)
        ax.set_title(title)
    return _uri(fig, fmt)
