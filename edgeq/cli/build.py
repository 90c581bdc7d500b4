"""``edgeq build MODEL --target T --calib DATA [-o OUT]`` and ``edgeq build --config edgeq.yaml``.

Flags given on the command line override the config file: ``--target`` replaces
``targets``, ``--calib`` replaces ``calibration.dataset``, ``-o`` replaces ``output``,
the quantization flags override the ``quantization`` fields they name, and the
profiling flags (with ``--profile``) override ``profile.*``.
"""

from __future__ import annotations

from typing import Any

import click

from edgeq.cli.options import input_option, parse_input_specs, target_option
from edgeq.cli.profile import _kv, profile_kwargs, profile_options, run_profile

_IO = {"float": "float32", "float32": "float32", "int8": "int8", "uint8": "uint8"}


def _from_config(config) -> dict[str, Any]:
    """edgeq.build arguments from an edgeq.yaml (before the flags are applied)."""
    kw: dict[str, Any] = {"model": config.model.ref(),
                          "input_shapes": dict(config.model.inputs),
                          "targets": list(config.targets), "output_dir": config.output}
    opts = config.quantize_options()
    if config.calibration is not None:
        kw["calibration"] = config.calibration.dataset
    kw["quantize_options"] = opts
    # per_target keys are target (profile) names, as edgeq.build names its targets
    kw["per_target"] = {n: config.quantize_options(n) for n in config.quantization.per_target}
    return kw


def build_kwargs(model: str | None, config, flags: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`edgeq.build` from the config and the flags."""
    from edgeq.errors import UsageError

    kw = _from_config(config) if config is not None else {
        "model": None, "input_shapes": {}, "targets": [], "output_dir": "build",
        "quantize_options": {}, "per_target": {}}
    if model is not None:
        kw["model"] = model
    if kw["model"] is None:
        raise UsageError("give a MODEL (an .onnx file or zoo:NAME) or --config edgeq.yaml")
    kw["input_shapes"].update(parse_input_specs(flags["inputs"]))
    if flags["targets"]:
        kw["targets"] = list(flags["targets"])
    if not kw["targets"]:
        raise UsageError("no target: give --target NAME (see 'edgeq targets') or list targets "
                         "in edgeq.yaml")
    if flags["output"] is not None:
        kw["output_dir"] = flags["output"]
    if flags["calib"] is not None:
        kw["calibration"] = flags["calib"]
    if flags["calib_kind"]:
        kw["calibration_kind"] = flags["calib_kind"]
    if flags["calib_opt"]:
        kw["calibration_options"] = _kv(flags["calib_opt"], "--calib-opt")
    q = kw.pop("quantize_options")
    if flags["calib_samples"] is not None:
        q["num_samples"] = flags["calib_samples"]
    for flag, key in (("method", "method"), ("percentile", "percentile"), ("auto_mixed", "auto_mixed")):
        if flags[flag] is not None:
            q[key] = flags[flag]
    if flags["int16"]:
        q["int16"] = list(flags["int16"])
    if flags["float_node"]:
        q["float_nodes"] = list(flags["float_node"])
    kw.update(q)
    target_options = {}
    if flags["precision"]:
        target_options["precision"] = flags["precision"]
    if flags["io"]:
        target_options["io_dtype"] = _IO[flags["io"]]
    if target_options:
        kw["target_options"] = target_options
    if flags["layer_sqnr"] is not None:
        kw["layer_sqnr_samples"] = flags["layer_sqnr"]
    if not kw["per_target"]:
        kw.pop("per_target")
    return {k: v for k, v in kw.items() if v is not None}


def _summary(arts: dict[str, Any], console) -> None:
    import json

    from rich.markup import escape
    from rich.table import Table

    t = Table(title="edgeq build", title_justify="left")
    for col in ("target", "MB", "vs ONNX", "int16", "float", "calibration", "s"):
        t.add_column(col, justify="left" if col in ("target", "calibration") else "right")
    where = []
    for name, art in arts.items():
        rep = json.loads((art.path / "build_report.json").read_text())
        sizes, quant = rep["sizes"], rep.get("quantization") or {}
        ratio = sizes.get("ratio_to_source")
        calib = rep.get("calibration") or {}
        cached = "cached" if quant.get("timings", {}).get("calibration_cached") else "run"
        t.add_row(escape(name), f"{(sizes.get('model_bytes') or 0) / 1e6:.3f}",
                  f"{ratio:.3f}" if ratio else "-",
                  str(len(quant.get("int16_nodes", []))) if quant else "-",
                  str(len(rep["placement"].get("float_nodes", []))),
                  f"{calib.get('samples')} ({cached})" if calib else "-",
                  f"{rep['timings_s'].get('elapsed_s', 0):.1f}")
        where.append(f"{escape(name)}: {escape(str(art.path / (art.manifest.get('model_file') or '')))}")
    console.print(t)
    for line in where:
        console.print(line, soft_wrap=True)
    # target-specific findings a plugin puts in its manifest (docs/plugins.md, "The artifact")
    for name, art in arts.items():
        for note in art.manifest.get("build_notes") or []:
            console.print(f"{escape(name)}: {escape(str(note))}", soft_wrap=True)


def _per_target(kw: dict[str, Any], name: str, count: int) -> dict[str, Any]:
    """With several targets, each gets its own JUnit file (NAME-<target>.xml) and report
    directory (REPORT_DIR/<target>)."""
    from pathlib import Path

    kw = dict(kw)
    if count > 1:
        if kw.get("junit"):
            p = Path(kw["junit"])
            kw["junit"] = str(p.with_name(f"{p.stem}-{name}{p.suffix}"))
        if kw.get("report_dir"):
            kw["report_dir"] = str(Path(kw["report_dir"]) / name)
    return kw


@click.command("build", short_help="Calibrate, quantize and emit a model for one or more targets.")
@click.argument("model", metavar="MODEL", required=False)
@click.option("--config", "config_path", metavar="EDGEQ_YAML",
              help="Read model, calibration, quantization, targets and profile from an edgeq.yaml.")
@target_option
@click.option("--calib", metavar="DIR|zoo:NAME",
              help="Calibration data: a directory (images, .wav or .npy/.npz, detected from the "
                   "files' content) or zoo:NAME for the zoo's calibration split. Default for zoo "
                   "models: their own calibration split.")
@click.option("--calib-kind", metavar="KIND",
              help="Kind of --calib data (images, audio, npy, text) instead of detecting it.")
@click.option("--calib-opt", multiple=True, metavar="KEY=VALUE",
              help="Option of the calibration data set as in edgeq.yaml (e.g. mean=[0.5,0.5,0.5]), "
                   "repeatable. Defaults fit the model's input shape.")
@click.option("--calib-samples", type=click.IntRange(min=1), help="Calibration samples (default: all, at most 128).")
@click.option("-o", "--output", metavar="OUT", help="Output root; each target goes to OUT/<target>/ "
                                                     "(default: build).")
@input_option
@click.option("--method", type=click.Choice(["minmax", "percentile", "mse", "entropy"]),
              help="Activation range observer for int8 (default mse).")
@click.option("--percentile", type=float, help="Percentile kept by --method percentile.")
@click.option("--int16", multiple=True, metavar="REGEX", help="Nodes to run with int16 activations.")
@click.option("--auto-mixed", type=float, metavar="DB",
              help="Promote sensitive nodes to int16 until the output SQNR reaches DB.")
@click.option("--float-node", multiple=True, metavar="REGEX",
              help="Nodes to leave in float (where the target profile allows float fallback).")
@click.option("--precision", type=click.Choice(["int8", "fp16", "fp32"]),
              help="int8 (integer-only) or a float baseline.")
@click.option("--io", type=click.Choice(["float", "int8", "uint8"]),
              help="Model I/O: float with quantize/dequantize inside, or integer.")
@click.option("--layer-sqnr", type=click.IntRange(min=0), metavar="N",
              help="Calibration samples for the per-layer SQNR of the build report (default 2; 0 skips).")
@click.option("--profile", "do_profile", is_flag=True,
              help="Then profile every target and check the gates (exit 3 if one fails).")
@profile_options
def build(model: str | None, config_path: str | None, do_profile: bool, **flags: Any) -> None:
    """Build MODEL (an ONNX file, or zoo:NAME) for every --target: calibrate once,
    quantize, and write OUT/<target>/ with the model, manifest.json and build_report.json.
    A failed build leaves nothing behind. With --profile, each artifact is then profiled
    and gated as by 'edgeq profile'.
    """
    from rich.console import Console

    import edgeq.build as api
    from edgeq.errors import GateFailure

    config = None
    if config_path:
        from edgeq.config import load_config

        config = load_config(config_path)
    kw = build_kwargs(model, config, flags)
    pkw = profile_kwargs(flags, config) if do_profile else None  # bad flags fail before building
    console = Console()
    arts = api.build(kw.pop("model"), **kw)
    _summary(arts, console)
    if pkw is None:
        return
    failures = []
    for name, art in arts.items():
        console.rule(f"profile {name}")
        # the target's own entry of edgeq.yaml (gates, samples, runs) applies to it
        target_kw = profile_kwargs(flags, config, name) if config is not None else pkw
        try:
            run_profile(art.path, _per_target(target_kw, name, len(arts)), console)
        except GateFailure as exc:
            failures.append(f"{name}: {exc}")
    if failures:
        raise GateFailure("; ".join(failures))
