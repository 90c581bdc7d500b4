"""edgeq.data.audio and edgeq.data.wav: WAV decoding of every supported encoding,
band-limited resampling against analytic sines, and model-shaped chunking."""

from __future__ import annotations

import struct
import wave

import numpy as np
import pytest

import edgeq.data as ed
from edgeq.data.wav import read_wav, resample, write_wav
from edgeq.errors import CalibrationError, UsageError


def _write_float_wav(path, x, rate, bits=32):
    body = np.asarray(x, "<f4" if bits == 32 else "<f8").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * bits // 8, bits // 8, bits)
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(body)) + b"WAVE"
                     + b"fmt " + struct.pack("<I", len(fmt)) + fmt
                     + b"data" + struct.pack("<I", len(body)) + body)


def test_pcm16_round_trip_and_stdlib_agreement(tmp_path):
    x = np.sin(np.arange(1000) / 7.0) * 0.8
    write_wav(tmp_path / "a.wav", x, 16000)
    with wave.open(str(tmp_path / "a.wav")) as w:  # the stdlib reads what we wrote
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        ref = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768.0
    got, rate = read_wav(tmp_path / "a.wav")
    assert rate == 16000
    np.testing.assert_allclose(got, ref, atol=1e-7)
    np.testing.assert_allclose(got, x, atol=1 / 32767)


@pytest.mark.parametrize("width", [1, 3, 4])
def test_pcm_widths_and_stereo_via_stdlib_writer(tmp_path, width):
    rng = np.random.default_rng(width)
    full = 2 ** (8 * width - 1)
    ints = rng.integers(-full // 2, full // 2, (300, 2))
    if width == 1:
        raw = (ints + 128).astype(np.uint8).tobytes()
    elif width == 3:
        b = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
        raw = b.tobytes()
    else:
        raw = ints.astype("<i4").tobytes()
    with wave.open(str(tmp_path / "s.wav"), "wb") as w:
        w.setnchannels(2), w.setsampwidth(width), w.setframerate(8000)
        w.writeframes(raw)
    got, rate = read_wav(tmp_path / "s.wav")
    assert rate == 8000
    np.testing.assert_allclose(got, ints.mean(axis=1) / full, atol=1e-6)


def test_float_wav(tmp_path):
    x = np.linspace(-1, 1, 257)
    _write_float_wav(tmp_path / "f.wav", x, 22050)
    got, rate = read_wav(tmp_path / "f.wav")
    assert rate == 22050
    np.testing.assert_allclose(got, x, atol=1e-7)


def test_bad_wav_is_reported(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"RIFX....")
    with pytest.raises(CalibrationError, match="x.wav"):
        read_wav(tmp_path / "x.wav")


@pytest.mark.parametrize("rate_in", [8000, 22050, 44100])
def test_resample_matches_analytic_sines(rate_in):
    t_in = np.arange(int(rate_in * 0.5)) / rate_in
    tones = [(440.0, 0.5), (2500.0, 0.3)]
    x = sum(a * np.sin(2 * np.pi * f * t_in) for f, a in tones)
    y = resample(x, rate_in, 16000)
    assert len(y) == round(len(x) * 16000 / rate_in)
    t = np.arange(len(y)) / 16000
    want = sum(a * np.sin(2 * np.pi * f * t) for f, a in tones)
    inner = slice(200, -200)  # away from the zero-padded ends
    assert np.max(np.abs(y[inner] - want[inner])) < 5e-3


def test_resample_removes_what_would_alias():
    rate_in = 44100
    t = np.arange(rate_in // 2) / rate_in
    y = resample(np.sin(2 * np.pi * 12000 * t), rate_in, 16000)  # above the new 8 kHz Nyquist
    assert np.sqrt(np.mean(y[300:-300] ** 2)) < 0.01


def test_frames_carry_context_like_silero(tmp_path):
    x = (np.arange(5000) % 1000) / 1000.0 - 0.5
    write_wav(tmp_path / "a.wav", x, 16000)
    audio, _ = read_wav(tmp_path / "a.wav")
    ds = ed.audio(tmp_path, 16000, frames=4, frame_length=576, frame_hop=512,
                  zero_inputs={"h": [1, 1, 128]})
    assert len(ds) == 3  # 5000 samples, 2048 per feed -> starts 0, 2048, 4096 (zero-padded)
    first = ds[0]
    assert first["input"].shape == (4, 576) and first["h"].shape == (1, 1, 128)
    assert not first["h"].any()
    padded = np.concatenate([np.zeros(64), audio, np.zeros(4096)])
    for (_, start), feed in zip(ds.items, ds):
        for i in range(4):
            lo = start + 512 * i - 64
            np.testing.assert_array_equal(feed["input"][i], padded[lo + 64: lo + 64 + 576])


def test_window_mode_hop_and_resampling(tmp_path):
    rate = 8000
    write_wav(tmp_path / "b.wav", 0.5 * np.sin(np.arange(rate) * 0.05), rate)
    ds = ed.audio(tmp_path, 16000, window=4000, hop=2000)
    assert [s for _, s in ds.items] == [0, 2000, 4000, 6000, 8000, 10000, 12000]
    assert ds[0]["input"].shape == (1, 4000)
    flat = ed.audio(tmp_path, 16000, window=4000, shape=[4000])[0]["input"]
    assert flat.shape == (4000,)


def test_audio_option_errors(tmp_path):
    with pytest.raises(UsageError, match="either window"):
        ed.audio(tmp_path, 16000)
    with pytest.raises(UsageError, match="frame_hop"):
        ed.audio(tmp_path, 16000, frames=2, frame_length=100, frame_hop=200)
    with pytest.raises(UsageError, match="shape"):
        ed.audio(tmp_path, 16000, window=100, shape=[1, 99])
