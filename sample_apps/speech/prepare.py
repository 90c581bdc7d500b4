"""App-prep script of the speech sample: Silero VAD from ONNX to gated, profiled artifacts
for every target of edgeq.yaml, then the speech decisions of the FP32 model and of the
built artifact on the evaluation clips, chunk by chunk, against the ground truth.

    python sample_apps/speech/prepare.py [--out DIR] [--eval-samples N]

Exit status 3 when a gate of edgeq.yaml is missed (as ``edgeq build --config``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _prep import arguments, prepare  # noqa: E402

from edgeq import zoo  # noqa: E402

HERE = Path(__file__).resolve().parent
#: a chunk is speech when the model's probability reaches this (Silero's default)
THRESHOLD = 0.5


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.split("\n\n")[0], argv)
    app = prepare(HERE, args)
    name = app.config.model.zoo
    for target, evals in app.evals.items():
        truth = zoo.labels(name, "eval", n=len(evals))  # [windows, frames] 0/1 per 32 ms frame
        ref = np.stack([app.model.run(f)["speech_probs"] for f in evals]) >= THRESHOLD
        got = np.stack([o["speech_probs"] for o in app.outputs(target)]) >= THRESHOLD
        print(f"\n{target}, {truth.size} frames of {len(evals)} evaluation windows: decisions right "
              f"against the labels FP32 {np.mean(ref == truth):.3f}, artifact {np.mean(got == truth):.3f}; "
              f"the same decision as FP32 on {np.mean(got == ref):.3f}")
    return 0 if app.passed else 3


if __name__ == "__main__":
    sys.exit(main())
