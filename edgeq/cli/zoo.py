"""``edgeq zoo``: list the zoo's models and fetch/build them into the cache."""

from __future__ import annotations

import json

import click


@click.group("zoo")
def zoo() -> None:
    """Real FP32 models (and data sets) built from registry wheels, cached locally."""


@zoo.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the full metadata as JSON.")
def list_models(as_json: bool) -> None:
    """List the zoo models with their task, inputs and source wheel."""
    from edgeq import zoo as z

    models = [z.info(n) for n in z.names()]
    if as_json:
        click.echo(json.dumps([m.to_dict() for m in models], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="edgeq zoo")
    for col in ("name", "task", "inputs", "source"):
        table.add_column(col)
    for m in models:
        inputs = ", ".join(f"{t.name} {'x'.join(map(str, t.shape))} {t.dtype}" for t in m.inputs)
        sources = ", ".join(sorted({s.requirement for s in m.sources.values()}))
        table.add_row(m.name, m.task, inputs, sources)
    Console().print(table)


@zoo.command("get")
@click.argument("name")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Cache directory (default $EDGEQ_CACHE or ~/.cache/edgeq).")
@click.option("--info", "show_info", is_flag=True, help="Also print the model's metadata.")
@click.option("--data", "data", nargs=2, type=(click.Choice(["calib", "eval"]), click.Path(file_okay=False)),
              default=None, metavar="SPLIT DIR",
              help="Also copy the model's calib or eval data split (images, audio or text, with "
                   "labels) into the new directory DIR, for --calib / --data of build and profile.")
def get_model(name: str, cache_dir: str | None, show_info: bool, data) -> None:
    """Build (first time) or verify (later) the zoo model NAME; print its .onnx path."""
    from edgeq import zoo as z
    from edgeq.zoo.datasets import export_split

    zm = z.info(name)  # unknown names fail before any download
    path = z.get(name, cache_dir=cache_dir)
    if data:
        split, dest = data
        files = export_split(name, split, dest, cache_dir=cache_dir)
        click.echo(f"{len(files)} files of the {split} split of {name}'s data in {dest}", err=True)
    if show_info:
        click.echo(json.dumps({**zm.to_dict(), "labels": None if zm.labels is None
                               else f"{len(zm.labels)} labels", "path": str(path)}, indent=2))
    else:
        click.echo(str(path))
