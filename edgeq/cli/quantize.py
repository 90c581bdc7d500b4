"""``edgeq quantize MODEL --calib DATA [--method mse] [--int16 REGEX] [--auto-mixed SQNR_DB] -o model.edgeq``."""

from __future__ import annotations

import json

import click

from edgeq.cli._quantcommon import (collect_options, data_options, dataset, load_model, quant_options,
                                    spec_for)
from edgeq.cli.options import json_option


@click.command("quantize", short_help="Calibrate and quantize a model to integer arithmetic.")
@click.argument("model", metavar="MODEL")
@click.option("--calib", "calib", required=True, metavar="DIR|zoo:NAME",
              help="Calibration data: a directory (images, .wav, .npy/.npz) or zoo:NAME.")
@click.option("--auto-mixed", "auto_mixed", metavar="SQNR_DB|cosine:C[,min:V]",
              help="Promote the most sensitive layers to int16 until the output SQNR (dB) or "
                   "mean cosine on the calibration data reaches this budget; ',min:V' also "
                   "bounds the worst sample.")
@click.option("-o", "--output", "output", required=True, metavar="PATH",
              help="Where to write the quantized model (.edgeq zip, or a directory).")
@quant_options
@data_options
@json_option
def quantize(model, calib, auto_mixed, output, inputs, samples, calib_kind, as_json, **kw) -> None:
    """Calibrate MODEL (ONNX file or zoo:NAME) on --calib data and write the quantized
    model. Statistics are cached, so re-running with another --method or --int16 choice
    does not run the float model again."""
    import edgeq

    m = load_model(model, inputs)
    ds = dataset(calib, m.graph, split="calib", kind=calib_kind, samples=samples, what="calibration data")
    options = collect_options(kw)
    if auto_mixed:
        from edgeq.quantize.algorithms.mixed import Budget

        options["auto_mixed"] = Budget.parse(auto_mixed)
    qm = edgeq.quantize(m, ds, spec=spec_for(kw.get("target")), progress=not as_json, **options)
    path = qm.save(output)
    if as_json:
        click.echo(json.dumps({"output": str(path), **qm.report}, indent=2, default=str))
    else:
        render(qm, path)


def render(qm, path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    r = qm.report
    precision: dict[str, int] = {}
    for n in qm.graph.nodes:
        t = qm.graph.tensors.get(n.outputs[0]) if n.outputs and n.outputs[0] else None
        kind = "float" if t is None or t.dtype.kind == "f" else t.dtype.name
        precision[kind] = precision.get(kind, 0) + 1
    # the model's name (its file), not the ONNX graph's internal name ("paddle-onnx" …)
    name = (qm.source or {}).get("name") or qm.graph.name
    table = Table(title=f"quantized {escape(str(name))} ({escape(r.get('spec', ''))})")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("calibration samples", str(r.get("calibration_samples")))
    table.add_row("method", str(r.get("options", {}).get("method")))
    for kind, count in sorted(precision.items()):
        table.add_row(f"nodes writing {kind}", str(count))
    table.add_row("int16 nodes (16x8)", str(len(r.get("int16_nodes", []))))
    table.add_row("GPTQ-rounded weights", str(r.get("gptq_weights", 0)))
    table.add_row("equalized layer pairs", str(len(r.get("equalized", {}))))
    t = r.get("timings", {})
    table.add_row("calibration", f"{t.get('calibration_s', 0):.1f} s" + (" (cached)" if t.get("calibration_cached") else ""))
    table.add_row("total", f"{t.get('total_s', 0):.1f} s")
    console.print(table)
    auto = r.get("auto_mixed")
    if auto:
        state = "met" if auto.get("met") else "NOT met"
        console.print(f"auto mixed precision: budget {auto['budget']} {state} "
                      f"(score {auto.get('score', float('nan')):.4g}, {len(auto.get('promoted', []))} node(s) promoted)")
    if r.get("float_nodes"):
        ft = Table(title="nodes left in float")
        for col in ("node", "op", "reason"):
            ft.add_column(col)
        for e in r["float_nodes"]:
            ft.add_row(escape(e["node"]), e["op_type"], escape(e["reason"]))
        console.print(ft)
    console.print(f"wrote {escape(str(path))}")
