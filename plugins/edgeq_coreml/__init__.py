"""edgeq's Core ML target plugin: W8A8 / weight-only int8 / fp16 ML Programs
(``.mlpackage``) for the Apple Neural Engine, written with coremltools' MIL builder,
verified on any OS by interpreting the saved program in numpy, profiled on macOS.

Registered through the ``edgeq`` entry-point group (``coreml = "edgeq_coreml.plugin"``).
Importing this package is cheap: coremltools is imported only when a model is emitted,
verified or run.

Library entry points::

    from edgeq_coreml import CoreMLTarget, build_artifact
    from edgeq_coreml.verify import load_program, run_program
"""

from __future__ import annotations

__all__ = ["CoreMLTarget", "build_artifact", "ANE_W8A8"]


def __getattr__(name: str):
    if name in ("CoreMLTarget", "build_artifact"):
        from edgeq_coreml import target

        return getattr(target, name)
    if name == "ANE_W8A8":
        from edgeq_coreml.spec import ANE_W8A8

        return ANE_W8A8
    raise AttributeError(f"module 'edgeq_coreml' has no attribute {name!r}")
