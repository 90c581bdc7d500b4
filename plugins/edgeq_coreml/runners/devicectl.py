"""``xcrun devicectl`` (Xcode 15+, Apple's command-line tool for attached devices; the
``--console`` option of ``device process launch`` needs Xcode 16) as the iPhone runner
uses it: list the devices, copy files into and out of an app's data container, launch
the app and wait for it to exit.

Every command is run with ``--json-output FILE`` and its JSON read back: ``result`` on
success, ``error`` (with ``userInfo.NSLocalizedDescription``) on failure, which becomes
a DeviceError naming the command and what to do. The commands (``devicectl help``):

* ``list devices --json-output F``: ``result.devices[]`` with ``identifier``,
  ``hardwareProperties`` (``udid``, ``platform``, ``marketingName``, ``productType``),
  ``deviceProperties`` (``name``, ``osVersionNumber``) and ``connectionProperties``
  (``transportType``: ``wired`` for USB, ``tunnelState``);
* ``device copy to|from --device ID --source S --destination D --domain-type
  appDataContainer --domain-identifier BUNDLE_ID``;
* ``device process launch --device ID --terminate-existing --console BUNDLE_ID ARGS…``
  (options before the bundle identifier, the app's arguments after it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from edgeq.sdk import DeviceError, TargetUnavailableError


@dataclass(frozen=True)
class AppleDevice:
    """One device as ``devicectl list devices`` describes it."""

    identifier: str
    udid: str
    name: str
    model: str
    platform: str
    os_version: str
    transport: str

    @classmethod
    def from_json(cls, entry: dict) -> "AppleDevice":
        hw = entry.get("hardwareProperties") or {}
        dev = entry.get("deviceProperties") or {}
        conn = entry.get("connectionProperties") or {}
        return cls(identifier=str(entry.get("identifier", "")), udid=str(hw.get("udid", "")),
                   name=str(dev.get("name", "")), model=str(hw.get("marketingName") or hw.get("productType", "")),
                   platform=str(hw.get("platform", "")), os_version=str(dev.get("osVersionNumber", "")),
                   transport=str(conn.get("transportType", "")))

    def matches(self, wanted: str) -> bool:
        return wanted in (self.identifier, self.udid, self.name)


def select_device(devices: Sequence[AppleDevice], wanted: str | None) -> AppleDevice:
    """The device ``wanted`` names (identifier, UDID or name), or the only attached iOS
    device when ``wanted`` is None."""
    ios = [d for d in devices if d.platform.lower() in ("ios", "ipados")]
    listing = ", ".join(f"{d.name} ({d.udid or d.identifier}, {d.transport or 'unknown'})" for d in ios) or "none"
    if wanted is not None:
        found = [d for d in ios if d.matches(wanted)]
        if not found:
            raise DeviceError(f"no iOS device '{wanted}' among the devices devicectl lists: {listing}; "
                              "pass --device with one of them (pair it in Xcode's Devices window first)")
        return found[0]
    wired = [d for d in ios if d.transport == "wired"] or ios
    if not wired:
        raise DeviceError("devicectl lists no iOS device; connect the iPhone over USB, unlock it, trust "
                          "this Mac and pair it in Xcode's Devices window, then run again")
    if len(wired) > 1:
        raise DeviceError(f"{len(wired)} iOS devices are attached ({listing}); choose one with --device")
    return wired[0]


class DeviceCtl:
    """Runs ``xcrun devicectl`` commands (``xcrun`` from ``runner_bin`` or the PATH)."""

    def __init__(self, xcrun: str | os.PathLike | None = None, timeout: float = 600.0,
                 run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> None:
        self.xcrun = str(xcrun) if xcrun else (shutil.which("xcrun") or "")
        self.timeout = timeout
        self._run = run

    def require(self) -> None:
        if not self.xcrun or not Path(self.xcrun).exists():
            raise TargetUnavailableError(
                "the iphone runner needs Xcode's command-line tools (xcrun devicectl, Xcode 16 or "
                "later); install Xcode and run 'xcode-select --install', or pass --runner-bin with "
                "the path of xcrun")

    def call(self, *args: str, positional: Sequence[str] = ()) -> dict:
        """``xcrun devicectl ARGS --json-output F POSITIONAL``: the JSON's ``result``. The
        options come before the positional arguments: after a launched app's bundle
        identifier every word is the app's."""
        self.require()
        with tempfile.TemporaryDirectory(prefix="edgeq-devicectl-") as tmp:
            out = Path(tmp) / "out.json"
            cmd = [self.xcrun, "devicectl", *args, "--json-output", str(out), *positional]
            try:
                proc = self._run(cmd, capture_output=True, text=True, timeout=self.timeout)
            except subprocess.TimeoutExpired:
                raise DeviceError(f"'devicectl {' '.join(args[:3])}' did not finish in {self.timeout:.0f} s; "
                                  "check the device is unlocked, or raise --timeout") from None
            data: dict = {}
            if out.exists():
                try:
                    data = json.loads(out.read_text() or "{}")
                except json.JSONDecodeError as exc:
                    raise DeviceError(f"'devicectl {' '.join(args[:3])}' wrote JSON edgeq cannot read: {exc}") from None
        if "error" in data or proc.returncode != 0:
            err = data.get("error") or {}
            info = err.get("userInfo") or {}
            what = info.get("NSLocalizedDescription") or err.get("localizedDescription") or \
                (proc.stderr or proc.stdout or "").strip()[-400:] or f"exit status {proc.returncode}"
            if isinstance(what, dict):  # devicectl nests strings as {"string": ...}
                what = what.get("string", str(what))
            raise DeviceError(f"'devicectl {' '.join(args[:3])}' failed: {what}")
        return data.get("result") or {}

    def devices(self) -> list[AppleDevice]:
        return [AppleDevice.from_json(d) for d in self.call("list", "devices").get("devices", [])]

    def _copy(self, direction: str, device: AppleDevice, bundle_id: str, source: str, destination: str) -> None:
        self.call("device", "copy", direction, "--device", device.identifier or device.udid,
                  "--source", source, "--destination", destination,
                  "--domain-type", "appDataContainer", "--domain-identifier", bundle_id)

    def copy_to(self, device: AppleDevice, bundle_id: str, local: Path, remote: str) -> None:
        self._copy("to", device, bundle_id, str(local), remote)

    def copy_from(self, device: AppleDevice, bundle_id: str, remote: str, local: Path) -> None:
        self._copy("from", device, bundle_id, remote, str(local))

    def launch(self, device: AppleDevice, bundle_id: str, app_args: Sequence[str]) -> dict:
        """Start the app (ending a running instance), wait until it exits (``--console``)."""
        return self.call("device", "process", "launch", "--device", device.identifier or device.udid,
                         "--terminate-existing", "--console", positional=(bundle_id, *app_args))
