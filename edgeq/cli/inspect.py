"""``edgeq inspect MODEL``: what edgeq sees in a model, before anything is quantized."""

from __future__ import annotations

import json

import click

from edgeq.cli.options import input_option, json_option, parse_input_specs


@click.command("inspect", short_help="Show a model's (or a built artifact's) inputs, outputs, ops and more.")
@click.argument("model", metavar="MODEL")
@input_option
@json_option
def inspect(model: str, inputs: tuple[str, ...], as_json: bool) -> None:
    """Print MODEL's inputs and outputs (shapes, dtypes), its op histogram after
    canonicalisation, parameter count and bytes, MACs, every node edgeq's float
    interpreter cannot run, by name, and, for each installed target, how many nodes it
    can run in integer arithmetic and which ones it cannot, and why.

    MODEL is an ONNX file. Inputs with dynamic dimensions need --input NAME:SHAPE.
    MODEL may also be an artifact directory written by 'edgeq build': its target reads
    it back, checking every file, and prints what the model files hold.
    """
    from pathlib import Path

    import edgeq

    if Path(model).is_dir():
        if inputs:
            from edgeq.errors import UsageError

            raise UsageError(f"{model}: --input applies to ONNX models, not to a built artifact")
        summary = read_artifact_dir(Path(model))
        if as_json:
            click.echo(json.dumps(summary, indent=2, default=str))
        else:
            render_artifact(summary)
        return
    shapes = parse_input_specs(inputs)  # malformed --input fails before loading anything
    loaded = edgeq.load(model, input_shapes=shapes or None)
    summary = loaded.summary()
    if not summary["unsupported_nodes"]:
        from edgeq.placement import integer_placement

        summary["targets"] = integer_placement(loaded.graph)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        render(summary)


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape) if shape else "scalar"


def _count(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n:,} ({n / size:.2f}{unit})"
    return f"{n:,}"


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n:,} ({n / size:.2f} {unit})"
    return f"{n:,} B"


def render(summary: dict) -> None:
    """Rich tables for a ``Model.summary()`` dict."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    title = summary.get("name") or "model"
    console.print(f"[bold]{escape(title)}[/bold]  {escape(str(summary.get('path') or ''))}")
    console.print(f"opset {summary.get('opset')}  sha256 {str(summary.get('sha256') or '')[:16]}…")

    io = Table(title="inputs and outputs")
    for col in ("", "name", "shape", "dtype"):
        io.add_column(col)
    for kind in ("inputs", "outputs"):
        for spec in summary[kind]:
            io.add_row(kind[:-1], escape(spec["name"]), _shape(spec["shape"]), spec["dtype"])
    console.print(io)

    macs_by_op = summary.get("macs_by_op", {})
    ops = Table(title=f"ops after canonicalisation ({summary.get('nodes', '?')} nodes)")
    ops.add_column("op type")
    ops.add_column("count", justify="right")
    ops.add_column("MACs", justify="right")
    hist = summary["op_histogram"]
    for op, count in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])):
        ops.add_row(escape(op), str(count), _count(macs_by_op[op]) if macs_by_op.get(op) else "")
    console.print(ops)

    console.print(f"parameters  {_count(summary['parameters'])}")
    console.print(f"weights     {_bytes(summary['parameter_bytes'])}")
    console.print(f"MACs        {_count(summary['macs'])}")

    bad = summary.get("unsupported_nodes", [])
    if bad:
        console.print(f"[red]{len(bad)} node(s) edgeq's float interpreter cannot run:[/red]")
        table = Table()
        table.add_column("node")
        table.add_column("op type")
        for n in bad:
            op = f"{n['domain']}::{n['op_type']}" if n.get("domain") else n["op_type"]
            table.add_row(escape(n["name"]), escape(op))
        console.print(table)
    else:
        console.print("[green]every node is supported[/green]")
    for target, info in summary.get("targets", {}).items():
        if "error" in info:
            console.print(f"[red]{escape(target)}: {escape(info['error'])}[/red]")
            continue
        missing = info["float"] + info["unsupported"]
        line = f"{escape(target)} ({escape(info['spec'])}): {info['integer']} node(s) run in integer"
        if not missing:
            console.print(f"[green]{line}, all of them[/green]")
            continue
        console.print(f"[yellow]{line}; {len(info['float'])} would stay in float, "
                      f"{len(info['unsupported'])} cannot be built[/yellow]")
        table = Table()
        for col in ("node", "op type", "why not integer", "then"):
            table.add_column(col)
        for kind, rows in (("float fallback", info["float"]), ("build error", info["unsupported"])):
            for n in rows:
                table.add_row(escape(n["node"]), escape(n["op_type"]), escape(n["reason"]), kind)
        console.print(table)


def read_artifact_dir(path) -> dict:
    """``Target.read_artifact`` of the artifact at ``path``, by the plugin target its
    manifest names (never a profile path: the name comes from the file)."""
    from edgeq.contracts import Artifact
    from edgeq.errors import TargetUnavailableError
    from edgeq.targets import plugin_targets

    artifact = Artifact.load(path)
    registered = plugin_targets()
    name = artifact.target
    if name not in registered:
        raise TargetUnavailableError(f"{path}: a '{name[:40]}' artifact, and no installed plugin has that "
                                     f"target (installed: {', '.join(sorted(registered)) or 'none'}); "
                                     "install its plugin")
    _, target = registered[name]
    return target.read_artifact(artifact)


def render_artifact(summary: dict) -> None:
    """Rich tables for a ``Target.read_artifact`` summary."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{escape(summary['target'])} artifact[/bold] ({escape(summary['artifact_kind'])})  "
                  f"{escape(summary['path'])}  profile {escape(str(summary.get('profile')))}")
    console.print(f"checked: {escape(', '.join(summary['checked']))}")
    files = Table(title="files")
    files.add_column("file")
    files.add_column("bytes", justify="right")
    for name, size in summary["files"].items():
        files.add_row(escape(name), _bytes(size))
    console.print(files)
    io = Table(title="inputs and outputs")
    for col in ("", "name", "shape", "dtype", "quantization"):
        io.add_column(col)
    for kind in ("inputs", "outputs"):
        for spec in summary[kind]:
            q = spec.get("quant")
            quant = "" if not q else (f"scale {q['scale'][0]:.6g} zero point {q['zero_point'][0]}"
                                      if len(q["scale"]) == 1 else f"per axis ({len(q['scale'])})")
            io.add_row(kind[:-1], escape(spec["name"]), _shape(spec["shape"]), escape(spec["dtype"]), quant)
    console.print(io)
    ops = Table(title=f"ops in the model file ({sum(summary['ops'].values())})")
    ops.add_column("op")
    ops.add_column("count", justify="right")
    for op, count in sorted(summary["ops"].items(), key=lambda kv: (-kv[1], kv[0])):
        ops.add_row(escape(op), str(count))
    console.print(ops)
    if summary.get("metadata"):
        meta = Table(title="metadata")
        meta.add_column("key")
        meta.add_column("value")
        for key, value in summary["metadata"].items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            meta.add_row(escape(str(key)), escape(text if len(text) <= 120 else text[:117] + "…"))
        console.print(meta)
