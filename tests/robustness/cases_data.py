"""Bad calibration data for the corpus's small CNN (input 'x' [1, 3, 16, 16]): image,
.npy/.npz, audio and text files that are empty, unreadable, of the wrong mode, size,
shape or dtype, pickled, or hold NaN."""

from __future__ import annotations

import io
import wave

import numpy as np
from PIL import Image

from _corpus import Case, Workspace


def _dir(ws: Workspace, name: str):
    d = ws.root / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def _good_npys(d, n=3):
    rng = np.random.default_rng(0)
    for i in range(n):
        np.save(d / f"{i}.npy", rng.standard_normal((1, 3, 16, 16)).astype(np.float32))


def _npy_case(id, write, needles, status=1, extra=(), good_too=True):
    """A directory of good samples plus the bad file ``write(dir)`` makes."""
    def make(ws):
        d = _dir(ws, "data")
        if good_too:
            _good_npys(d)
        write(d)
        return ws.build(ws.model, *extra, calib=d, status=status, needles=tuple(needles))
    return Case(id, "data", make)


def _save_npy(name, array):
    return lambda d: np.save(d / name, array)


def _raw(name, data: bytes):
    return lambda d: (d / name).write_bytes(data)


def _img_case(id, write, needles, status=1, extra=()):
    def make(ws):
        d = _dir(ws, "images")
        for i in range(2):
            Image.fromarray(np.full((20, 20, 3), 40 * i, np.uint8)).save(d / f"good{i}.png")
        write(d)
        return ws.build(ws.model, *extra, calib=d, status=status, needles=tuple(needles))
    return Case(id, "data", make)


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _bomb(d):
    # 1-bit 30000x30000 PNG: a few kB on disk, 900 Mpixel decoded (over pillow's bomb limit)
    Image.new("1", (30000, 30000)).save(d / "bomb.png", optimize=True)


def _wav(d, name, rate=16000, seconds=0.5, width=2, channels=1, truncate=None):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00" * int(rate * seconds) * channels)
    data = buf.getvalue()
    (d / name).write_bytes(data[:truncate] if truncate else data)


def _audio_case(id, write, needles, status=1, window=768):
    """Audio data for an audio model would be cut into windows; here the .wav files go to
    the CNN, so what matters is that the bad file is named before any shape question."""
    def make(ws):
        d = _dir(ws, "wavs")
        _wav(d, "good.wav")
        write(d)
        return ws.build(ws.model, "--calib-kind", "audio", "--calib-opt", f"window={window}", calib=d, status=status,
                        needles=tuple(needles))
    return Case(id, "data", make)


def _text_case(id, write, needles, status=1):
    def make(ws):
        d = _dir(ws, "text")
        write(d)
        return ws.build(ws.model, "--calib-kind", "text", "--calib-opt", f"tokenizer_json={d / 'tokenizer.json'}",
                        calib=d / "lines.txt", status=status, needles=tuple(needles))
    return Case(id, "data", make)


CASES: list[Case] = [
    _npy_case("data-empty-directory", lambda d: None, ["data", "empty"], good_too=False),
    Case("data-missing-directory", "data", lambda ws: ws.build(ws.model, calib=ws.root / "nowhere", status=1,
                                                               needles=("nowhere",))),
    Case("data-is-a-file", "data", lambda ws: ws.build(ws.model, calib=ws.model, status=1, needles=("cnn.onnx",))),
    _npy_case("data-only-unrelated-files", _raw("notes.txt", b"hello"), ["data"], good_too=False),
    _npy_case("data-npy-random-bytes", _raw("z_rand.npy", np.random.default_rng(1).bytes(300)), ["z_rand.npy"]),
    _npy_case("data-npy-truncated", lambda d: (d / "z_trunc.npy").write_bytes((d / "0.npy").read_bytes()[:200]),
              ["z_trunc.npy"]),
    _npy_case("data-npy-pickled-object", _save_npy("z_obj.npy", np.array([{"x": 1}, None], dtype=object)),
              ["z_obj.npy"]),
    _npy_case("data-npy-wrong-shape", _save_npy("z_shape.npy", np.zeros((1, 3, 8, 8), np.float32)),
              ["z_shape.npy"]),
    _npy_case("data-npy-wrong-rank", _save_npy("z_rank.npy", np.zeros((3, 16, 16), np.float32)), ["z_rank.npy"]),
    _npy_case("data-npy-wrong-dtype-int", _save_npy("z_int.npy", np.zeros((1, 3, 16, 16), np.int64)),
              ["z_int.npy"]),
    _npy_case("data-npy-wrong-dtype-complex", _save_npy("z_cplx.npy", np.zeros((1, 3, 16, 16), np.complex64)),
              ["z_cplx.npy"]),
    _npy_case("data-npy-strings", _save_npy("z_str.npy", np.array(["a", "b"])), ["z_str.npy"]),
    _npy_case("data-npy-nan", _save_npy("z_nan.npy", np.full((1, 3, 16, 16), np.nan, np.float32)),
              ["z_nan.npy", "NaN"]),
    _npy_case("data-npy-inf", _save_npy("z_inf.npy", np.where(np.arange(768).reshape(1, 3, 16, 16) == 5, np.inf,
                                                              0).astype(np.float32)), ["z_inf.npy"]),
    _npy_case("data-npy-zero-size", _save_npy("z_empty.npy", np.zeros((0,), np.float32)), ["z_empty.npy"]),
    _npy_case("data-npy-scalar", _save_npy("z_scalar.npy", np.float32(1.0)), ["z_scalar.npy"]),
    _npy_case("data-only-nan", _save_npy("0.npy", np.full((1, 3, 16, 16), np.nan, np.float32)), ["0.npy"],
              good_too=False),
    _npy_case("data-npz-wrong-input-name", lambda d: np.savez(d / "z.npz", y=np.zeros((1, 3, 16, 16), np.float32)),
              ["'y'", "'x'"], good_too=False),
    _npy_case("data-npz-corrupt", _raw("z_bad.npz", b"PK\x03\x04" + b"\0" * 60), ["z_bad.npz"], good_too=False),
    _npy_case("data-dangling-symlink", lambda d: (d / "z_link.npy").symlink_to(d / "gone.npy"), ["z_link.npy"]),
    _npy_case("data-mixed-kinds", lambda d: Image.new("RGB", (16, 16)).save(d / "img.png"), ["mixes data kinds"],
              status=2),
    _img_case("data-image-random-bytes", _raw("z_broken.jpg", np.random.default_rng(2).bytes(500)), ["z_broken.jpg"]),
    _img_case("data-image-truncated", lambda d: (d / "z_trunc.png").write_bytes(
        _png_bytes(Image.fromarray(np.random.default_rng(3).integers(0, 255, (64, 64, 3), np.uint8)))[:300]),
        ["z_trunc.png"]),
    _img_case("data-image-decompression-bomb", _bomb, ["bomb.png"]),
    _img_case("data-image-wrong-size-no-resize", lambda d: None, ["good0.png", "16"],
              extra=("--calib-opt", "resize=null")),
    _img_case("data-image-wrong-mode-grey-for-rgb", lambda d: None, ["'x'", "(1, 1, 16, 16)"],
              extra=("--calib-opt", "color=L", "--calib-opt", "mean=[0.5]", "--calib-opt", "std=[0.5]")),
    _img_case("data-image-zero-std", lambda d: None, ["std"], status=2, extra=("--calib-opt", "std=[0,1,1]")),
    _audio_case("data-wav-truncated", lambda d: _wav(d, "z_trunc.wav", truncate=30), ["z_trunc.wav"]),
    _audio_case("data-wav-not-riff", _raw("z_fake.wav", b"ID3" + b"\0" * 200), ["z_fake.wav"]),
    _audio_case("data-wav-window-does-not-fit-input", lambda d: None, ["'x'", "(1, 500)", "window"], status=2,
                window=500),
    _text_case("data-text-bad-tokenizer", lambda d: ((d / "lines.txt").write_text("hello\n"),
                                                      (d / "tokenizer.json").write_text("{not json"))[0],
               ["tokenizer.json"]),
    _text_case("data-text-empty-file", lambda d: ((d / "lines.txt").write_text("\n\n"),
                                                   (d / "tokenizer.json").write_text("{}"))[0],
               ["lines.txt"]),
]
