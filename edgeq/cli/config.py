"""``edgeq config``: validate an ``edgeq.yaml`` (e.g. in CI, before a long build) and print
the schema."""

from __future__ import annotations

import json

import click

from edgeq.cli.options import json_option


@click.group("config", short_help="Validate an edgeq.yaml or print its JSON schema.")
def config() -> None:
    """Work with edgeq.yaml files (see docs/config.md)."""


@config.command("check")
@click.argument("path", metavar="EDGEQ_YAML")
@click.option("--targets/--no-targets", "check_targets", default=True,
              help="Also resolve every target (profile files and installed plugins).")
@json_option
def check(path: str, check_targets: bool, as_json: bool) -> None:
    """Validate EDGEQ_YAML; print it with defaults filled in and paths resolved.

    Exits 2 listing every invalid field (file, line, field path, what was expected).
    """
    from edgeq.config import load_config
    from edgeq.errors import ConfigError

    cfg = load_config(path)
    if cfg.model.path is not None and not cfg.model.path.is_file():
        raise ConfigError(f"{path}: model.path: {cfg.model.path} does not exist")
    if cfg.model.zoo is not None:
        from edgeq import zoo

        if cfg.model.zoo not in zoo.names():
            raise ConfigError(f"{path}: model.zoo: unknown zoo model {cfg.model.zoo!r}; "
                              f"'edgeq zoo list' names them: {', '.join(zoo.names())}")
    if check_targets:
        from edgeq.targets import get_target

        for entry in cfg.targets:
            get_target(entry.name, entry.option_overrides())
    data = cfg.model_dump(mode="json")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    import yaml

    click.echo(f"# {path}: valid ({len(cfg.targets)} target(s))")
    click.echo(yaml.safe_dump(data, sort_keys=False).rstrip())


@config.command("schema")
def schema() -> None:
    """Print the JSON schema of edgeq.yaml (for editors and validators)."""
    from edgeq.config import EdgeqConfig

    click.echo(json.dumps(EdgeqConfig.model_json_schema(), indent=2))
