"""Bad output paths and interruptions: an existing file, a parent that is a file, a
read-only or full file system, a file-size limit, Ctrl-C mid-build. The output must hold
the previous complete artifact (run_case seeds one) or nothing afterwards."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from _corpus import Case, Invocation, Workspace


def _mount_tmpfs(path: Path, options: str) -> bool:
    """Mount a tmpfs at ``path`` (root only); False where mounting is not permitted."""
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def _umount(path: Path):
    return lambda: subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _wide_model(ws: Workspace, n: int = 600) -> Path:
    """x[1, n] -> Gemm(n x n) -> y: an int8 artifact of ~n*n bytes (360 kB for 600)."""
    w = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32) * 0.05
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")], "wide",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
                              [numpy_helper.from_array(w, "w")])
    path = ws.path("wide.onnx")
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def existing_file(ws):
    ws.out.parent.mkdir(parents=True, exist_ok=True)
    ws.out.write_text("my notes, not an artifact\n")
    return ws.build(ws.model, status=1, needles=(str(ws.out),))


def parent_is_file(ws):
    (ws.root / "afile").write_text("x")
    ws.out = ws.root / "afile" / "out"
    return ws.build(ws.model, status=1, needles=("afile",))


def unwritable_proc(ws):
    ws.out = Path("/proc/edgeq-corpus-out")
    return ws.build(ws.model, status=1, needles=("/proc/edgeq-corpus-out",))


def read_only_fs(ws):
    mount = ws.root / "ro"
    if not _mount_tmpfs(mount, "ro,size=1m"):
        ws.out = Path("/sys/edgeq-corpus-out")  # sysfs: read-only for everyone, root included
        return ws.build(ws.model, status=1, needles=(str(ws.out),))
    ws.out = mount / "out"
    return ws.build(ws.model, status=1, needles=(str(mount),), cleanup=_umount(mount))


def disk_full(ws):
    mount = ws.root / "small"
    model = _wide_model(ws)
    if not _mount_tmpfs(mount, "size=128k"):
        # no permission to mount: the same ENOSPC-like failure through a file-size limit
        return ws.build(model, calib=ws.calib_for((1, 600)), status=1, needles=("model.tflite",),
                        subprocess=True, fsize_limit=64 * 1024)
    ws.out = mount / "out"
    return ws.build(model, calib=ws.calib_for((1, 600)), status=1, needles=(str(mount), "space"),
                    cleanup=_umount(mount))


def file_size_limit(ws):
    model = _wide_model(ws)
    return ws.build(model, calib=ws.calib_for((1, 600)), status=1, needles=("too large",), subprocess=True,
                    fsize_limit=64 * 1024)


def sigint_mid_build(ws):
    calib = ws.root / "many"
    calib.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1500):  # enough that calibration is still running when SIGINT comes
        np.save(calib / f"{i:04d}.npy", rng.standard_normal((1, 3, 16, 16)).astype(np.float32))
    inv = ws.build(ws.model, "--calib-samples", "1500", calib=calib, status=130, needles=("interrupted",),
                   subprocess=True)
    inv.argv.insert(0, "-v")
    inv.interrupt_on = "calibration data:"  # logged once the data set is open, before calibrating
    inv.signal_delay = 0.3
    return inv


def artifact_slot_is_a_file(ws):
    ws.out.mkdir(parents=True)
    (ws.out / "tflite").write_text("a file where the artifact directory goes\n")
    return ws.build(ws.model, status=1, needles=(str(ws.out / "tflite"),))


def artifact_slot_holds_user_files(ws):
    (ws.out / "tflite").mkdir(parents=True)
    (ws.out / "tflite" / "thesis.tex").write_text("months of work\n")
    return ws.build(ws.model, status=1, needles=(str(ws.out / "tflite"), "manifest.json"))


def quantize_to_directory(ws):
    target = ws.root / "model.edgeq"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    return Invocation(["quantize", str(ws.model), "--calib", str(ws.calib), "-o", str(target)], 1,
                      ("model.edgeq",), out=target)


def quantize_into_missing_parent_file(ws):
    (ws.root / "afile").write_text("x")
    target = ws.root / "afile" / "model.edgeq"
    return Invocation(["quantize", str(ws.model), "--calib", str(ws.calib), "-o", str(target)], 1,
                      ("afile",), out=target)


def report_dir_is_a_file(ws):
    report = ws.root / "report"
    report.write_text("not a directory")
    art = ws.root / "prev"
    ws.seed(art)
    return Invocation(["profile", str(art / "tflite"), "--runs", "2", "--warmup", "0", "-o", str(report)], 1,
                      (str(report),), out=report)


def profile_not_an_artifact(ws):
    d = ws.root / "notart"
    d.mkdir()
    return Invocation(["profile", str(d), "--runs", "2"], 1, ("notart", "manifest.json"), out=d)


def profile_tampered_artifact(ws):
    art = ws.root / "prev"
    ws.seed(art)
    model = art / "tflite" / "model.tflite"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    return Invocation(["profile", str(art / "tflite"), "--runs", "2", "--warmup", "0",
                       "-o", str(ws.root / "rep")], 1, ("model.tflite", "rebuild"), out=ws.root / "rep")


#: cases whose output cannot hold a previous artifact (it cannot be written at all)
_UNSEEDABLE = {"parent_is_file", "unwritable_proc", "read_only_fs", "existing_file", "artifact_slot_is_a_file",
               "artifact_slot_holds_user_files"}

CASES: list[Case] = [Case("output-" + f.__name__.replace("_", "-"), "output", f, seed=f.__name__ not in _UNSEEDABLE)
                     for f in (
    existing_file, parent_is_file, unwritable_proc, read_only_fs, disk_full, file_size_limit, sigint_mid_build,
    artifact_slot_is_a_file, artifact_slot_holds_user_files, quantize_to_directory,
    quantize_into_missing_parent_file, report_dir_is_a_file, profile_not_an_artifact, profile_tampered_artifact)]
