"""Test double of an adb server and its devices (see server.py and device.py).

Usage::

    with FakeAdbServer(tmp_path) as server:
        dev = server.add_device("FAKE0001")
        client_port = server.port   # give to edgeq / adbutils
"""

from .device import DEFAULT_PROPS, FakeDevice, Faults
from .server import FakeAdbServer

__all__ = ["DEFAULT_PROPS", "FakeAdbServer", "FakeDevice", "Faults", "write_benchmark_model"]


def write_benchmark_model(dest) -> "Path":
    """Write the fake ``benchmark_model`` as an executable script at ``dest`` (a host
    path: push it like the real binary, or place it in a device sandbox)."""
    import sys
    from pathlib import Path

    src = Path(__file__).with_name("benchmark_model.py").read_text()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(f"#!{sys.executable}\n" + src)
    dest.chmod(0o755)
    return dest
