"""docs/config.md and the edgeq.yaml schema stay in step: every field path of the schema
is documented, and every documented path exists in the schema."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from edgeq.config import EdgeqConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def _members(ann) -> list:
    """The model classes an annotation can hold (through Optional, Annotated, unions, list, dict)."""
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _members(typing.get_args(ann)[0])
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    if origin is not None:
        return [m for a in typing.get_args(ann) for m in _members(a)]
    return []


def _container(ann) -> str:
    """'[]' if the field holds a list of models, '.<name>' for a mapping of models, else ''."""
    while typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if typing.get_origin(ann) in (typing.Union, __import__("types").UnionType) and len(args) == 1:
        return _container(args[0])
    return {list: "[]", dict: ".*"}.get(typing.get_origin(ann), "")


def schema_paths(model: type[BaseModel], prefix: str = "", seen: set | None = None) -> set[str]:
    """Every field path. A dataset union met again, or a base class of a section already
    met (per-target overrides), is documented where it first appears, so only its path
    is listed the second time."""
    seen = set() if seen is None else seen
    paths = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}{name}"
        paths.add(path)
        members = _members(field.annotation)
        if not members:
            continue
        union_again = len(members) > 1 and all(m in seen for m in members)
        base_of_seen = any(s is not m and issubclass(s, m) for s in seen for m in members)
        if union_again or base_of_seen:
            continue
        seen.update(members)
        sub = path + _container(field.annotation)
        if sub.endswith(".*"):
            continue  # a mapping of names to a section documented by reference
        for m in members:
            paths |= schema_paths(m, sub + ".", seen)
    return paths


def doc_paths() -> set[str]:
    """First-column entries of the field tables in docs/config.md."""
    return set(re.findall(r"^\| `([a-z_][a-z0-9_.\[\]]*)` \|", DOC.read_text(), flags=re.M))


def test_every_schema_field_is_documented():
    missing = schema_paths(EdgeqConfig) - doc_paths()
    assert not missing, f"fields missing from docs/config.md: {sorted(missing)}"


def test_every_documented_field_exists():
    stale = doc_paths() - schema_paths(EdgeqConfig)
    assert not stale, f"docs/config.md documents fields the schema lacks: {sorted(stale)}"


def test_walker_sees_nested_and_union_fields():
    paths = schema_paths(EdgeqConfig)
    # a sample from each kind of nesting, so the comparison above cannot pass vacuously
    assert {"model.inputs", "calibration.dataset.tokenizer_json", "calibration.dataset.split",
            "targets[].options.threads", "quantization.weights.rounding",
            "quantization.per_target", "profile.data", "profile.gates"} <= paths
    assert "profile.data.path" not in paths  # datasets are documented once
    assert len(paths) > 60


def _yaml_blocks(path: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", path.read_text(), flags=re.S)


def test_documented_examples_are_valid_configs(tmp_path):
    """Every edgeq.yaml shown in the docs (those with a model section) validates."""
    import yaml

    from edgeq.config import parse_config

    docs = DOC.parent
    examples = [(p.name, b) for p in (docs / "config.md", docs / "getting-started.md")
                for b in _yaml_blocks(p) if b.startswith(("model:", "version:"))]
    assert len(examples) >= 2
    for name, block in examples:
        cfg = parse_config(yaml.safe_load(block), source=name, base_dir=tmp_path)
        assert cfg.model.path.is_relative_to(tmp_path)


def test_every_gate_metric_is_documented():
    from edgeq.profile.gates import METRICS, OUTPUT_METRICS

    text = (Path(__file__).resolve().parents[2] / "docs" / "config.md").read_text()
    missing = [m for m in sorted(set(METRICS) | set(OUTPUT_METRICS)) if f"`{m}`" not in text]
    assert not missing, f"docs/config.md does not name the gate metrics {missing}"
