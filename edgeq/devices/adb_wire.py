"""Wire-level pieces of the adb transport that need more than adbutils' helpers give.

Everything here runs over connections opened by adbutils (``AdbDevice.open_transport``,
``AdbConnection``); nothing shells out to an ``adb`` binary. Two helpers exist because
the stock adbutils calls lose information edgeq must report:

- :func:`shell_v2` reads the shell protocol v2 stream with one *overall* deadline
  (adbutils' ``shell2`` only sets a per-``recv`` socket timeout, so a command that keeps
  printing would never time out).
- :func:`sync_send` is the sync ``SEND`` request; adbutils' ``Sync.push`` reads only the
  four status bytes of a ``FAIL`` reply and drops the message (e.g. "No space left on
  device").

Protocols (AOSP ``packages/modules/adb``: ``SERVICES.TXT``, ``SYNC.TXT``,
``shell_protocol.h``): a shell v2 packet is ``id:u8 length:u32le payload`` with ids
stdin=0, stdout=1, stderr=2, exit=3; a sync request is ``id:4 bytes length:u32le path``;
``SEND`` streams ``DATA length:u32le bytes`` chunks (at most 64 KiB each) and ends with
``DONE mtime:u32le``; the reply is ``OKAY`` (+4 bytes) or ``FAIL length:u32le message``.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
import time
from dataclasses import dataclass
from pathlib import Path

#: shell protocol v2 packet ids (shell_protocol.h)
ID_STDOUT, ID_STDERR, ID_EXIT = 1, 2, 3
#: SYNC_DATA_MAX in file_sync_protocol.h
SYNC_DATA_MAX = 64 * 1024


class WireTimeout(Exception):
    """The overall deadline of a shell command passed."""


class ConnectionLost(Exception):
    """The connection closed before the reply was complete."""


class SyncFail(Exception):
    """The device answered a sync request with FAIL; the message is the device's own."""


@dataclass
class ShellOutput:
    returncode: int
    stdout: bytes
    stderr: bytes


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WireTimeout()
            sock.settimeout(remaining)
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            raise WireTimeout() from None
        if not chunk:
            raise ConnectionLost(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def _check_okay(sock: socket.socket, deadline: float | None) -> None:
    """Read an OKAY/FAIL status of a smart-socket request (FAIL carries a hex length)."""
    status = _recv_exact(sock, 4, deadline)
    if status == b"OKAY":
        return
    if status == b"FAIL":
        n = int(_recv_exact(sock, 4, deadline), 16)
        raise RequestFailed(_recv_exact(sock, n, deadline).decode("utf-8", "replace"))
    raise ConnectionLost(f"unexpected reply {status!r}")


class RequestFailed(Exception):
    """The adb server or device refused a request (the message is adb's own)."""


def shell_v2(conn, command: str, timeout: float) -> ShellOutput:
    """Run ``command`` on a transport-bound adbutils connection with shell protocol v2.

    ``conn`` is an ``AdbConnection`` already switched to the device (``open_transport()``).
    Raises :class:`WireTimeout` after ``timeout`` seconds in total; the caller closes
    the connection, which makes adbd end the command.
    """
    deadline = time.monotonic() + timeout
    sock = conn.conn
    payload = f"shell,v2,raw:{command}".encode("utf-8")
    sock.sendall(b"%04x" % len(payload) + payload)
    _check_okay(sock, deadline)
    out, err = bytearray(), bytearray()
    while True:
        header = _recv_exact(sock, 5, deadline)
        length = int.from_bytes(header[1:5], "little")
        data = _recv_exact(sock, length, deadline) if length else b""
        if header[0] == ID_STDOUT:
            out += data
        elif header[0] == ID_STDERR:
            err += data
        elif header[0] == ID_EXIT:
            if len(data) != 1:
                raise ConnectionLost(f"malformed exit packet of {len(data)} bytes")
            return ShellOutput(data[0], bytes(out), bytes(err))


def shell_v1(conn, command: str, timeout: float) -> ShellOutput:
    """Fallback for devices without ``shell_v2`` (Android < 7): run the command and
    append its exit status to stdout behind a marker, since v1 carries no exit code."""
    marker = b"\x1fEDGEQ-EXIT:"
    deadline = time.monotonic() + timeout
    sock = conn.conn
    # a subshell, so that an `exit` in the command still reaches the marker
    payload = f"shell:({command}\n); echo '{marker.decode()}'$?".encode("utf-8")
    sock.sendall(b"%04x" % len(payload) + payload)
    _check_okay(sock, deadline)
    data = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WireTimeout()
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise WireTimeout() from None
        if not chunk:
            break
        data += chunk
    idx = data.rfind(marker)
    if idx < 0:
        raise ConnectionLost("shell output ended without the exit status marker")
    code = int(data[idx + len(marker):].strip() or b"255")
    return ShellOutput(code, bytes(data[:idx]), b"")


def sync_send(conn, local: Path, remote: str, mode: int, timeout: float | None) -> int:
    """Push ``local`` to ``remote`` with the sync SEND request; returns bytes sent.

    Raises :class:`SyncFail` with the device's message when it refuses the file (full
    disk, permission denied, read-only file system …).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    sock = conn.conn
    sock.sendall(b"0005sync:")
    _check_okay(sock, deadline)
    spec = f"{remote},{stat.S_IFREG | mode}".encode("utf-8")
    sent = 0
    try:
        sock.sendall(b"SEND" + struct.pack("<I", len(spec)) + spec)
        with open(local, "rb") as fh:
            while chunk := fh.read(SYNC_DATA_MAX):
                sock.sendall(b"DATA" + struct.pack("<I", len(chunk)) + chunk)
                sent += len(chunk)
        mtime = int(os.stat(local).st_mtime)
        sock.sendall(b"DONE" + struct.pack("<I", mtime))
    except (BrokenPipeError, ConnectionResetError):
        # adbd may answer FAIL and close before it has read everything: prefer its
        # message over the broken pipe.
        pass
    status = _recv_exact(sock, 4, deadline)
    if status == b"OKAY":
        return sent
    if status == b"FAIL":
        n = struct.unpack("<I", _recv_exact(sock, 4, deadline))[0]
        raise SyncFail(_recv_exact(sock, n, deadline).decode("utf-8", "replace"))
    raise ConnectionLost(f"unexpected sync reply {status!r}")
