"""Explicit op registries shared by the float and integer interpreters.

One op per file: each op module defines a kernel function
``kernel(node, inputs, ctx) -> list[np.ndarray]`` and registers it with
``@REGISTRY.register("OpType", ...)``. The interpreter's package ``__init__`` imports
each op module explicitly, so the registry holds exactly what is listed there.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from edgeq.errors import UnsupportedOpError

Kernel = Callable[[Any, list, Any], list]


class OpRegistry:
    """Map op type -> kernel (or a target's lowering); ``lookup`` raises
    UnsupportedOpError naming the node, what is missing and what is registered.

    ``kind`` names the registry in that message ("float" -> "is not supported by the
    edgeq float interpreter"); ``missing`` replaces the whole phrase for registries that
    are not interpreters (a target's lowerings: "has no TFLite lowering").
    """

    def __init__(self, kind: str, missing: str | None = None) -> None:
        self.kind = kind
        self.missing = missing or f"is not supported by the edgeq {kind} interpreter"
        self._kernels: dict[str, Kernel] = {}

    def register(self, *op_types: str) -> Callable[[Kernel], Kernel]:
        def deco(fn: Kernel) -> Kernel:
            for op in op_types:
                assert op not in self._kernels, f"{self.kind}: {op} registered twice"
                self._kernels[op] = fn
            return fn

        return deco

    def __contains__(self, op_type: str) -> bool:
        return op_type in self._kernels

    @property
    def op_types(self) -> frozenset[str]:
        return frozenset(self._kernels)

    def lookup(self, node) -> Kernel:
        try:
            return self._kernels[node.op_type]
        except KeyError:
            raise UnsupportedOpError(
                f"node '{node.name}': op type '{node.op_type}' {self.missing}; supported ops: "
                f"{', '.join(sorted(self._kernels))}",
                op_type=node.op_type, nodes=[node.name]) from None


def dtype_error(node, what: str, arrays: list[np.ndarray]) -> UnsupportedOpError:
    """An UnsupportedOpError naming the op, node and input dtypes."""
    dtypes = ", ".join(str(a.dtype) if a is not None else "-" for a in arrays)
    return UnsupportedOpError(f"node '{node.name}' ({node.op_type}): {what}; input dtypes: {dtypes}",
                              op_type=node.op_type, nodes=[node.name])
