"""An in-process adb server speaking the real smart-socket protocol on 127.0.0.1.

Requests are ``<4 hex digits length><service>``; replies ``OKAY`` or ``FAIL<4 hex
length><message>`` (AOSP ``packages/modules/adb/SERVICES.TXT``). Host services:
``host:version``, ``host:devices``, ``host:devices-l``, ``host:kill``,
``host:tport:serial:<s>`` (OKAY + 8-byte transport id, then the connection belongs to
the device), ``host:transport:<s>``, ``host-serial:<s>:features|get-state|
get-serialno``. Device services after a transport switch: ``shell:<cmd>`` (v1: raw
bytes, stderr merged, connection closed at exit), ``shell,v2[,raw]:<cmd>`` (packets
``id:u8 len:u32le data``; stdout 1, stderr 2, exit 3) and ``sync:`` (``SYNC.TXT``:
STAT, LIST, SEND, RECV, QUIT).

Each "device" is a :class:`~fake_adb.device.FakeDevice` sandbox; commands run with
/bin/sh. When the client closes a shell connection early, the command's process group
is killed, as adbd does.
"""

from __future__ import annotations

import os
import signal
import socket
import socketserver
import stat as stat_mod
import struct
import threading
from pathlib import Path

from .device import FakeDevice

ADB_SERVER_VERSION = 41
SYNC_DATA_MAX = 64 * 1024


class _Closed(Exception):
    pass


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise _Closed()
        buf += chunk
    return bytes(buf)


def _okay(sock, payload: bytes = b"") -> None:
    sock.sendall(b"OKAY" + payload)


def _fail(sock, message: str) -> None:
    data = message.encode()
    sock.sendall(b"FAIL" + b"%04x" % len(data) + data)


def _block(text: str) -> bytes:
    data = text.encode()
    return b"%04x" % len(data) + data


class FakeAdbServer:
    """Start with ``with FakeAdbServer() as server:``; ``server.port`` is the port."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.devices: dict[str, FakeDevice] = {}
        self.requests: list[str] = []
        self._next_tid = 1
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    fake._serve(self.request)
                except (_Closed, ConnectionError, OSError):
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def add_device(self, serial: str, state: str = "device", **kwargs) -> FakeDevice:
        dev = FakeDevice(serial, self.root / serial.replace(":", "_"), state=state,
                         transport_id=self._next_tid, **kwargs)
        self._next_tid += 1
        self.devices[serial] = dev
        return dev

    # -- protocol -----------------------------------------------------------------------

    def _listed(self) -> list[FakeDevice]:
        return [d for d in self.devices.values() if d.present]

    def _lookup(self, serial: str) -> tuple[FakeDevice | None, str]:
        dev = self.devices.get(serial)
        if dev is None or not dev.present:
            return None, f"device '{serial}' not found"
        if dev.state == "unauthorized":
            return None, ("device unauthorized.\nThis adb server's $ADB_VENDOR_KEYS is not set\n"
                          "Try 'adb kill-server' if that seems wrong.\n"
                          "Otherwise check for a confirmation dialog on your device.")
        if dev.state != "device":
            return None, f"device {dev.state}"
        return dev, ""

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                length = int(_recv_exact(sock, 4), 16)
            except _Closed:
                return
            req = _recv_exact(sock, length).decode()
            self.requests.append(req)
            if req == "host:version":
                _okay(sock, _block("%04x" % ADB_SERVER_VERSION))
            elif req in ("host:devices", "host:devices-l"):
                lines = []
                for d in self._listed():
                    if req.endswith("-l"):
                        lines.append(f"{d.serial:<22} {d.state} product:fake model:"
                                     f"{d.props.get('ro.product.model', '?').replace(' ', '_')} "
                                     f"device:fake transport_id:{d.transport_id}")
                    else:
                        lines.append(f"{d.serial}\t{d.state}")
                _okay(sock, _block("".join(line + "\n" for line in lines)))
            elif req == "host:kill":
                _okay(sock)
                return
            elif req.startswith(("host:tport:serial:", "host:transport:")):
                serial = req.split(":", 3)[-1] if req.startswith("host:tport") else req.split(":", 2)[-1]
                dev, err = self._lookup(serial)
                if dev is None:
                    _fail(sock, err)
                    return
                _okay(sock, struct.pack("<Q", dev.transport_id) if req.startswith("host:tport") else b"")
                self._device_service(sock, dev)
                return
            elif req.startswith("host-serial:"):
                serial, _, cmd = req[len("host-serial:"):].rpartition(":")
                dev, err = self._lookup(serial)
                if cmd == "get-state" and serial in self.devices and self.devices[serial].present:
                    _okay(sock, _block(self.devices[serial].state))
                elif dev is None:
                    _fail(sock, err)
                elif cmd == "features":
                    _okay(sock, _block(dev.features))
                elif cmd == "get-serialno":
                    _okay(sock, _block(dev.serial))
                else:
                    _fail(sock, f"unsupported host-serial request {cmd!r}")
                return
            else:
                _fail(sock, f"unknown host service {req!r}")
                return

    def _device_service(self, sock: socket.socket, dev: FakeDevice) -> None:
        length = int(_recv_exact(sock, 4), 16)
        req = _recv_exact(sock, length).decode()
        self.requests.append(req)
        if req == "sync:":
            _okay(sock)
            _Sync(sock, dev).serve()
        elif req.startswith("shell"):
            head, _, command = req.partition(":")
            args = head.split(",")[1:]
            if not command:
                _fail(sock, "interactive shells are not supported by the fake device")
                return
            _shell(sock, dev, command, v2="v2" in args)
        else:
            _fail(sock, f"unknown device service {req!r}")


def _shell(sock: socket.socket, dev: FakeDevice, command: str, v2: bool) -> None:
    _okay(sock)
    if dev.should_vanish(command):
        sock.shutdown(socket.SHUT_RDWR)
        return
    proc = dev.spawn(command, merge_stderr=not v2)
    send_lock = threading.Lock()
    done = threading.Event()

    def send(kind: int, data: bytes) -> None:
        data = dev.unmap(data)
        with send_lock:
            if v2:
                sock.sendall(bytes([kind]) + struct.pack("<I", len(data)) + data)
            else:
                sock.sendall(data)

    def pump(pipe, kind: int) -> None:
        try:
            while chunk := os.read(pipe.fileno(), 65536):
                send(kind, chunk)
        except OSError:
            pass

    def watch() -> None:
        # The client never writes after the request (no stdin); EOF means it went away.
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass
        if not done.is_set():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    threading.Thread(target=watch, daemon=True).start()
    pumps = [threading.Thread(target=pump, args=(proc.stdout, 1), daemon=True)]
    if proc.stderr is not None:
        pumps.append(threading.Thread(target=pump, args=(proc.stderr, 2), daemon=True))
    for t in pumps:
        t.start()
    code = proc.wait()
    for t in pumps:
        t.join()
    done.set()
    if v2:
        with send_lock:
            sock.sendall(bytes([3]) + struct.pack("<I", 1) + bytes([code & 0xFF]))
    sock.shutdown(socket.SHUT_RDWR)


class _Sync:
    """The sync: service of one connection (SYNC.TXT)."""

    def __init__(self, sock: socket.socket, dev: FakeDevice):
        self.sock, self.dev = sock, dev

    def serve(self) -> None:
        while True:
            try:
                head = _recv_exact(self.sock, 8)
            except _Closed:
                return
            ident, n = head[:4], struct.unpack("<I", head[4:])[0]
            if ident == b"QUIT":
                return
            path = _recv_exact(self.sock, n).decode()
            handler = {b"STAT": self.stat, b"LIST": self.list, b"SEND": self.send,
                       b"RECV": self.recv}.get(ident)
            if handler is None:
                self._fail(f"unknown sync request {ident!r}")
                return
            if handler(path) is False:
                return

    def _fail(self, message: str) -> None:
        data = message.encode()
        self.sock.sendall(b"FAIL" + struct.pack("<I", len(data)) + data)

    def stat(self, path: str) -> None:
        try:
            st = os.stat(self.dev.map_path(path))
            reply = struct.pack("<III", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime))
        except (OSError, ValueError):
            reply = struct.pack("<III", 0, 0, 0)
        self.sock.sendall(b"STAT" + reply)

    def list(self, path: str) -> None:
        try:
            base = self.dev.map_path(path)
            names = [".", ".."] + sorted(os.listdir(base))
        except (OSError, ValueError):
            names, base = [], None
        for name in names:
            st = os.stat(base / name) if base is not None else None
            data = name.encode()
            self.sock.sendall(b"DENT" + struct.pack("<IIII", st.st_mode, st.st_size & 0xFFFFFFFF,
                                                     int(st.st_mtime), len(data)) + data)
        self.sock.sendall(b"DONE" + bytes(16))

    def send(self, spec: str):
        path, _, mode = spec.rpartition(",")
        faults = self.dev.faults
        error, target = None, None
        try:
            target = self.dev.map_path(path)
        except ValueError as exc:
            error = str(exc)
        tmp = None
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.sync-tmp")
        used, received, complete = self.dev.disk_used(), 0, False
        fh = open(tmp, "wb") if tmp is not None else None
        try:
            while True:
                ident = _recv_exact(self.sock, 4)
                n = struct.unpack("<I", _recv_exact(self.sock, 4))[0]
                if ident == b"DONE":
                    mtime = n
                    break
                if ident != b"DATA" or n > SYNC_DATA_MAX:
                    self._fail(f"bad sync packet {ident!r} of {n} bytes")
                    return False
                chunk = _recv_exact(self.sock, n)
                received += n
                if faults.disconnect_push > 0 and received > faults.disconnect_after_bytes:
                    faults.disconnect_push -= 1
                    self.sock.shutdown(socket.SHUT_RDWR)  # the cable wobbles mid-push
                    return False
                if error is None and faults.quota_bytes is not None and \
                        used + received > faults.quota_bytes:
                    error = "write failed: No space left on device"
                if error is None:
                    fh.write(chunk)
            if error is None:
                fh.close()
                os.replace(tmp, target)
                self.dev.pushed(target)
                os.chmod(target, stat_mod.S_IMODE(int(mode)) if mode else 0o644)
                os.utime(target, (mtime, mtime))
                complete = True
        finally:
            if fh is not None:
                fh.close()
            if not complete and tmp is not None:
                tmp.unlink(missing_ok=True)  # adbd removes a partial file
        if error is not None:
            self._fail(error)
            return False
        self.sock.sendall(b"OKAY" + bytes(4))

    def recv(self, path: str):
        try:
            fh = open(self.dev.map_path(path), "rb")
        except (OSError, ValueError) as exc:
            self._fail(f"open failed: {getattr(exc, 'strerror', None) or exc}")
            return False
        with fh:
            while chunk := fh.read(SYNC_DATA_MAX):
                self.sock.sendall(b"DATA" + struct.pack("<I", len(chunk)) + chunk)
        self.sock.sendall(b"DONE" + bytes(4))
