"""Stand-in for the QNN SDK's ``qnn-net-run`` on the fake adb device.

It honours ``--retrieve_context FILE.bin --backend LIB --input_list LIST --output_dir DIR
--profiling_level basic``: it finds the EPContext model in the working directory that
references FILE.bin, runs it on onnxruntime-qnn's HTP emulator (the same context binary
a phone would load), reads each list line (``name:=file.raw`` float32 tensors, or bare
paths in input order), writes ``DIR/Result_<i>/<output>.raw`` (float32) and, with
profiling, ``DIR/qnn-profiling-data_0.log``. The real log is a binary file for
qnn-profile-viewer; this one is JSON read by the fake viewer, with the measured times.
Faults from ``EDGEQ_FAKE_QNN_MODE``: ok | fail (exit 1 after a QNN error message).
"""

import json
import os
import re
import sys
import time
from pathlib import Path


def arg(argv, flag, default=None):
    return argv[argv.index(flag) + 1] if flag in argv else default


def main(argv):
    print("qnn-net-run pid:%d" % os.getpid(), flush=True)
    if os.environ.get("EDGEQ_FAKE_QNN_MODE") == "fail":
        print("ERROR: Could not create context from binary. Error code: 1002", flush=True)
        return 1
    binary = arg(argv, "--retrieve_context")
    backend = arg(argv, "--backend")
    if not binary or not backend or not Path(backend).is_file():
        print("ERROR: missing --retrieve_context or --backend", flush=True)
        return 1
    import numpy as np
    import onnx

    t0 = time.perf_counter()
    ctx_model = None
    for cand in Path(".").glob("*.onnx"):
        m = onnx.load(str(cand), load_external_data=False)
        for n in m.graph.node:
            attrs = {a.name: a for a in n.attribute}
            if n.op_type == "EPContext" and attrs["ep_cache_context"].s.decode() == Path(binary).name:
                ctx_model = cand
    if ctx_model is None:
        print(f"ERROR: Could not load context binary {binary}", flush=True)
        return 1
    sys.path.insert(0, os.environ.get("EDGEQ_FAKE_QNN_PLUGINS", ""))
    from edgeq_qnn.runners.session import htp_session

    session = htp_session(ctx_model)
    init_us = (time.perf_counter() - t0) * 1e6
    names = [i.name for i in session.get_inputs()]
    shapes = {i.name: i.shape for i in session.get_inputs()}
    out_dir = Path(arg(argv, "--output_dir", "output"))
    out_dir.mkdir(parents=True, exist_ok=True)
    exec_us = []
    lines = [ln.split() for ln in Path(arg(argv, "--input_list")).read_text().splitlines() if ln.strip()]
    for i, items in enumerate(lines):
        feeds = {}
        for k, item in enumerate(items):
            name, path = item.split(":=", 1) if ":=" in item else (names[k], item)
            match = [n for n in names if re.sub(r"[^A-Za-z0-9_]", "_", n) == name] or [name]
            data = np.fromfile(path, np.float32).reshape(shapes[match[0]])
            feeds[match[0]] = data
        t = time.perf_counter()
        outs = session.run(None, feeds)
        exec_us.append((time.perf_counter() - t) * 1e6)
        res = out_dir / f"Result_{i}"
        res.mkdir(exist_ok=True)
        for o, v in zip(session.get_outputs(), outs):
            np.asarray(v, np.float32).tofile(res / (re.sub(r"[^A-Za-z0-9_]", "_", o.name) + ".raw"))
    if arg(argv, "--profiling_level"):
        (out_dir / "qnn-profiling-data_0.log").write_text(json.dumps(
            {"init_us": init_us, "execute_us": exec_us, "graph": ctx_model.stem}))
    print("Finished executing %d inference(s)" % len(lines), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
