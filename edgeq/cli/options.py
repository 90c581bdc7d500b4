"""Options shared by several ``edgeq`` commands, so every command spells them the same.

* ``--input NAME:SHAPE`` (repeatable) -> ``{name: shape}`` for ``edgeq.load(input_shapes=)``
* ``--target NAME|PROFILE.yaml`` (repeatable)
* ``--json``
"""

from __future__ import annotations

from typing import Iterable

import click

from edgeq.errors import UsageError


def parse_input_spec(text: str) -> tuple[str, tuple[int, ...]]:
    """``"input:1x3x224x224"`` -> ``("input", (1, 3, 224, 224))``.

    The shape follows the *last* colon, so names that contain colons (``"x:0:1x3"``)
    work. Raises UsageError (exit 2) showing the expected form.
    """
    from edgeq.config import parse_shape

    name, sep, shape = text.rpartition(":")
    if not sep or not name:
        raise UsageError(f"--input {text!r}: expected NAME:SHAPE, e.g. --input input:1x3x224x224")
    try:
        return name, parse_shape(shape)
    except ValueError as exc:
        raise UsageError(f"--input {text!r}: {exc}") from None


def parse_input_specs(values: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """Parse every ``--input``; an input given twice is a UsageError."""
    shapes: dict[str, tuple[int, ...]] = {}
    for text in values:
        name, shape = parse_input_spec(text)
        if name in shapes:
            raise UsageError(f"--input {name!r} given twice")
        shapes[name] = shape
    return shapes


def input_option(func):
    """``--input NAME:SHAPE``, repeatable; the command receives ``inputs: tuple[str, ...]``."""
    return click.option(
        "--input", "inputs", multiple=True, metavar="NAME:SHAPE",
        help="Static shape for a model input, e.g. input:1x3x224x224 (repeat per input). "
             "Needed for inputs with dynamic dimensions.")(func)


def target_option(func):
    """``--target``, repeatable; the command receives ``targets: tuple[str, ...]``."""
    return click.option(
        "--target", "targets", multiple=True, metavar="NAME|PROFILE.yaml",
        help="Target profile name (see 'edgeq targets') or path to a profile YAML. "
             "Repeat to build several targets from one calibration.")(func)


def json_option(func):
    """``--json``; the command receives ``as_json: bool``."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print machine-readable JSON instead of tables.")(func)
