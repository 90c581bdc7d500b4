"""Float kernels, one op per module. Each module registers its kernel in FLOAT_OPS;
the explicit import list below is the registry's content."""

from edgeq.interp.registry import OpRegistry

FLOAT_OPS = OpRegistry("float")

# Explicit registry: one import per op module.
from edgeq.interp.float_ops import (  # noqa: E402,F401
    relu,
)
