"""Android devices over adb, built on ``adbutils`` (the adb server's client protocol).

No ``adb`` binary is ever executed: adbutils would start one when the server is not
reachable, so :class:`_Client` disables that and edgeq reports a missing server
instead. The server address comes from ``host``/``port`` arguments, else
``ANDROID_ADB_SERVER_HOST`` / ``ANDROID_ADB_SERVER_PORT``, else 127.0.0.1:5037.

Device choice (:func:`select_devices`): an explicit serial, else ``ANDROID_SERIAL``,
else the only device connected; ``"all"`` means every device in the ``device`` state.

Failures end in :class:`~edgeq.errors.DeviceError` saying what happened and what to
do: no device, several devices and no serial, unauthorized, offline, a device that
disappears mid-run, a timeout, a full disk. A dropped connection while the device is
still listed is treated as transient and retried (bounded, with back-off).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence, TypeVar

from edgeq.devices import adb_wire as wire
from edgeq.devices.base import CommandResult, DeviceFacts, Transport, quote_command, tail
from edgeq.errors import DeviceError, require_module

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_BASE_DIR = "/data/local/tmp"
_FULL_DISK = ("no space left on device", "enospc", "disk full")


@dataclass(frozen=True)
class RetryPolicy:
    """How often a transient failure (dropped connection, device still listed) is retried."""

    attempts: int = 3
    backoff_s: float = 0.25


def _adbutils():
    return require_module("adbutils", "adbutils", "profiling on Android devices over adb")


def make_client(host: str | None = None, port: int | None = None, *, socket_timeout: float = 30.0):
    """An adbutils client that never spawns an adb binary."""
    adbutils = _adbutils()
    from adbutils._adb import AdbConnection

    class _Connection(AdbConnection):
        def _safe_connect(self):  # adbutils would run `adb start-server` on failure
            return self._create_socket()

    class _Client(adbutils.AdbClient):
        def make_connection(self, timeout=None):
            try:
                conn = _Connection(self.host, self.port)
            except (adbutils.AdbError, OSError) as exc:
                raise DeviceError(
                    f"cannot reach the adb server at {self.host}:{self.port} ({exc}); start it "
                    "with 'adb start-server' (Android SDK platform-tools), or point edgeq at it "
                    "with ANDROID_ADB_SERVER_HOST/ANDROID_ADB_SERVER_PORT") from None
            conn.conn.settimeout(timeout or socket_timeout)
            return conn

    return _Client(host=host, port=port, socket_timeout=socket_timeout)


@dataclass(frozen=True)
class DeviceInfo:
    serial: str
    state: str
    tags: Mapping[str, str]


def list_devices(client) -> list[DeviceInfo]:
    """Every device the adb server knows, in any state (``host:devices-l``)."""
    try:
        infos = client.list(extended=True)
    except DeviceError:
        raise
    except Exception as exc:  # adbutils raises AdbError/OSError subclasses
        raise DeviceError(f"listing devices on the adb server failed: {exc}") from exc
    return [DeviceInfo(i.serial, i.state, dict(i.tags)) for i in infos]


def _state_error(serial: str, state: str) -> DeviceError:
    if state == "unauthorized":
        return DeviceError(
            f"device {serial!r} is unauthorized: unlock the phone and accept the 'Allow USB "
            "debugging?' dialog (if it does not appear, revoke USB debugging authorizations "
            "in Developer options and reconnect the cable)")
    if state == "offline":
        return DeviceError(
            f"device {serial!r} is offline: reconnect the USB cable, or run 'adb reconnect'; "
            "if it stays offline, restart the adb server")
    return DeviceError(f"device {serial!r} is in state {state!r}, not ready for commands; "
                       "wait until 'adb devices' lists it as 'device'")


def select_serials(device: str | None, infos: Sequence[DeviceInfo]) -> list[str]:
    """Which serials a ``--device`` value means (see the module docstring)."""
    device = device or os.environ.get("ANDROID_SERIAL") or None
    ready = [i.serial for i in infos if i.state == "device"]
    listing = ", ".join(f"{i.serial} ({i.state})" for i in infos) or "none"
    if device == "all":
        if not ready:
            if infos:
                raise _state_error(infos[0].serial, infos[0].state)
            raise DeviceError("no Android device connected (adb lists none); connect a phone "
                              "with USB debugging enabled")
        for i in infos:
            if i.state != "device":
                log.warning("skipping device %s: %s", i.serial, i.state)
        return ready
    if device:
        match = [i for i in infos if i.serial == device]
        if not match:
            raise DeviceError(f"no device with serial {device!r} (connected: {listing}); check "
                              "--device / ANDROID_SERIAL against 'adb devices'")
        if match[0].state != "device":
            raise _state_error(device, match[0].state)
        return [device]
    if not infos:
        raise DeviceError("no Android device connected (adb lists none); connect a phone with "
                          "USB debugging enabled, or start an emulator")
    if not ready:
        raise _state_error(infos[0].serial, infos[0].state)
    if len(ready) > 1:
        raise DeviceError(f"several devices connected ({', '.join(ready)}) and no serial given; "
                          "choose one with --device SERIAL or ANDROID_SERIAL, or profile all "
                          "with --device all")
    return ready


def select_devices(device: str | None = None, *, host: str | None = None, port: int | None = None,
                   retry: RetryPolicy = RetryPolicy(), base_dir: str = DEFAULT_BASE_DIR
                   ) -> list["AdbTransport"]:
    """Transports for ``--device`` (a serial, ``"all"``, or None for the only device)."""
    client = make_client(host, port)
    serials = select_serials(device, list_devices(client))
    return [AdbTransport(s, client, retry=retry, base_dir=base_dir) for s in serials]


def parse_getprop(text: str) -> dict[str, str]:
    """Parse ``getprop`` output lines of the form ``[key]: [value]``."""
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and "]: [" in line and line.endswith("]"):
            key, _, value = line[1:-1].partition("]: [")
            props[key] = value
    return props


class AdbTransport(Transport):
    """One Android device. Thread-safe enough for one session per device and thread:
    every operation opens its own adb connection."""

    kind = "adb"

    def __init__(self, serial: str, client=None, *, retry: RetryPolicy = RetryPolicy(),
                 base_dir: str = DEFAULT_BASE_DIR):
        self._serial = serial
        self.client = client if client is not None else make_client()
        self.retry = retry
        self.base_dir = base_dir
        self._device = self.client.device(serial)
        self._features: set[str] | None = None

    @property
    def serial(self) -> str:
        return self._serial

    # -- error handling ---------------------------------------------------------------

    def _state(self) -> str | None:
        """The device's current state, or None when the server no longer lists it."""
        for info in list_devices(self.client):
            if info.serial == self._serial:
                return info.state
        return None

    def _gone(self, what: str) -> DeviceError:
        return DeviceError(f"device {self._serial!r} disappeared during {what}: it is no longer "
                           "listed by the adb server; check the USB cable and that the phone did "
                           "not reboot, then run again")

    def _translate(self, exc: Exception, what: str) -> DeviceError | None:
        """A final DeviceError for ``exc``, or None when it is a transient connection loss."""
        msg = str(exc)
        low = msg.lower()
        if isinstance(exc, (wire.WireTimeout, socket.timeout, TimeoutError)) or \
                type(exc).__name__ == "AdbTimeout":
            return DeviceError(f"device {self._serial!r}: {what} timed out; raise the timeout, or "
                               "check that the device is not stuck (screen off, thermal throttling)")
        if any(s in low for s in _FULL_DISK):
            return DeviceError(f"device {self._serial!r}: no space left on device during {what} "
                               f"({msg.strip()}); free space under {self.base_dir} (see "
                               f"'adb shell df -h {self.base_dir}') and run again")
        if "unauthorized" in low:
            return _state_error(self._serial, "unauthorized")
        if "offline" in low:
            return _state_error(self._serial, "offline")
        if "not found" in low and "device" in low:
            return self._gone(what)
        if isinstance(exc, (wire.ConnectionLost, OSError, EOFError)) or \
                type(exc).__name__ in ("AdbError", "AdbConnectionError"):
            return None
        return DeviceError(f"device {self._serial!r}: {what} failed: {msg}")

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` (one adb operation), retrying transient connection losses."""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return fn()
            except DeviceError:
                raise
            except Exception as exc:
                err = self._translate(exc, what)
                if err is not None:
                    raise err from exc
                state = self._state()
                if state is None:
                    raise self._gone(what) from exc
                if state != "device":
                    raise _state_error(self._serial, state) from exc
                if attempt == self.retry.attempts:
                    raise DeviceError(
                        f"device {self._serial!r}: connection lost during {what} ({str(exc) or type(exc).__name__}) "
                        f"{attempt} times; check the USB cable and hub, then run again") from exc
                delay = self.retry.backoff_s * 2 ** (attempt - 1)
                log.warning("device %s: connection lost during %s (%s); retry %d/%d in %.2fs",
                            self._serial, what, exc, attempt, self.retry.attempts - 1, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    # -- primitive operations ---------------------------------------------------------

    def features(self) -> set[str]:
        if self._features is None:
            self._features = set(self._call("reading device features",
                                            self._device.get_features).split(","))
        return self._features

    def run(self, args: Sequence[str] | str, *, timeout: float, cwd: str | None = None,
            env: Mapping[str, str] | None = None, check: bool = True) -> CommandResult:
        cmd = quote_command(args, cwd=cwd, env=env)
        shell = wire.shell_v2 if "shell_v2" in self.features() else wire.shell_v1

        def once() -> wire.ShellOutput:
            conn = self._device.open_transport(timeout=timeout)
            try:
                return shell(conn, cmd, timeout)
            finally:
                conn.close()  # adbd ends the remote command when its socket closes

        t0 = time.monotonic()
        shown = cmd if len(cmd) <= 300 else cmd[:300] + "…"
        try:
            out = self._call(f"command {shown!r}", once)
        except DeviceError:
            if cwd:
                self._kill_leftovers(cwd)
            raise
        res = CommandResult(cmd, out.returncode, out.stdout.decode("utf-8", "replace"),
                            out.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
        if res.returncode != 0 and any(s in res.output.lower() for s in _FULL_DISK):
            raise DeviceError(f"device {self._serial!r}: no space left on device while running "
                              f"{cmd}; free space under {self.base_dir} (see 'adb shell df -h "
                              f"{self.base_dir}') and run again\n{tail(res.output)}")
        if check and res.returncode != 0:
            raise DeviceError(f"device {self._serial!r}: command exited with status "
                              f"{res.returncode}: {cmd}\n{tail(res.output)}")
        return res

    def _kill_leftovers(self, workdir: str) -> None:
        """Best effort: stop processes still running from ``workdir`` after a timeout
        (adbd closes their pipes, but a silent process would not notice)."""
        try:
            conn = self._device.open_transport(timeout=10)
            try:
                wire.shell_v2(conn, quote_command(["pkill", "-9", "-f", workdir]), 10)
            finally:
                conn.close()
        except Exception as exc:  # the device may be gone; the caller reports the real error
            log.debug("device %s: pkill after timeout failed: %s", self._serial, exc)

    def push(self, local: Path, remote: str, *, mode: int = 0o644) -> None:
        def once() -> int:
            conn = self._device.open_transport(timeout=None)
            try:
                return wire.sync_send(conn, local, remote, mode, timeout=None)
            except wire.SyncFail as exc:
                low = str(exc).lower()
                if any(s in low for s in _FULL_DISK):
                    raise DeviceError(
                        f"device {self._serial!r}: no space left on device while pushing {local} "
                        f"({local.stat().st_size} bytes) to {remote}; free space under "
                        f"{self.base_dir} (see 'adb shell df -h {self.base_dir}') and run again"
                    ) from None
                raise DeviceError(f"device {self._serial!r}: pushing {local} to {remote} was "
                                  f"refused: {exc}") from None
            finally:
                conn.close()

        self._call(f"push of {local.name}", once)

    def pull(self, remote: str, local: Path) -> None:
        tmp = Path(str(local) + ".part")

        def once() -> None:
            try:
                with open(tmp, "wb") as fh:
                    for chunk in self._device.sync.iter_content(remote):
                        fh.write(chunk)
            except Exception as exc:
                if "no such file" in str(exc).lower():
                    raise DeviceError(f"device {self._serial!r}: {remote} does not exist; the "
                                      "runner did not write it") from None
                if type(exc).__name__ == "AdbError" and "Invalid sync cmd" in str(exc):
                    raise wire.ConnectionLost(str(exc)) from None
                raise

        try:
            self._call(f"pull of {remote}", once)
            os.replace(tmp, local)
        finally:
            tmp.unlink(missing_ok=True)

    def facts(self) -> DeviceFacts:
        props = parse_getprop(self.run(["getprop"], timeout=30).stdout)
        soc = props.get("ro.soc.model") or props.get("ro.board.platform") or props.get("ro.hardware")
        return DeviceFacts(
            serial=self._serial, kind="android", model=props.get("ro.product.model"), soc=soc,
            abi=props.get("ro.product.cpu.abi"), os_version=props.get("ro.build.version.release"),
            extra={k: v for k, v in {
                "manufacturer": props.get("ro.product.manufacturer"),
                "soc_manufacturer": props.get("ro.soc.manufacturer"),
                "board_platform": props.get("ro.board.platform"),
                "sdk": props.get("ro.build.version.sdk"),
                "fingerprint": props.get("ro.build.fingerprint"),
            }.items() if v})
