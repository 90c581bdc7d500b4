"""edgeq zoo get NAME --data SPLIT DIR: the split's files (labels included, the cache's
manifest not) copied into a new directory, all or nothing."""

from __future__ import annotations

import pytest

from edgeq.errors import UsageError
from edgeq.zoo import datasets


@pytest.fixture
def split_dir(tmp_path, monkeypatch):
    src = tmp_path / "cache" / "text_lines" / "eval"
    src.mkdir(parents=True)
    for name in ("line_000.png", "line_001.png", "labels.json", "manifest.json"):
        (src / name).write_bytes(name.encode())
    monkeypatch.setattr(datasets, "dataset_dir", lambda kind, split, cache_dir=None: src)
    return src


def test_export_copies_the_split_without_the_manifest(split_dir, tmp_path):
    files = datasets.export_split("ppocr-cls", "eval", tmp_path / "out" / "eval")
    assert [f.name for f in files] == ["labels.json", "line_000.png", "line_001.png"]
    assert (tmp_path / "out" / "eval" / "line_001.png").read_bytes() == b"line_001.png"


def test_export_refuses_a_non_empty_directory_and_a_bad_split(split_dir, tmp_path):
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep")
    with pytest.raises(UsageError, match="busy: exists and is not an empty directory"):
        datasets.export_split("ppocr-cls", "eval", dest)
    assert sorted(p.name for p in dest.iterdir()) == ["mine.txt"]
    with pytest.raises(UsageError, match="split 'test' is not one of calib, eval"):
        datasets.export_split("ppocr-cls", "test", tmp_path / "new")


def test_cli_exports(split_dir, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from edgeq import zoo
    from edgeq.cli import build_cli

    monkeypatch.setattr(zoo, "get", lambda name, cache_dir=None: tmp_path / "m.onnx")
    result = CliRunner().invoke(build_cli(), ["zoo", "get", "ppocr-cls", "--data", "eval", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["labels.json", "line_000.png", "line_001.png"]
