"""WAV reading/writing and band-limited resampling with numpy only.

:func:`read_wav` parses RIFF/WAVE directly (the stdlib :mod:`wave` module rejects IEEE
float files): format 1 (PCM, 8-bit unsigned, 16/24/32-bit signed), 3 (IEEE float 32/64)
and 0xFFFE (WAVE_FORMAT_EXTENSIBLE with one of those sub-formats). Samples come back as
float32 in [-1, 1], channels averaged to mono.

:func:`resample` is windowed-sinc interpolation (J. O. Smith, "Digital Audio Resampling
Home Page", bandlimited interpolation): each output sample at input position t sums
the input around t weighted by a Kaiser-windowed sinc whose cutoff is the lower of the
two Nyquist rates (so downsampling filters out what would alias).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from edgeq.errors import CalibrationError

PCM, IEEE_FLOAT, EXTENSIBLE = 1, 3, 0xFFFE


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """``(mono float32 samples in [-1, 1], sample rate)`` of a WAV file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read ({exc})") from exc
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise CalibrationError(f"{path}: not a RIFF/WAVE file; convert it to .wav (PCM or float)")
    fmt = None
    samples = None
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            if len(body) < 16:
                raise CalibrationError(f"{path}: truncated fmt chunk")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]  # first 2 bytes of the sub-format GUID
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            samples = body
        pos += 8 + size + (size & 1)  # chunks are word aligned
    if fmt is None or samples is None:
        raise CalibrationError(f"{path}: WAV file without fmt or data chunk")
    tag, channels, rate, bits = fmt
    x = _decode(samples, tag, bits, path)
    if channels < 1 or rate <= 0:
        raise CalibrationError(f"{path}: invalid WAV header ({channels} channels, {rate} Hz)")
    x = x[: len(x) - len(x) % channels].reshape(-1, channels).mean(axis=1)
    return x.astype(np.float32), int(rate)


def _decode(raw: bytes, tag: int, bits: int, path: Path) -> np.ndarray:
    if tag == PCM and bits == 8:
        return (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) / 128.0
    if tag == PCM and bits == 16:
        return np.frombuffer(raw[: len(raw) // 2 * 2], "<i2") / 32768.0
    if tag == PCM and bits == 24:
        b = np.frombuffer(raw[: len(raw) // 3 * 3], np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        return v / float(1 << 23)
    if tag == PCM and bits == 32:
        return np.frombuffer(raw[: len(raw) // 4 * 4], "<i4") / 2147483648.0
    if tag == IEEE_FLOAT and bits in (32, 64):
        dt = "<f4" if bits == 32 else "<f8"
        return np.frombuffer(raw[: len(raw) // (bits // 8) * (bits // 8)], dt).astype(np.float64)
    raise CalibrationError(f"{path}: unsupported WAV encoding (format {tag:#x}, {bits} bits); "
                           f"use 8/16/24/32-bit PCM or 32/64-bit float")


def write_wav(path: str | Path, x: np.ndarray, rate: int) -> None:
    """Write mono float samples in [-1, 1] as 16-bit PCM (values are clipped).

    Uses the same scale as :func:`read_wav` (int16 / 32768), so a round trip is exact
    to half a quantization step."""
    pcm = np.clip(np.round(np.asarray(x, np.float64) * 32768.0), -32768, 32767).astype("<i2")
    body = pcm.tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, PCM, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", len(body))
    Path(path).write_bytes(header + body)


def resample(x: np.ndarray, rate_in: int, rate_out: int, half_width: int = 16,
             beta: float = 8.6, block: int = 1 << 15) -> np.ndarray:
    """Band-limited resampling of mono ``x`` from ``rate_in`` to ``rate_out`` Hz.

    ``half_width`` zero crossings of the sinc on each side (of the slower rate) and a
    Kaiser window with ``beta`` 8.6 (about 90 dB stop-band, Kaiser's formula) bound the
    error. The kernel is tabulated at 1/512 of a sample and linearly interpolated (the
    table method of Smith's resampler). The output has ``round(len(x) * rate_out /
    rate_in)`` samples.
    """
    x = np.asarray(x, np.float64)
    if rate_in == rate_out or x.size == 0:
        return x.astype(np.float32)
    ratio = rate_out / rate_in
    cutoff = min(1.0, ratio)           # fraction of the input Nyquist rate kept
    reach = half_width / cutoff        # kernel half-length in input samples
    grid = np.linspace(0.0, reach, int(np.ceil(reach * 512)) + 1)
    table = cutoff * np.sinc(cutoff * grid) * np.i0(beta * np.sqrt(1 - (grid / reach) ** 2)) / np.i0(beta)
    n_out = int(round(x.size * ratio))
    taps = np.arange(-int(np.ceil(reach)), int(np.ceil(reach)) + 1)
    padded = np.concatenate([np.zeros(taps.size), x, np.zeros(taps.size)])
    out = np.empty(n_out, np.float64)
    for start in range(0, n_out, block):
        t = np.arange(start, min(n_out, start + block)) / ratio       # input positions
        idx = np.floor(t).astype(np.int64)[:, None] + taps[None, :]     # neighbours of t
        h = np.interp(np.abs(t[:, None] - idx), grid, table, right=0.0)
        out[start:start + t.size] = np.sum(padded[idx + taps.size] * h, axis=1)
    return out.astype(np.float32)
