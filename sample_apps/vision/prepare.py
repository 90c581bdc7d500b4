"""App-prep script of the vision sample: MobileNetV2 from ONNX to gated, profiled
artifacts for every target of edgeq.yaml, then the top-5 classes of a few evaluation
photos from the FP32 model and from the built artifact, side by side.

    python sample_apps/vision/prepare.py [--out DIR] [--eval-samples N]

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


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.split("\n\n")[0], argv)
    app = prepare(HERE, args)
    labels = zoo.info(app.config.model.zoo).labels
    for target in app.artifacts:
        print(f"\ntop-5 classes, FP32 model | {target} artifact:")
        for i in range(3):
            feed = app.evals[target][i]
            ref = app.model.run(feed)["logits"][0]
            got = app.outputs(target)[i]["logits"][0]
            top = lambda v: ", ".join(labels[k] for k in np.argsort(-v)[:5])  # noqa: E731
            print(f"  photo {i}: {top(ref)}\n           | {top(got)}")
    return 0 if app.passed else 3


if __name__ == "__main__":
    sys.exit(main())
