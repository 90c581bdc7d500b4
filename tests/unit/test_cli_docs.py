"""docs/cli.md documents every command the CLI registers, and every option of each."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from edgeq.cli import COMMANDS, build_cli

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()


def _section(name: str) -> str:
    match = re.search(rf"^## edgeq {re.escape(name)}\b.*?(?=^## |\Z)", DOC, re.S | re.M)
    assert match, f"docs/cli.md has no '## edgeq {name}' section"
    return match.group(0)


def _commands():
    cli = build_cli()
    return sorted(cli.commands.items())


def test_every_registered_command_is_listed():
    registered = {name for name, _ in _commands()}
    assert registered == {attr for _mod, attr in COMMANDS}
    for name in registered:
        _section(name)


@pytest.mark.parametrize("name,command", _commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_option_is_documented(name, command):
    text = _section(name)
    if name == "build":  # `edgeq build --profile` takes every flag of edgeq profile (documented there)
        text += _section("profile")
    commands = [(name, command)]
    if isinstance(command, click.Group):  # e.g. edgeq zoo list / get: one section for the group
        commands += sorted(command.commands.items())
    missing = []
    for _sub, cmd in commands:
        for param in cmd.params:
            if not isinstance(param, click.Option) or param.hidden or "--help" in param.opts:
                continue
            longs = [o for o in param.opts + param.secondary_opts if o.startswith("--")]
            if longs and not any(o in text for o in longs):
                missing.append("/".join(longs))
    assert not missing, f"docs/cli.md '## edgeq {name}' does not mention {missing}"
