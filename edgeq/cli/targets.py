"""``edgeq targets``: every target name ``--target`` accepts, and whether it can be used here."""

from __future__ import annotations

import json

import click

from edgeq.cli.options import json_option


@click.command("targets", short_help="List targets, their plugins and runners, and whether their SDK is installed.")
@json_option
def targets(as_json: bool) -> None:
    """List targets: profile name, plugin, artifact kind, runners, SDK installed.

    Names come from the built-in target profiles and from installed plugins. A path to
    your own profile YAML is accepted wherever a target name is.
    """
    from edgeq.targets import list_targets

    rows = list_targets()
    if as_json:
        click.echo(json.dumps([r.to_json() for r in rows], indent=2))
        return

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="edgeq targets")
    for col in ("name", "plugin", "artifact", "runners", "SDK installed", "description"):
        table.add_column(col, overflow="fold")
    for r in rows:
        if r.plugin is None:
            sdk = "[red]plugin missing[/red]"
        elif r.sdk_installed:
            sdk = "[green]yes[/green]"
        else:
            sdk = f"[red]no[/red] (pip install {escape(' '.join(r.sdk_packages))})"
        description = r.description + (f" (chip: {r.chip})" if r.chip else "")
        table.add_row(escape(r.name), escape(r.plugin or "-"), escape(r.artifact_kind or "-"),
                      escape(", ".join(r.runners) or "-"), sdk, escape(description))
    console = Console()
    console.print(table)
    from edgeq.plugins import broken_plugins

    for name, why in broken_plugins().items():
        console.print(f"[red]broken plugin[/red] {escape(name)!s}: {escape(why)} (its targets are not listed)")
    if not rows:
        console.print("no targets: no plugin is installed (or EDGEQ_DISABLE_PLUGIN_AUTOLOAD is set)")
