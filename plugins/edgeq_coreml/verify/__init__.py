"""Verification of a saved ``.mlpackage`` without macOS: the program is read back from
the package (its spec and weight file, :mod:`.program`) and interpreted op by op in
numpy (:mod:`.interpreter`, one op per file under ``ops/``), in the dtypes the saved
program declares (fp16 storage between ops where the program computes in fp16).

    from edgeq_coreml.verify import load_program, run_program
    prog = load_program("build/ane/model.mlpackage")
    outputs = run_program(prog, {"input": x})
"""

from __future__ import annotations

from edgeq_coreml.verify.interpreter import run_program  # noqa: F401
from edgeq_coreml.verify.program import load_program  # noqa: F401
