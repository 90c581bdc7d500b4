"""The plugin SDK contract, checked on the source: target plugins import only
``edgeq.sdk`` from edgeq, the core never imports a plugin, every SDK name resolves and is
documented, and edgeq's own modules have no import cycles.

Imports are read from the AST (module level and inside functions, ``TYPE_CHECKING``
blocks included), so a lazy import inside a function counts as much as a top-level one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "plugins"
#: the third-party plugin the tests install through an entry point
THIRD_PARTY = ROOT / "tests" / "plugins" / "edgeq_testplugin"
CORE = ROOT / "edgeq"
DOCS = ROOT / "docs" / "plugins.md"

#: what a plugin's own code may import from edgeq
PLUGIN_ALLOWED = {"edgeq.sdk"}
#: what a plugin's tests may import besides: the user-facing API they test through
PLUGIN_TESTS_ALLOWED = PLUGIN_ALLOWED | {"edgeq", "edgeq.zoo", "edgeq.data", "edgeq.targets",
                                         "edgeq.plugins", "edgeq.testing"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``path``; relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parts = _module_name(path).split(".")
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[:len(parts) - node.level + (1 if is_pkg else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            # "from edgeq import sdk" imports the submodule edgeq.sdk
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names
                    if mod in ("edgeq",) and a.name != "*"]
    return out


def _module_name(path: Path) -> str:
    base = PLUGINS if PLUGINS in path.parents else THIRD_PARTY.parent if THIRD_PARTY in path.parents else ROOT
    rel = path.relative_to(base).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _edgeq_module(mod: str) -> bool:
    return mod == "edgeq" or mod.startswith("edgeq.")


def _plugin_files():
    return sorted(PLUGINS.glob("edgeq_*/**/*.py")) + sorted(THIRD_PARTY.glob("*.py"))


def test_there_are_plugins_to_check():
    assert {p.parts[len(PLUGINS.parts)] for p in _plugin_files()} >= {"edgeq_tflite"}


@pytest.mark.parametrize("path", _plugin_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_import_only_the_sdk(path):
    in_tests = THIRD_PARTY not in path.parents and "tests" in path.relative_to(PLUGINS).parts
    allowed = PLUGIN_TESTS_ALLOWED if in_tests else PLUGIN_ALLOWED
    bad = []
    for line, mod in _imports(path):
        if not _edgeq_module(mod):
            continue
        if in_tests and mod == "edgeq":
            continue  # "import edgeq": the public API (load, quantize, build, profile)
        if in_tests and mod.startswith("edgeq.testing."):
            continue  # the shared test support: QGraph, float models, conformance cases
        if mod not in allowed:
            bad.append(f"line {line}: {mod}")
    assert not bad, (f"{path.relative_to(ROOT)} imports edgeq modules outside the plugin SDK "
                     f"(use edgeq.sdk; docs/plugins.md): {bad}")


def test_the_core_imports_no_plugin():
    plugin_names = {p.name for p in PLUGINS.glob("edgeq_*") if p.is_dir()}
    bad = [f"{f.relative_to(ROOT)}:{line}: {mod}" for f in CORE.rglob("*.py")
           for line, mod in _imports(f) if mod.split(".")[0] in plugin_names]
    assert not bad


def test_the_core_names_no_target_in_code():
    """The core may mention targets in prose, but no code path branches on one."""
    pattern = re.compile(r"""(==|!=|\bin\b)\s*\(?\s*["'](tflite|coreml|ane|qnn[\w-]*)["']""")
    bad = []
    for f in CORE.rglob("*.py"):
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if pattern.search(line.split("#")[0]):
                bad.append(f"{f.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not bad


def test_every_sdk_name_resolves():
    import edgeq.sdk as sdk

    missing = [name for name in sdk.__all__ if getattr(sdk, name, None) is None]
    assert not missing
    with pytest.raises(AttributeError, match="docs/plugins.md"):
        sdk.no_such_name  # noqa: B018


def test_every_sdk_name_is_documented():
    import edgeq.sdk as sdk

    text = DOCS.read_text()
    undocumented = [n for n in sdk.__all__ if f"`{n}`" not in text]
    assert not undocumented, f"docs/plugins.md does not document: {undocumented}"


def test_importing_the_sdk_is_cheap():
    """``from edgeq.sdk import hookimpl`` (every plugin.py) loads no interpreter, no
    quantizer and no device stack, so ``edgeq targets`` stays fast."""
    import subprocess
    import sys

    code = ("import sys; from edgeq.sdk import hookimpl; "
            "heavy = [m for m in sys.modules if m.startswith(('edgeq.interp', 'edgeq.quantize', "
            "'edgeq.devices', 'edgeq.profile', 'onnx', 'onnxruntime'))]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _core_graph() -> dict[str, set[str]]:
    """edgeq module -> edgeq modules it imports, lazily inside functions included: a cycle
    through a function-level import still ties two modules together."""
    modules = {_module_name(f) for f in CORE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for f in CORE.rglob("*.py"):
        name = _module_name(f)
        deps = set()
        for _line, mod in _imports(f):
            while mod and mod not in modules:
                mod = mod.rpartition(".")[0]
            # importing a submodule imports its packages first: an edge from a module to
            # its own ancestor package is how Python packages work, not a cycle
            if mod and mod != name and not name.startswith(mod + "."):
                deps.add(mod)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_in_the_core():
    cycles = _cycles(_core_graph())
    assert not cycles, "import cycles among edgeq's modules:\n" + "\n".join(" <-> ".join(c) for c in cycles)
