"""WAV files -> windows of audio shaped for the model.

Each file is read (:func:`edgeq.data.wav.read_wav`, mono float in [-1, 1]), resampled to
``sample_rate`` when its own rate differs, and cut into feeds. One feed covers ``span``
new samples; feeds start every ``hop`` samples (default: ``span``, no overlap); the
last one is zero-padded.

* ``window=N``: the feed is the N samples, shaped ``shape`` (default ``(1, N)``).
* ``frames=F, frame_length=L, frame_hop=H``: the feed is F frames ``[F, L]`` (or
  ``shape``); frame j *ends* at ``start + (j + 1) * H``, so when ``L > H`` each frame
  carries ``L - H`` samples of context from before it (zeros before the file start).
  This is the chunking of streaming models such as Silero VAD (L=576, H=512: 64
  context samples + 512 new ones), and plain framing when ``L == H``.

``zero_inputs`` adds inputs fed with zeros of the given shapes (e.g. the initial LSTM
state ``{"h": [1, 1, 128]}``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from edgeq.data.base import Dataset, Feed, file_digest, list_files
from edgeq.data.wav import read_wav, resample
from edgeq.errors import CalibrationError, UsageError

EXTENSIONS = (".wav",)


class AudioDataset(Dataset):
    kind = "audio"

    def __init__(self, path: str | Path, sample_rate: int = 16000, *, window: int | None = None,
                 frames: int | None = None, frame_length: int | None = None,
                 frame_hop: int | None = None, hop: int | None = None,
                 shape: Sequence[int] | None = None, input_name: str = "input",
                 zero_inputs: dict[str, Sequence[int]] | None = None, dtype: str = "float32",
                 num_samples: int | None = None, seed: int = 0):
        super().__init__(num_samples, seed)
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        if (window is None) == (frames is None):
            raise UsageError("audio: give either window=N (samples per feed) or "
                             "frames=F with frame_length/frame_hop")
        if frames is not None:
            frame_length = int(frame_length or 0)
            frame_hop = int(frame_hop or frame_length)
            if frames <= 0 or frame_length <= 0 or not 0 < frame_hop <= frame_length:
                raise UsageError(f"audio: frames={frames}, frame_length={frame_length}, "
                                 f"frame_hop={frame_hop}; need positive values and "
                                 f"frame_hop <= frame_length")
            self.span = int(frames) * frame_hop
            default_shape: tuple[int, ...] = (int(frames), frame_length)
        else:
            if window <= 0:
                raise UsageError(f"audio: window must be positive, got {window}")
            self.span = int(window)
            default_shape = (1, int(window))
        self.window, self.frames = window, frames
        self.frame_length, self.frame_hop = frame_length, frame_hop
        self.hop = int(hop or self.span)
        self.shape = tuple(int(s) for s in (shape or default_shape))
        if math.prod(self.shape) != math.prod(default_shape):
            raise UsageError(f"audio: input {input_name!r} of shape {self.shape} ({math.prod(self.shape)} "
                             f"values) cannot hold one window of {default_shape} ({math.prod(default_shape)} "
                             "samples); set window (or frames and frame_length) to fit the input, or "
                             "shape to the window's")
        self.input_name = input_name
        self.zero_inputs = {k: tuple(int(d) for d in v) for k, v in (zero_inputs or {}).items()}
        self.dtype = np.dtype(dtype)
        self._cache: tuple[Path, np.ndarray] | None = None

    def _items(self) -> list[tuple[Path, int]]:
        items = []
        for f in list_files(self.path, EXTENSIONS, self.kind):
            n = self._length(f)
            count = 1 if n <= self.span else 1 + math.ceil((n - self.span) / self.hop)
            items.extend((f, i * self.hop) for i in range(count))
        return items

    def _length(self, f: Path) -> int:
        """Number of samples of ``f`` at ``sample_rate`` (decodes the file once)."""
        return len(self._samples(f))

    def _samples(self, f: Path) -> np.ndarray:
        if self._cache is not None and self._cache[0] == f:
            return self._cache[1]
        x, rate = read_wav(f)
        if x.size == 0:
            raise CalibrationError(f"{f}: the WAV file holds no samples")
        if rate != self.sample_rate:
            x = resample(x, rate, self.sample_rate)
        self._cache = (f, x)
        return x

    def _empty_hint(self) -> str:
        return "put .wav files in it"

    def _describe(self, item: tuple[Path, int]) -> str:
        f, start = item
        return f"{f} @ {start / self.sample_rate:.3f} s"

    def _item_digest(self, item: tuple[Path, int]) -> str:
        return f"{file_digest(item[0])}:{item[1]}"

    def _params(self) -> dict[str, Any]:
        return {"sample_rate": self.sample_rate, "window": self.window, "frames": self.frames,
                "frame_length": self.frame_length, "frame_hop": self.frame_hop, "hop": self.hop,
                "shape": self.shape, "input": self.input_name, "dtype": self.dtype.name,
                "zero_inputs": self.zero_inputs}

    def _load(self, item: tuple[Path, int]) -> Feed:
        f, start = item
        x = self._samples(f)
        if self.frames is None:
            arr = _segment(x, start, self.span)
        else:
            context = self.frame_length - self.frame_hop
            seg = _segment(x, start - context, self.span + context)
            idx = np.arange(self.frames)[:, None] * self.frame_hop + np.arange(self.frame_length)
            arr = seg[idx]
        feed = {self.input_name: arr.reshape(self.shape).astype(self.dtype)}
        for name, shape in self.zero_inputs.items():
            feed[name] = np.zeros(shape, self.dtype)
        return feed


def _segment(x: np.ndarray, start: int, length: int) -> np.ndarray:
    """``x[start:start+length]`` with zeros outside ``x`` (start may be negative)."""
    out = np.zeros(length, np.float32)
    lo, hi = max(start, 0), min(start + length, len(x))
    if hi > lo:
        out[lo - start:hi - start] = x[lo:hi]
    return out


def audio(path: str | Path, sample_rate: int = 16000, **options) -> AudioDataset:
    """An :class:`AudioDataset` over the .wav files in ``path`` (see module docstring)."""
    return AudioDataset(path, sample_rate, **options)
