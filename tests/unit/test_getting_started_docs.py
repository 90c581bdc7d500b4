"""The getting-started pages per door (docs/getting-started/*.md) and the targets'
comparison page say only what the code does: every ``edgeq`` command in their ``sh``
blocks parses with the real CLI (commands, flags and their values), every page is linked
from README.md and docs/getting-started.md, the build-step page's config is a valid
edgeq.yaml with the vision sample's targets and gates, and the snippets the build step
page points to call ``edgeq build --config``."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from edgeq.cli import build_cli
from edgeq.config import parse_config

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs" / "getting-started").glob("*.md"))


def _commands(page: Path) -> list[list[str]]:
    out = []
    for block in re.findall(r"```sh\n(.*?)```", page.read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words and re.match(r"^[A-Z_]+=", words[0]):  # VAR=value edgeq ...
                words = words[1:]
            if words[:1] == ["edgeq"]:
                out.append(words[1:])
    return out


def test_there_is_a_page_per_door():
    assert [p.name for p in PAGES] == ["build-step.md", "device-profiling.md", "python-api.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_edgeq_command_parses(page):
    cli = build_cli()
    commands = _commands(page)
    assert commands or page.name == "python-api.md"
    for argv in commands:
        cmd, args, path = cli, list(argv), ["edgeq"]
        while isinstance(cmd, click.Group):
            name, args = args[0], args[1:]
            assert name in cmd.commands, f"{page.name}: 'edgeq {' '.join(argv)}': no command {name!r}"
            cmd, path = cmd.commands[name], path + [name]
        try:
            cmd.make_context(" ".join(path), list(args))
        except click.UsageError as exc:
            pytest.fail(f"{page.name}: 'edgeq {' '.join(argv)}': {exc.format_message()}")


@pytest.mark.parametrize("page", PAGES + [ROOT / "docs" / "targets" / "comparison.md"], ids=lambda p: p.name)
def test_every_page_is_linked(page):
    assert page.is_file()
    for index in (ROOT / "README.md", ROOT / "docs" / "getting-started.md"):
        rel = page.relative_to(index.parent).as_posix()
        assert f"({rel})" in index.read_text(), f"{index.name} does not link {rel}"


def test_build_step_config_is_the_vision_samples():
    block = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs/getting-started/build-step.md").read_text(), re.S)[0]
    shown = parse_config(yaml.safe_load(block), base_dir=ROOT)
    app = parse_config(yaml.safe_load((ROOT / "sample_apps/vision/edgeq.yaml").read_text()), base_dir=ROOT)
    assert [t.name for t in shown.targets] == [t.name for t in app.targets]
    for target in ("tflite", "ane", "qnn-htp-v75"):
        a, b = shown.profile_for(target), app.profile_for(target)
        assert (a.gates, a.num_samples, a.runs, a.warmup) == (b.gates, b.num_samples, b.runs, b.warmup), target


def test_mobile_snippets_call_the_build_step():
    gradle = (ROOT / "sample_apps/mobile/edgeq.gradle.kts").read_text()
    phase = (ROOT / "sample_apps/mobile/edgeq-build-phase.sh").read_text()
    assert 'args("build", "--config", edgeqConfig.name, "--target", "tflite", "--profile"' in gradle
    assert '"${EDGEQ}" build --config edgeq.yaml --target ane --profile' in phase
