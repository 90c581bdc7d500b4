"""Helpers shared by ``edgeq quantize``, ``edgeq compare`` and ``edgeq sensitivity``:
loading a model (path or ``zoo:NAME``), turning ``--calib``/``--data`` into a dataset,
``--target`` into a QuantSpec, and the quantization flags into options."""

from __future__ import annotations

import click

from edgeq.cli.options import input_option, parse_input_specs


def load_model(model: str, inputs: tuple[str, ...]):
    import edgeq

    shapes = parse_input_specs(inputs)
    if model.startswith("zoo:"):
        from edgeq import zoo

        model = str(zoo.get(model[len("zoo:"):]))
    return edgeq.load(model, input_shapes=shapes or None)


def dataset(data: str, graph, *, split: str, kind: str | None, samples: int | None, what: str):
    from edgeq.data import resolve as datasource

    ds = datasource.resolve(data, graph, split=split, kind=kind, num_samples=samples,
                            what=what)
    ds.validate(graph)
    return ds


def spec_for(target: str | None):
    if not target:
        return None
    from edgeq.targets import get_target

    return get_target(target).spec


def data_options(func):
    func = click.option("--calib-kind", "calib_kind", metavar="KIND",
                        help="Kind of the data (images, audio, npy, text) instead of detecting it.")(func)
    func = click.option("--samples", "samples", type=int, metavar="N",
                        help="Use N samples of the data (seeded subset).")(func)
    return input_option(func)


def quant_options(func):
    """Flags mapping onto :class:`edgeq.quantize.options.QuantizeOptions`."""
    opts = [
        click.option("--method", default=None, metavar="NAME",
                     help="Activation range method: mse (default), percentile, minmax, entropy."),
        click.option("--percentile", type=float, default=None, help="Percentile for --method percentile."),
        click.option("--int16", "int16", multiple=True, metavar="REGEX",
                     help="Run nodes whose name (or output) matches REGEX with int16 activations (repeatable)."),
        click.option("--int16-op", "int16_ops", multiple=True, metavar="OP",
                     help="Run every node of op type OP with int16 activations (repeatable)."),
        click.option("--float-node", "float_nodes", multiple=True, metavar="REGEX",
                     help="Leave matching nodes in float (only if the target allows it)."),
        click.option("--weight-rounding", type=click.Choice(["gptq", "nearest"]), default=None,
                     help="Weight rounding (default gptq)."),
        click.option("--no-bias-correction", "no_bias_correction", is_flag=True,
                     help="Disable empirical bias correction."),
        click.option("--no-equalize", "no_equalize", is_flag=True,
                     help="Disable cross-layer equalization."),
        click.option("--target", "target", metavar="NAME|PROFILE.yaml",
                     help="Quantize under this target's constraints (default: TFLite int8)."),
        click.option("--no-cache", "no_cache", is_flag=True, help="Do not read or write cached statistics."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def collect_options(kw: dict) -> dict:
    out = {}
    for key in ("method", "percentile", "weight_rounding"):
        if kw.get(key) is not None:
            out[key] = kw[key]
    for key in ("int16", "int16_ops", "float_nodes"):
        if kw.get(key):
            out[key] = list(kw[key])
    if kw.get("no_bias_correction"):
        out["bias_correction"] = False
    if kw.get("no_equalize"):
        out["equalize"] = False
    if kw.get("no_cache"):
        out["use_cache"] = False
    return out
