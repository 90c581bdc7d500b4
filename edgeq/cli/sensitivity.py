"""``edgeq sensitivity MODEL --calib DATA``: per-layer SQNR with only that layer quantized."""

from __future__ import annotations

import json

import click

from edgeq.cli._quantcommon import collect_options, data_options, dataset, load_model, quant_options, spec_for
from edgeq.cli.options import json_option


@click.command("sensitivity", short_help="Rank layers by their quantization sensitivity.")
@click.argument("model", metavar="MODEL")
@click.option("--calib", "calib", required=True, metavar="DIR|zoo:NAME", help="Calibration data.")
@click.option("--eval-samples", "eval_samples", type=int, default=8, show_default=True,
              help="Samples used to score each layer.")
@click.option("--top", type=int, default=20, show_default=True, help="Rows to show.")
@quant_options
@data_options
@json_option
def sensitivity(model, calib, eval_samples, top, inputs, samples, calib_kind, as_json, **kw) -> None:
    """Quantize MODEL, then score every layer alone (weights and output activations
    quantized, everything else float): the output SQNR in dB, most sensitive first.
    The layers at the top are the ones --int16 or --auto-mixed should promote."""
    import edgeq

    m = load_model(model, inputs)
    ds = dataset(calib, m.graph, split="calib", kind=calib_kind, samples=samples, what="calibration data")
    result = edgeq.sensitivity(m, ds, spec=spec_for(kw.get("target")), samples=eval_samples,
                               progress=not as_json, **collect_options(kw))
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=float))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from edgeq.provenance import describe

    Console().print(f"data: {escape(describe(result.data))}\ncompares: {result.compares}\n"
                    f"all layers quantized: {result.simulator_db:.2f} dB in the integer simulator "
                    f"(what edgeq compare and edgeq profile report on these samples), "
                    f"{result.all_int8_db:.2f} dB in fake-quant")
    t = Table(title=f"layer sensitivity ({result.samples} calibration samples, fake-quant, one "
                    "layer quantized at a time)")
    for col in ("#", "SQNR dB", "op", "nodes", "layer"):
        t.add_column(col, justify="right" if col in ("#", "SQNR dB", "nodes") else "left")
    for i, (layer, op, nodes, db) in enumerate(result.rows[:top], 1):
        t.add_row(str(i), f"{db:.2f}", op, str(nodes), escape(layer))
    Console().print(t)
