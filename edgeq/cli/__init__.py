"""The ``edgeq`` command. Subcommands live one per module in this package and are
attached explicitly in :func:`build_cli`. Heavy imports happen inside commands so
``edgeq --help`` stays fast and works without any SDK installed.

Every :class:`~edgeq.errors.EdgeqError` is printed without a traceback; the process
exits with the error's ``exit_code`` (2 usage/config, 3 failed gates, 1 otherwise).
"""

from __future__ import annotations

import sys

import click

from edgeq import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgeq")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """edgeq: quantize ONNX models to integer-only arithmetic and deploy them to edge targets."""
    import logging

    if verbose:
        logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO,
                            format="%(levelname)s %(name)s: %(message)s")


def build_cli() -> click.Group:
    """Attach the subcommands (explicit list; each module defines one click command/group)."""
    import importlib

    for module_name, attr in COMMANDS:
        module = importlib.import_module(f"edgeq.cli.{module_name}")
        cli.add_command(getattr(module, attr))
    return cli


#: (module, attribute) of every subcommand
COMMANDS: list[tuple[str, str]] = [("zoo", "zoo")]


def main(argv: list[str] | None = None) -> int:
    from edgeq.errors import EdgeqError

    group = build_cli()
    try:
        group.main(args=argv, prog_name="edgeq", standalone_mode=False)
    except EdgeqError as exc:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True).print(Text("error: ", style="bold red") + Text(str(exc)), highlight=False)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
