"""A fake QNN SDK tree for the adb runner's tests: ``qnn-net-run`` and
``qnn-profile-viewer`` stand-ins (Python scripts, run inside the fake adb device's
sandbox) and placeholder libraries.

:func:`write_fake_sdk` lays out ``bin/aarch64-android/{qnn-net-run,qnn-profile-viewer}``
and ``lib/aarch64-android/libQnnHtp.so`` … like the real SDK, so the runner finds them
from ``QNN_SDK_ROOT``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent


def write_fake_sdk(root: Path, htp_arch: int = 75) -> Path:
    root = Path(root)
    bin_dir = root / "bin/aarch64-android"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool, src in (("qnn-net-run", "qnn_net_run.py"), ("qnn-profile-viewer", "qnn_profile_viewer.py")):
        dest = bin_dir / tool
        dest.write_text(f"#!{sys.executable}\n" + (HERE / src).read_text())
        dest.chmod(0o755)
    lib = root / "lib/aarch64-android"
    lib.mkdir(parents=True, exist_ok=True)
    for name in ("libQnnHtp.so", "libQnnSystem.so", f"libQnnHtpV{htp_arch}Stub.so"):
        (lib / name).write_bytes(b"\x7fELF placeholder for the fake device\n")
    skel = root / f"lib/hexagon-v{htp_arch}/unsigned"
    skel.mkdir(parents=True, exist_ok=True)
    (skel / f"libQnnHtpV{htp_arch}Skel.so").write_bytes(b"\x7fELF placeholder\n")
    return root
