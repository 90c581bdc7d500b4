"""``edgeq compare MODEL QMODEL --data EVAL``: per-output and per-layer error tables."""

from __future__ import annotations

import json

import click

from edgeq.cli._quantcommon import data_options, dataset, load_model
from edgeq.cli.options import json_option


@click.command("compare", short_help="Compare a quantized model with its float model.")
@click.argument("model", metavar="MODEL")
@click.argument("qmodel", metavar="QMODEL")
@click.option("--data", "data", required=True, metavar="DIR|zoo:NAME",
              help="Evaluation data (a directory or zoo:NAME, the zoo's eval split by default).")
@click.option("--task", type=click.Choice(["classification", "probability", "embedding"]), default=None,
              help="Output kind for the task metrics (detected from the outputs by default).")
@click.option("--layers", "layers", type=int, default=15, show_default=True,
              help="Show the N layers with the lowest SQNR (0: skip per-layer analysis).")
@data_options
@json_option
def compare(model, qmodel, data, task, layers, inputs, samples, calib_kind, as_json) -> None:
    """Run MODEL (float, onnxruntime) and QMODEL (integer simulator) on --data and print
    SQNR, cosine, errors and task metrics per output, and the least accurate layers."""
    import edgeq
    from edgeq.quantize.api import QuantizedModel

    m = load_model(model, inputs)
    qm = QuantizedModel.load(qmodel)
    ds = dataset(data, m.graph, split="eval", kind=calib_kind, samples=samples, what="evaluation data")
    labels = _labels(data, samples)
    rep = edgeq.compare(m, qm, ds, labels=labels, task=task, per_layer=layers > 0,
                        progress=not as_json)
    if as_json:
        click.echo(json.dumps(rep.to_dict(), indent=2, default=float))
        return
    render(rep, layers)


def _labels(data: str, samples):
    if isinstance(data, str) and data.startswith("zoo:"):
        from edgeq import zoo

        name, _, split = data[4:].partition(":")
        return zoo.labels(name, split or "eval", n=samples)
    return None


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 1000 else f"{v:.3g}"
    return str(v)


def render(rep, layers: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    keys = []
    for r in rep.outputs.values():
        keys += [k for k in r if k not in keys]
    from edgeq.provenance import describe

    cal = rep.calibration or {}
    console.print(f"data: {escape(describe(rep.data))}\ncompares: {rep.compares}\n"
                  f"quantized model: spec {escape(str(cal.get('spec')))}, calibrated on "
                  f"{cal.get('samples')} samples (fingerprint {str(cal.get('fingerprint'))[:8]})")
    t = Table(title=f"outputs ({rep.samples} samples)")
    t.add_column("metric")
    for name in rep.outputs:
        t.add_column(escape(name), justify="right")
    for k in keys:
        t.add_row(k.replace("_", " "), *[_fmt(r.get(k, "")) for r in rep.outputs.values()])
    console.print(t)
    if layers and rep.layers:
        lt = Table(title=f"{layers} least accurate layers (SQNR of the integer tensor vs float)")
        for col in ("SQNR dB", "op", "dtype", "node", "tensor"):
            lt.add_column(col, justify="right" if col == "SQNR dB" else "left")
        for tensor, node, op, dtype, sqnr in rep.worst_layers(layers):
            lt.add_row(f"{sqnr:.2f}", op, dtype, escape(node), escape(tensor))
        console.print(lt)
