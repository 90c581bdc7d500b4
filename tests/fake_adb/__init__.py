"""Test double of an adb server and its devices (see server.py and device.py).

Usage::

    with FakeAdbServer(tmp_path) as server:
        dev = server.add_device("FAKE0001")
        client_port = server.port   # give to edgeq / adbutils
"""

from .device import DEFAULT_PROPS, FakeDevice, Faults
from .server import FakeAdbServer

__all__ = ["DEFAULT_PROPS", "FakeAdbServer", "FakeDevice", "Faults"]
