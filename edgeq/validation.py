"""YAML loading and pydantic validation with messages a user can act on.

Shared by ``edgeq.yaml`` (:mod:`edgeq.config`) and target profiles (:mod:`edgeq.targets`).
Every problem becomes a :class:`~edgeq.errors.ConfigError` whose lines read::

    edgeq.yaml:7: calibration.num_samples: expected an integer >= 1, got 'abc'

i.e. the file, the line (when the YAML node is found), the dotted field path, what was
expected and what was found. pydantic's own wording ("Input should be a valid
integer…") is rewritten from the schema so the constraint appears next to the type.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

import annotated_types
import yaml
from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo

from edgeq.errors import ConfigError

_NONE = type(None)


def read_yaml(path: Path, what: str = "configuration") -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file; return ``(data, node tree)``. Errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a YAML {what} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what} file ({exc})") from exc
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    _refuse_duplicate_keys(node, path)
    if data is None:
        raise ConfigError(f"{path}: {what} file is empty")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of {what} fields at the top level, "
                          f"got {type(data).__name__}")
    return data, node


def _refuse_duplicate_keys(node: yaml.Node | None, path: Path, where: str = "") -> None:
    """A key given twice in one mapping is an error: YAML loaders silently keep the last
    one, so the first setting would be ignored without a word."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is not None:
                if name in seen:
                    field = f"{where}.{name}" if where else name
                    raise ConfigError(f"{path}:{key.start_mark.line + 1}: {field}: given twice (first on "
                                      f"line {seen[name]}); keep one of them")
                seen[name] = key.start_mark.line + 1
            _refuse_duplicate_keys(value, path, f"{where}.{name}" if where else str(name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(item, path, f"{where}[{i}]")


def validate(model: type[BaseModel], data: Any, *, source: str, node: yaml.Node | None = None,
             context: dict | None = None):
    """``model.model_validate(data)``, turning a ValidationError into a ConfigError."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, model, source, node)) from None


def format_errors(exc: ValidationError, model: type[BaseModel], source: str,
                  node: yaml.Node | None = None) -> str:
    """One line per problem: ``source[:line]: field.path: message``."""
    lines = []
    for err in exc.errors(include_url=False):
        path, ann, parent = _walk(model, err["loc"])
        line = _line_of(node, path)
        where = f"{source}:{line}" if line else source
        lines.append(f"{where}: {_display(path) or '(top level)'}: {_message(err, ann, parent)}")
    if len(lines) == 1:
        return lines[0]
    return f"{source}: {len(lines)} problems\n" + "\n".join("  " + line for line in lines)


def _display(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _unwrap(ann: Any) -> tuple[Any, list]:
    """Strip Annotated and Optional; return (bare annotation, collected metadata)."""
    meta: list = []
    while True:
        if typing.get_origin(ann) is typing.Annotated:
            args = typing.get_args(ann)
            ann = args[0]
            for m in args[1:]:  # a Field() inside Optional[...] keeps its constraints nested
                meta += list(m.metadata) if isinstance(m, FieldInfo) else [m]
            continue
        if _is_union(ann):
            members = [a for a in typing.get_args(ann) if a is not _NONE]
            if len(members) == 1:
                ann = members[0]
                continue
        return ann, meta


def _is_union(ann: Any) -> bool:
    return typing.get_origin(ann) in (Union, types.UnionType)


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _walk(model: type[BaseModel], loc: tuple) -> tuple[list, Any, type[BaseModel] | None]:
    """Follow an error location through the schema.

    Returns the user-facing path (discriminator tags that pydantic inserts are dropped),
    the annotation of the field reached (with its Field metadata) and the model that
    holds it. Unknown parts are kept verbatim so the path is never lost.
    """
    path: list = []
    ann: Any = model
    parent: type[BaseModel] | None = None
    for key in loc:
        bare, _ = _unwrap(ann)
        if _is_union(bare):  # a discriminated union: pydantic puts the tag in loc
            members = [m for m in typing.get_args(bare) if m is not _NONE]
            match = next((m for m in members if key in _tags(m)), None)
            if match is not None:
                ann = match
                continue
            bare = None
        if _is_model(bare) and isinstance(key, str) and key in bare.model_fields:
            field = bare.model_fields[key]
            parent, ann = bare, typing.Annotated[field.annotation, *field.metadata] \
                if field.metadata else field.annotation
        elif _is_model(bare):  # a key the model does not have (extra_forbidden)
            parent, ann = bare, None
        elif typing.get_origin(bare) in (list, tuple) and isinstance(key, int):
            args = [a for a in typing.get_args(bare) if a is not Ellipsis]
            ann = args[0] if args else Any
        elif typing.get_origin(bare) is dict:
            ann = typing.get_args(bare)[1]
        else:
            ann = None
        path.append(key)
    return path, ann, parent


def _tags(model: Any) -> tuple:
    """The discriminator values that select ``model`` in a union: its ``Tag`` and the
    values of its ``kind: Literal[...]`` field."""
    bare, meta = _unwrap(model)
    tags = tuple(m.tag for m in meta if isinstance(m, Tag))
    if not _is_model(bare):
        return tags
    kind = bare.model_fields.get("kind")
    if kind is None:
        return tags
    kind_ann = _unwrap(kind.annotation)[0]
    return tags + (typing.get_args(kind_ann) if typing.get_origin(kind_ann) is Literal else ())


def _literal_kinds(model: type[BaseModel]) -> tuple:
    kind = model.model_fields.get("kind")
    ann = _unwrap(kind.annotation)[0] if kind is not None else None
    return typing.get_args(ann) if typing.get_origin(ann) is Literal else ()


def expected(ann: Any) -> str:
    """Describe an annotation in words: 'an integer >= 1', 'one of minmax, mse', …"""
    bare, meta = _unwrap(ann)
    bounds = []
    for m in meta:
        for attr, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if isinstance(m, getattr(annotated_types, attr.capitalize())):
                bounds.append(f"{op} {getattr(m, attr)}")
        if isinstance(m, annotated_types.MinLen) and m.min_length:
            bounds.append(f"with at least {m.min_length} item(s)")
    suffix = (" " + " and ".join(bounds)) if bounds else ""
    if typing.get_origin(bare) is Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(bare))
    if _is_union(bare):
        kinds = [k for m in typing.get_args(bare) if _is_model(_unwrap(m)[0])
                 for k in _literal_kinds(_unwrap(m)[0])]
        if kinds:
            return "a mapping with kind: " + ", ".join(kinds)
        return " or ".join(expected(m) for m in typing.get_args(bare))
    simple = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
              Path: "a path"}
    if bare in simple:
        return simple[bare] + suffix
    origin = typing.get_origin(bare)
    if origin in (list, tuple):
        args = [a for a in typing.get_args(bare) if a is not Ellipsis]
        return f"a list of {_plural(expected(args[0]))}{suffix}" if args else "a list"
    if origin is dict:
        return f"a mapping of names to {_plural(expected(typing.get_args(bare)[1]))}"
    if _is_model(bare):
        return "a mapping with fields " + ", ".join(bare.model_fields)
    return "a valid value"


def _plural(desc: str) -> str:
    for article in ("an ", "a "):
        if desc.startswith(article):
            return desc[len(article):] + "s" if " " not in desc[len(article):] else desc
    return desc


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(err: dict, ann: Any, parent: type[BaseModel] | None) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return f"required field is missing (expected {expected(ann)})"
    if kind == "extra_forbidden":
        allowed = ", ".join(parent.model_fields) if parent else "see the documentation"
        return f"unknown field; allowed here: {allowed}"
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        field = ctx.get("discriminator", "'kind'")
        field = "'kind'" if "(" in field else field  # a callable discriminator reads 'kind'
        return f"missing the field {field} that says which kind this is"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    return f"expected {expected(ann)}, got {_got(err['input'])}"


def _line_of(node: yaml.Node | None, path: list) -> int | None:
    """1-based line of the deepest YAML node along ``path`` (None without a node tree)."""
    if node is None:
        return None
    found = node
    for key in path:
        nxt = None
        if isinstance(found, yaml.MappingNode):
            for k, v in found.value:
                if getattr(k, "value", None) == key:
                    # an unknown key is best pointed at by its own line
                    nxt = v if v.start_mark.line >= k.start_mark.line else k
                    break
        elif isinstance(found, yaml.SequenceNode) and isinstance(key, int) and key < len(found.value):
            nxt = found.value[key]
        if nxt is None:
            break
        found = nxt
    return found.start_mark.line + 1
