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


def _warning_handler():
    import logging

    class CurrentStderr(logging.StreamHandler):
        """Writes to whatever ``sys.stderr`` is when a record comes (not the stream of
        the first call: tests and embedding applications swap it)."""

        @property
        def stream(self):
            return sys.stderr

        @stream.setter
        def stream(self, value):
            pass

    handler = CurrentStderr()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    return handler


_WARNINGS = _warning_handler()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgeq")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """edgeq: quantize ONNX models to integer-only arithmetic and deploy them to edge targets."""
    import logging

    if verbose:
        logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO,
                            format="%(levelname)s %(name)s: %(message)s")
    else:
        # edgeq's warnings (data it chose for you, targets skipped …) are part of what a
        # command says: one "warning: …" line each on stderr
        logger = logging.getLogger("edgeq")
        if _WARNINGS not in logger.handlers:
            logger.addHandler(_WARNINGS)


def build_cli() -> click.Group:
    """Attach the subcommands (explicit list; each module defines one click command/group)."""
    import importlib

    for module_name, attr in COMMANDS:
        module = importlib.import_module(f"edgeq.cli.{module_name}")
        cli.add_command(getattr(module, attr))
    return cli


#: (module, attribute) of every subcommand
COMMANDS: list[tuple[str, str]] = [
    ("targets", "targets"),
    ("inspect", "inspect"),
    ("config", "config"),
    ("zoo", "zoo"),
    ("build", "build"),
    ("profile", "profile"),
    ("quantize", "quantize"),
    ("compare", "compare"),
    ("sensitivity", "sensitivity"),
]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code instead of exiting.

    Exit codes: 0 success; 2 usage and config errors (click's included); 3 failed gates;
    1 every other error; 130 interrupted. No traceback is printed for errors edgeq
    raises on purpose; an unexpected exception is reported in one line, and ``-vv``
    adds its traceback.
    """
    from edgeq.errors import EdgeqError

    group = build_cli()
    try:
        rv = group.main(args=argv, prog_name="edgeq", standalone_mode=False)
    except EdgeqError as exc:
        _print_error(str(exc))
        return exc.exit_code
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (KeyboardInterrupt) into Abort: keep the interrupt's status,
        # so that a CI step can tell an interrupted build from a failed one
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            click.echo("interrupted", err=True)
            return 130
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:  # UsageError, BadParameter, NoSuchOption ...
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else (exc.exit_code or 1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:  # e.g. `edgeq targets --json | head -1`
        return 0
    except OSError as exc:  # a file the user named: the message carries the path
        _print_error(str(exc))
        return 1
    except Exception as exc:
        import logging

        logging.getLogger(__name__).debug("traceback of the unexpected error", exc_info=True)
        _print_error(f"unexpected {type(exc).__name__}: {exc}. This is a bug in edgeq or one "
                     "of its plugins; rerun with -vv for the traceback and report it")
        return 1
    return rv if isinstance(rv, int) else 0


def _print_error(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    # soft_wrap: long paths and field names stay on one line, greppable in CI logs
    Console(stderr=True, soft_wrap=True).print(Text("error: ", style="bold red") + Text(message),
                                               highlight=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
