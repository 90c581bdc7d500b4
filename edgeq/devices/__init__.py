"""Device transports shared by every runner (see :mod:`edgeq.devices.base`):

- :class:`edgeq.devices.host.HostTransport` — this machine;
- :mod:`edgeq.devices.adb` — Android devices through the adb server (adbutils):
  ``select_devices(device, host=None, port=None)`` → ``[AdbTransport]``.

Submodules are imported on use so that ``import edgeq`` does not need adbutils.
"""
