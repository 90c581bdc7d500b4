"""The speech data set: real spoken English made with Debian's ``espeak-ng``, at 16 kHz.

Each clip speaks one or two sentences of the text data set's split (so the words
differ between splits), with a voice, variant, speed and pitch drawn per clip; the two
splits use *different voices* as well. espeak-ng writes 22.05 kHz 16-bit WAV, which is
resampled to 16 kHz (:func:`edgeq.data.wav.resample`). Clips come in three conditions:

* ``clean``: the speech with short natural margins;
* ``silence``: long stretches of silence (0.5-2 s) before, between and after sentences;
* ``noise``: the ``silence`` layout plus white or brown noise over the whole clip at an
  SNR of 0-20 dB (relative to the speech power).

Labels (``labels.json``): per file, the speech intervals ``[start, end)`` in samples,
taken from the clean synthesis before mixing: 20 ms frames whose RMS is within 35 dB of
the clip's loudest frame are speech, and gaps shorter than 200 ms are closed (a VAD's
usual hangover, so pauses between words count as speech). ``chunk_labels`` turns them
into per-chunk 0/1 labels for the Silero VAD's 512-sample chunks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

import numpy as np

from edgeq.data.wav import read_wav, resample, write_wav
from edgeq.errors import DownloadError

RATE = 16000
CLIPS = {"calib": 48, "eval": 48}
VOICES = {"calib": ("en-us", "en-gb", "en-gb-scotland"),
          "eval": ("en-gb-x-rp", "en-029", "en-gb-x-gbclan")}
VARIANTS = {"calib": ("m1", "m3", "f1", "f2", "m5"), "eval": ("m2", "m4", "f3", "f4", "m6")}
CONDITIONS = ("clean", "silence", "noise")
FRAME = 320           # 20 ms at 16 kHz
SPEECH_DB = -35.0     # frame RMS relative to the loudest frame
HANGOVER = 3200       # 200 ms: shorter gaps inside speech are closed


def espeak_binary() -> str | None:
    return shutil.which("espeak-ng")


def _speak(text: str, voice: str, speed: int, pitch: int, tmp: Path) -> np.ndarray:
    exe = espeak_binary()
    if exe is None:
        raise DownloadError("the speech data set needs Debian's espeak-ng; install it with "
                            "`apt-get install espeak-ng` and retry")
    out = tmp / "speech.wav"
    proc = subprocess.run([exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out),
                           "--", text], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not out.exists():
        raise DownloadError(f"espeak-ng failed for voice {voice} (exit {proc.returncode}): "
                            f"{proc.stderr.strip()[:200]}")
    x, rate = read_wav(out)
    return resample(x, rate, RATE)


def speech_intervals(clean: np.ndarray) -> list[tuple[int, int]]:
    """Speech intervals ``[start, end)`` (samples) of a clean signal (see module doc)."""
    n = len(clean) // FRAME
    if n == 0:
        return []
    rms = np.sqrt(np.mean(clean[: n * FRAME].astype(np.float64).reshape(n, FRAME) ** 2, axis=1))
    active = 20 * np.log10(np.maximum(rms, 1e-10) / max(rms.max(), 1e-10)) > SPEECH_DB
    intervals: list[list[int]] = []
    for i in np.flatnonzero(active):
        start, end = int(i) * FRAME, (int(i) + 1) * FRAME
        if intervals and start - intervals[-1][1] < HANGOVER:
            intervals[-1][1] = end
        else:
            intervals.append([start, end])
    return [(s, e) for s, e in intervals]


def chunk_labels(intervals: list[tuple[int, int]], starts: np.ndarray, length: int) -> np.ndarray:
    """1 where at least half of ``[start, start+length)`` lies in speech, else 0."""
    covered = np.zeros(len(starts), np.int64)
    for s, e in intervals:
        covered += np.clip(np.minimum(starts + length, e) - np.maximum(starts, s), 0, None)
    return (covered * 2 >= length).astype(np.int64)


def _noise(rng: np.random.Generator, n: int, color: str) -> np.ndarray:
    white = rng.standard_normal(n)
    if color == "white":
        return white
    brown = np.cumsum(white)  # integrated white noise: 1/f^2 spectrum
    brown -= np.convolve(brown, np.ones(1601) / 1601, mode="same")  # drop the drift below ~10 Hz
    return brown / (brown.std() + 1e-12)


def make_speech(split: str, out: Path) -> None:
    """Write the ``speech`` split into ``out`` (``clip_<k>_<condition>.wav`` + labels.json)."""
    from edgeq.zoo.data_text import sentences, speakable, spoken

    lines = [spoken(s) for s in sentences(split) if speakable(s)]
    rng = np.random.default_rng(zlib.crc32(f"speech/{split}".encode()))
    labels = {}
    with tempfile.TemporaryDirectory(prefix="edgeq-speech-") as tmp:
        for k in range(CLIPS[split]):
            condition = CONDITIONS[k % len(CONDITIONS)]
            voice = f"{VOICES[split][k % len(VOICES[split])]}+{rng.choice(VARIANTS[split])}"
            speed, pitch = int(rng.integers(130, 191)), int(rng.integers(25, 76))
            n_sent = 1 + int(rng.random() < 0.5)
            idx = rng.choice(len(lines), n_sent, replace=False)
            pieces = [_speak(lines[i], voice, speed, pitch, Path(tmp)) for i in idx]
            clean, intervals = _layout(pieces, condition, rng)
            gain = rng.uniform(0.1, 0.9) / max(np.abs(clean).max(), 1e-6)
            clean = clean * gain
            mixed = clean
            if condition == "noise":
                speech_power = np.mean(np.concatenate([clean[s:e] for s, e in intervals]) ** 2)
                snr_db = rng.uniform(0, 20)
                noise = _noise(rng, len(clean), str(rng.choice(["white", "brown"])))
                mixed = clean + noise * np.sqrt(speech_power / 10 ** (snr_db / 10))
                mixed = mixed / max(1.0, np.abs(mixed).max() / 0.99)
            fname = f"clip_{k:03d}_{condition}.wav"
            write_wav(out / fname, mixed, RATE)
            labels[fname] = {"speech": [list(iv) for iv in intervals], "voice": voice,
                             "speed": speed, "pitch": pitch, "condition": condition,
                             "text": [lines[i] for i in idx]}
    (out / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n")


def _layout(pieces: list[np.ndarray], condition: str, rng: np.random.Generator):
    """Concatenate sentences with silences; return the clean clip and its speech intervals."""
    lo, hi = (0.05, 0.3) if condition == "clean" else (0.5, 2.0)
    parts, intervals, pos = [], [], 0
    for piece in pieces:
        gap = np.zeros(int(rng.uniform(lo, hi) * RATE), np.float32)
        parts += [gap, piece]
        pos += len(gap)
        intervals += [(s + pos, e + pos) for s, e in speech_intervals(piece)]
        pos += len(piece)
    parts.append(np.zeros(int(rng.uniform(lo, hi) * RATE), np.float32))
    return np.concatenate(parts).astype(np.float64), intervals
