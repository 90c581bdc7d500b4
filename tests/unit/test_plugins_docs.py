"""docs/plugins.md documents every hook, and only hooks that exist."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from edgeq.plugins import HOOK_NAMES, HookSpecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def documented_hooks() -> list[str]:
    text = DOC.read_text()
    section = text.split("## Hooks", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^### (\w+)\s*$", section, flags=re.M)


def test_every_hookspec_is_documented():
    assert set(HOOK_NAMES) <= set(documented_hooks()), set(HOOK_NAMES) - set(documented_hooks())


def test_every_documented_hook_exists():
    assert set(documented_hooks()) <= set(HOOK_NAMES)


def test_hook_names_found_the_specs():
    specs = [n for n, f in vars(HookSpecs).items() if callable(f) and hasattr(f, "edgeq_spec")]
    assert sorted(specs) == sorted(HOOK_NAMES) and len(specs) >= 4
    for name in specs:  # each spec states its contract and takes no arguments
        fn = getattr(HookSpecs, name)
        assert inspect.getdoc(fn), name
        assert list(inspect.signature(fn).parameters) == ["self"], name


def test_documented_profile_example_is_valid():
    import yaml

    from edgeq.targets import TargetProfile

    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    profiles = [yaml.safe_load(b) for b in blocks if b.startswith("name:")]
    assert profiles
    for data in profiles:
        profile = TargetProfile.model_validate(data)
        assert profile.target == "tflite" and profile.options.threads == 4
