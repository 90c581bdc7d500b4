"""The torch-free .pth reader against files written by real torch, and its refusal of
any global that is not a tensor or an OrderedDict.

The two fixtures were written by torch 2.13.0 (``torch.save(sd, f)`` and
``torch.save(sd, f, _use_new_zipfile_serialization=False)``) for this state dict::

    w = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    sd = OrderedDict(w=w, wt=w.transpose(0, 2), off=w.view(-1)[5:11],
                     h=torch.tensor([1.5, -2.25], dtype=torch.float16),
                     bf=torch.tensor([1.0, -3.5, 0.15625], dtype=torch.bfloat16),
                     i64=torch.tensor(7), b=torch.tensor([True, False, True]),
                     u8=torch.arange(5, dtype=torch.uint8),
                     p=nn.Parameter(torch.full((2, 2), 0.5)), empty=torch.zeros(0, 3))

(zlib-compressed, base64). The expected arrays below are rebuilt with numpy from the
same recipe, independently of the reader.
"""

from __future__ import annotations

import base64
import io
import pickle
import struct
import zipfile
import zlib

import numpy as np
import pytest

from edgeq.errors import ModelLoadError
from edgeq.zoo.torch_pickle import LEGACY_MAGIC, load_state_dict

ZIP_PTH = (
    "eNqllk1sG0UUx9efcU2ajxaaNkAIUIoDjWN7/ZU2iZOlLC3bUmfbFJOL4zjr2MLx+tmTVEVQGYqT9lZxggvq"
    "sRIHkDjAMeLMBVXKhR4qcUCc4MSZN7Ox2Zl8WElGedk4mv/v/Z9n5s2mNZdbknw+acfok05IuVq+WFozxpZy"
    "JBesflxWlR5pnhsNZz5vlstGnpTMSt1/vbZk1IylS6U88YM0ooMjkHEg7DY488REWjC7Skrluj9bMxZXS+Wl"
    "LDEqdbOWXYv4wRUIZLpwch1n5pYNcFsSv1o2c+SG9U8/eBgwBN6MC5/56ip0aacJ+GY1SXNqLs29Ace0bs2t"
    "OTbA/6BITTxHoFuH4xkndUKgp4iZiu6ip+gtMm0v1bpR69yAPs2Bf3ZvQL+lPUHgpA7Ps2RmoQAviOJTs5pH"
    "8zZhQHM04bQlOkNgUIcXmdMivGRJtqu5nCsX2sW8zKaEYQhZTgKvsCKaMExZr1qs1wi8rsNZZn6xAG9wMIV9"
    "N+F4G3iOASPwJgJdBAIU6GrCCAW+ZQHfJnBeh1FWUSkehSBHvGpWltu0MUaTIYQ0B4Ew0kZGLEqEgKxDlE1Y"
    "hBjvyjTLbUacTYlCwnKU3HY0Th1dsFgXCUzoMMlKXE3CFA+7Q4w2LMVgMZhGmIfADIV5mqBQ2DsW7BKBd3VQ"
    "2cQqvLfHtqvmarkVgxg1P1xurSiTxOEKst0E3rc2lHMdNHw41uGqxb9G4AMdrt9nH9IbMKuDnvGg0lipkjtw"
    "g6Ml4CbSJAJzlIaFr8Mt3GdI+9CiZQh8pMP8ajCtdfn+3borX8FloZHe82AOSJH2wQwWzNpKjmTXjFodD6Cq"
    "BIXz2WmEad6f/n56j7qlsXfeQSnxf97tM5rNlUvLlRWjQlRFPmBqNuJRaiB1G/6ii+/c10C/lGobWMRdYdJm"
    "oyoXD5O3NcolQsoG9dCc/OOMF7N49/XQI01xXXEspCoXjmDAojZS+GsafzAaGI8wNjGeYUgz2IsxhjFCGNMY"
    "aYwFjCpGA+M+xkOMrzEeYTzG+AHj5xla2RczTysLCFroUNlZvrKwqgx3rEyaamzSHJ9du/U9giV3hxzTfI6I"
    "qkwcZfnmG6mFzeEp6qDwi1k7xPrJR1u/rm0udVDd+tOkKX0dHEzwDqKqkjy0A4fkoKl/vPflA9rPXR1Sz/Cp"
    "Y6oyeaSvf15yOF1u6uDXJ/OztAt6OjhI8Q7iRzy/yEzZg1o5d3f0cR97g2lZkXa1EuWtJFQldGAre5faK51s"
    "89vtuVdMIPup49++XZ7r3P+G7I2fWa4btRJ24E9y9O0rW1o6eP8PJSPxZDyaSMixeCgaSyQSoVAonBiPxCNy"
    "OCLLIVlOjI9HktTl759/Wg+gjwBz6aBm2z7tV1ffDufie6Sotl9AA5zyG5e012UnQuyXyCB/cbilfW4ukWO/"
    "CPo5zlc2TvsCEuX2btvDyU95JOHuELX2Lspr/xG1YVFr73+89qZX0EZErb1z8dotUSuLWnvr4bX0ZZ7vdKLW"
    "3jR47RNRGxO19lPOa+d8gjbe0u7eB+zjmahNiHntZ7WX004fk8QTL4rtR2iI31s28e6HO615vedbrcA1uqOA"
    "1rPusp5Jf+tq8rJb6rvj1mfrLc/jtTQ9bL419z95qBlB"
)
LEGACY_PTH = (
    "eNp9lMtT01AUxvMqaATEN77xXXwgLSENPniJiAYEgo/4mlJKsHVi0y+9xcEZZropRVcuXbhw6dKlS/4Ut/4J"
    "zrjw3KRWi9FMv9zk5OZ3vpx7bivSW9X98WHie/eLT7MHeyvS9DeZzmsQ4nanIAhF32Ne1nPTK45fynsFiDTB"
    "bqcnbp4x10k7haV8pgBpw1YpyFaLTrqUf+2UIK9BidsxCpZyns8QMyVbprt8gaHFVGyFM7zCc7SaSrlMObOU"
    "xnWyjLKU1Bl/yfGdpfF8lqkQeiyIcVukN15ByjLPz+Z602WWd0tq2ncWy3l3Kc2cQsnz0ytJFXI8brfyxDQz"
    "89yBEr6iTrhehs2HQRUxu4PmDGopLaH3a6l+I5E00BJ4zBbLZKvrLsO2OVMwJVM2lRq2m22mYoo1qG9y3NIO"
    "hjYL7bbEfTF05ChvTslFcnfmQl4n5ynEk2rYZYp02VbD7pC3h2GvhX2BA295Gfv/BzxQB3bNmTGzpYqDpljF"
    "oRB0mOGIhaNBwXI4FmLqNZjMuMuNEhz/TR7QjMSAPpjS0U1kicgngk+v4iQnnwrJpxnOWDgbfPLiMs41oceC"
    "+ib0Bj7ehNcMPZFIoofwMuHPc7xcxQWOvxjiLzH0Wrgc9omuoa+JP0Xd0mAntlhP9RkGksQWid1P7J6ekKkx"
    "DFjQg2IsItXs2PPcBtFodqvRycBg3e2Vutur3O21kHydYcjCcFCMsoGRZvQqcxro0S1ona/gGKFjhL7B0bEq"
    "xjn6ZoieYLhlYTIwXcTtf7R8MeNnXjrM8VXc+btXwpKnBpIwKZNCmabCZpbWMU2DuI67YbYZhlkLcxvBjVXD"
    "vIV7wc51XhbZKu5Hs7VBXTPwgNgCsR9yNpVoHTZ1N7EfhezHDE8sPOUb/Bn/U4loODFqKaWo1ZCj6qhE2YpF"
    "tV5LVHFao3bXNqeXr2pwDFU2xfpla32U66MoiLFf00RJVoQtzyvDC5vdQ42wIAz/qS7hz6PCYyP0I1VIH0mb"
    "pK8kYVQQOkndpD7SCGmWtEAqkiqkDdI70nvSR9In0mfSl9Gfbtdl6w=="
)


def _expected() -> dict[str, np.ndarray]:
    w = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    return {
        "w": w, "wt": w.transpose(2, 1, 0), "off": w.reshape(-1)[5:11],
        "h": np.array([1.5, -2.25], np.float16),
        "bf": np.array([1.0, -3.5, 0.15625], np.float32),  # exact in bfloat16
        "i64": np.array(7, np.int64), "b": np.array([True, False, True]),
        "u8": np.arange(5, dtype=np.uint8), "p": np.full((2, 2), 0.5, np.float32),
        "empty": np.zeros((0, 3), np.float32),
    }


@pytest.mark.parametrize("blob", [ZIP_PTH, LEGACY_PTH], ids=["zip", "legacy"])
def test_reads_real_torch_files(tmp_path, blob):
    path = tmp_path / "sd.pth"
    path.write_bytes(zlib.decompress(base64.b64decode(blob)))
    sd = load_state_dict(path)
    expected = _expected()
    assert list(sd) == list(expected)
    for name, want in expected.items():
        got = sd[name]
        assert got.dtype == want.dtype, name
        assert got.shape == want.shape, name
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_legacy_fixture_really_is_legacy():
    raw = zlib.decompress(base64.b64decode(LEGACY_PTH))
    assert not zipfile.is_zipfile(io.BytesIO(raw))
    assert pickle.loads(raw[: raw.index(b".") + 1]) == LEGACY_MAGIC  # a plain int pickle


# -- malicious files -----------------------------------------------------------------------
def _evil_pickle(module: str, name: str, marker) -> bytes:
    """A protocol-2 pickle calling ``module.name("touch <marker>")`` (GLOBAL + REDUCE)."""
    cmd = f"touch {marker}".encode()
    return (b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n"
            + b"X" + struct.pack("<I", len(cmd)) + cmd + b"\x85R.")


def _legacy_with(payload: bytes) -> bytes:
    header = b"".join(pickle.dumps(x, protocol=2) for x in
                      (LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}))
    return header + payload + pickle.dumps([], protocol=2)


def _zip_with(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


@pytest.mark.parametrize("wrap", [_legacy_with, _zip_with], ids=["legacy", "zip"])
@pytest.mark.parametrize("module,name", [("os", "system"), ("posix", "system"),
                                         ("builtins", "eval"), ("subprocess", "call")])
def test_refuses_code_execution(tmp_path, wrap, module, name):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    payload = _evil_pickle(module, name, marker)
    # the payload is a real attack: plain pickle would run the command
    if (module, name) in {("os", "system"), ("posix", "system")}:
        probe = tmp_path / "probe"
        pickle.loads(_evil_pickle(module, name, probe))
        assert probe.exists()
    path.write_bytes(wrap(payload))
    with pytest.raises(ModelLoadError, match=f"refused to load the global '{module}.{name}'"):
        load_state_dict(path)
    assert not marker.exists()


def test_refuses_evil_global_in_header(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    path.write_bytes(_evil_pickle("os", "system", marker))
    with pytest.raises(ModelLoadError, match="os.system"):
        load_state_dict(path)
    assert not marker.exists()


def test_error_names_file_for_garbage(tmp_path):
    path = tmp_path / "garbage.pth"
    path.write_bytes(b"this is not a pickle at all")
    with pytest.raises(ModelLoadError, match="garbage.pth"):
        load_state_dict(path)


def test_truncated_storage_is_reported(tmp_path):
    raw = zlib.decompress(base64.b64decode(LEGACY_PTH))
    path = tmp_path / "cut.pth"
    path.write_bytes(raw[:-10])
    with pytest.raises(ModelLoadError, match="truncated"):
        load_state_dict(path)


def test_unknown_persistent_id_is_refused(tmp_path):
    payload = b"\x80\x02X\x03\x00\x00\x00abcQ."  # BINPERSID with a plain string id
    path = tmp_path / "pid.pth"
    path.write_bytes(_zip_with(payload))
    with pytest.raises(ModelLoadError, match="persistent id"):
        load_state_dict(path)
