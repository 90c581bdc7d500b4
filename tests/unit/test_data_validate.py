"""edgeq.data: npy/npz feeds, text tokenisation, iterables, validation against a model
graph and the errors for bad calibration data."""

from __future__ import annotations

import numpy as np
import pytest

import edgeq.data as ed
from edgeq.errors import CalibrationError, ConfigError
from edgeq.ir.graph import Graph, Tensor


def _graph(**inputs) -> Graph:
    g = Graph(name="m")
    for name, (shape, dtype) in inputs.items():
        g.tensors[name] = Tensor(name, dtype, shape)
        g.inputs.append(name)
    g.tensors["w"] = Tensor("w", np.float32, (2,), np.ones(2, np.float32))
    g.inputs.append("w")  # constant-initialised input: never fed
    return g


def test_npy_npz_and_stacked(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((1, 4), np.float32))
    np.savez(tmp_path / "b.npz", input=np.zeros((1, 4), np.float32))
    ds = ed.npy(tmp_path)
    assert len(ds) == 2 and [f["input"].sum() for f in ds] == [4.0, 0.0]
    ds.validate(_graph(input=((1, 4), np.float32)))

    stack = tmp_path / "stack"
    stack.mkdir()
    np.savez(stack / "s.npz", ids=np.arange(12).reshape(3, 1, 4), mask=np.ones((3, 1, 4), np.int64))
    st = ed.npy(stack, stacked=True)
    assert len(st) == 3
    np.testing.assert_array_equal(st[2]["ids"], [[8, 9, 10, 11]])


def test_npy_refuses_object_arrays(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CalibrationError, match="o.npy"):
        list(ed.npy(tmp_path))


def test_nan_and_inf_are_rejected_with_the_file_name(tmp_path):
    np.save(tmp_path / "ok.npy", np.ones((1, 4), np.float32))
    np.save(tmp_path / "zz_bad.npy", np.array([[1, np.nan, np.inf, 0]], np.float32))
    ds = ed.npy(tmp_path)
    with pytest.raises(CalibrationError, match=r"zz_bad\.npy.*2 NaN/Inf"):
        list(ds)
    ds.validate(_graph(input=((1, 4), np.float32)))  # the first sample alone is fine
    with pytest.raises(CalibrationError, match="zz_bad"):
        ds.validate(_graph(input=((1, 4), np.float32)), full=True)


def test_inconsistent_samples(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((1, 4), np.float32))
    np.save(tmp_path / "b.npy", np.ones((1, 5), np.float32))
    with pytest.raises(CalibrationError, match=r"b\.npy.*earlier samples"):
        list(ed.npy(tmp_path))


def test_validate_names_shapes_and_dtypes():
    ds = ed.from_iterable([{"x": np.zeros((1, 3), np.float32)}])
    ds.validate(_graph(x=((1, 3), np.float32)))
    with pytest.raises(CalibrationError, match=r"missing \['y'\]"):
        ds.validate(_graph(x=((1, 3), np.float32), y=((1,), np.float32)))
    with pytest.raises(CalibrationError, match=r"unexpected \['x'\]"):
        ds.validate(_graph(z=((1, 3), np.float32)))
    with pytest.raises(CalibrationError, match=r"'x' has shape \(1, 3\).*expects \(1, 4\)"):
        ds.validate(_graph(x=((1, 4), np.float32)))
    with pytest.raises(CalibrationError, match="dtype float32.*expects int64"):
        ds.validate(_graph(x=((1, 3), np.int64)))


def test_from_iterable_generator_sequence_and_errors():
    gen = ({"x": np.full((2,), i, np.float32)} for i in range(10))
    ds = ed.from_iterable(gen, num_samples=4, seed=1)
    assert len(ds) == 4 and len(list(ds)) == 4  # re-iterable although built from a generator
    same = ed.from_iterable([{"x": np.full((2,), i, np.float32)} for i in range(10)],
                            num_samples=4, seed=1)
    assert ds.fingerprint() == same.fingerprint()
    assert [int(f["x"][0]) for f in ds] == [int(f["x"][0]) for f in same]
    with pytest.raises(CalibrationError, match="empty"):
        len(ed.from_iterable([]))
    with pytest.raises(CalibrationError, match=r"samples\[0\] is a list"):
        list(ed.from_iterable([[1, 2]]))
    with pytest.raises(CalibrationError, match="not numeric"):
        list(ed.from_iterable([{"x": [object()]}]))


def _tokenizer_json(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, normalizers, pre_tokenizers, processors

    vocab = {t: i for i, t in enumerate(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "on", "mat", "a"])}
    tok = tokenizers.Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return path


def test_text_tokenises_pads_and_truncates(tmp_path):
    tok = _tokenizer_json(tmp_path)
    (tmp_path / "s.txt").write_text("The cat sat\n\nthe cat sat on a mat the end\n")
    ds = ed.text(tmp_path / "s.txt", tok, max_len=6)
    assert len(ds) == 2  # blank line skipped
    first, second = list(ds)
    np.testing.assert_array_equal(first["input_ids"], [[2, 4, 5, 6, 3, 0]])
    np.testing.assert_array_equal(first["attention_mask"], [[1, 1, 1, 1, 1, 0]])
    np.testing.assert_array_equal(second["input_ids"], [[2, 4, 5, 6, 7, 3]])  # truncated
    assert first["input_ids"].dtype == np.int64
    ds.validate(_graph(input_ids=((1, 6), np.int64), attention_mask=((1, 6), np.int64)))
    with_types = ed.text(tmp_path / "s.txt", tok, max_len=6, token_type_ids="token_type_ids")
    assert not with_types[0]["token_type_ids"].any()
    assert ds.fingerprint() != ed.text(tmp_path / "s.txt", tok, max_len=7).fingerprint()


def test_text_errors(tmp_path):
    tok = _tokenizer_json(tmp_path)
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(CalibrationError, match="empty"):
        len(ed.text(tmp_path / "empty.txt", tok))
    (tmp_path / "s.txt").write_text("a cat\n")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(CalibrationError, match="bad.json"):
        list(ed.text(tmp_path / "s.txt", tmp_path / "bad.json"))


def test_create_by_kind(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((1, 4), np.float32))
    assert len(ed.create("npy", path=tmp_path)) == 1
    with pytest.raises(ConfigError, match="unknown calibration data kind 'video'"):
        ed.create("video", path=tmp_path)
    with pytest.raises(ConfigError, match="bad options"):
        ed.create("npy", path=tmp_path, colour="red")
