"""Image files -> preprocessed image tensors (pillow).

Pipeline per file: decode (any pillow format; grey/alpha/palette converted), resize,
scale, normalise, reorder channels and layout:

* ``resize="crop"``: shorter side to ``resize_shorter`` (default ``size / 0.875``, the
  256 -> 224 ImageNet convention of torchvision's ``Resize(256)+CenterCrop(224)``),
  then a centre crop to ``size``;
* ``resize="stretch"``: straight to ``size`` (aspect ratio not kept);
* ``resize="pad"``: PaddleOCR's text-line resize (``ClsPreProcess``/``resize_norm_img``):
  height to ``size[0]``, width ``min(size[1], ceil(size[0] * w / h))``, then zero
  padding on the right *after* normalisation;
* ``resize=None``: the file must already be ``size``.

Resampling is pillow's bilinear filter (which antialiases when shrinking).
Values: ``(pixel * scale - mean) / std`` per channel, in the output ``color`` order
(``mean``/``std`` are given in that order too), ``layout`` NCHW or NHWC, with a leading
batch dimension of 1 unless ``batch=False``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from edgeq.data.base import Dataset, Feed, file_digest, list_files
from edgeq.errors import CalibrationError, UsageError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
RESIZE_MODES = ("crop", "stretch", "pad", None)


class ImageDataset(Dataset):
    kind = "images"

    def __init__(self, path: str | Path, size: int | Sequence[int], *, resize: str | None = "crop",
                 resize_shorter: int | None = None, mean: Sequence[float] = (0.0, 0.0, 0.0),
                 std: Sequence[float] = (1.0, 1.0, 1.0), scale: float = 1 / 255,
                 layout: str = "NCHW", color: str = "RGB", input_name: str = "input",
                 dtype: str = "float32", batch: bool = True, num_samples: int | None = None,
                 seed: int = 0):
        super().__init__(num_samples, seed)
        self.path = Path(path)
        h, w = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
        self.size = (int(h), int(w))
        if resize not in RESIZE_MODES:
            raise UsageError(f"images: resize={resize!r}; use one of crop, stretch, pad or None")
        self.resize = resize
        self.resize_shorter = int(resize_shorter) if resize_shorter else int(round(max(h, w) / 0.875))
        self.color = color.upper()
        if self.color not in ("RGB", "BGR", "L"):
            raise UsageError(f"images: color={color!r}; use RGB, BGR or L (grey)")
        channels = 1 if self.color == "L" else 3
        self.mean = np.asarray(mean, np.float64).reshape(-1)
        self.std = np.asarray(std, np.float64).reshape(-1)
        for label, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, channels):
                raise UsageError(f"images: {label} has {v.size} values for {channels} channels")
        if np.any(self.std == 0):
            raise UsageError("images: std must not contain 0")
        self.scale = float(scale)
        self.layout = layout.upper()
        if self.layout not in ("NCHW", "NHWC"):
            raise UsageError(f"images: layout={layout!r}; use NCHW or NHWC")
        self.input_name = input_name
        self.dtype = np.dtype(dtype)
        self.batch = bool(batch)

    def _items(self) -> list[Path]:
        return list_files(self.path, EXTENSIONS, self.kind)

    def _empty_hint(self) -> str:
        return f"put image files ({', '.join(EXTENSIONS)}) in it"

    def _describe(self, item: Path) -> str:
        return str(item)

    def _item_digest(self, item: Path) -> str:
        return file_digest(item)

    def _params(self) -> dict[str, Any]:
        return {"size": self.size, "resize": self.resize, "resize_shorter": self.resize_shorter,
                "mean": self.mean.tolist(), "std": self.std.tolist(), "scale": self.scale,
                "layout": self.layout, "color": self.color, "input": self.input_name,
                "dtype": self.dtype.name, "batch": self.batch}

    def _load(self, item: Path) -> Feed:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(item) as img:
                img.load()
                img = img.convert("L" if self.color == "L" else "RGB")
        except Image.DecompressionBombError as exc:
            # pillow refuses images past Image.MAX_IMAGE_PIXELS (decompression-bomb guard)
            raise CalibrationError(f"{item}: the image is too large to decode safely ({exc}); "
                                   "downscale it (calibration images are resized to the model's "
                                   "input anyway)") from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise CalibrationError(f"{item}: cannot read this image ({exc}); remove it or "
                                   f"convert it to PNG/JPEG") from exc
        return {self.input_name: self.preprocess(img, str(item))}

    def preprocess(self, img, where: str = "image") -> np.ndarray:
        """The model tensor of a pillow image (already converted to RGB or L)."""
        from PIL import Image

        h, w = self.size
        pad_to = None
        if self.resize == "stretch":
            img = img.resize((w, h), Image.BILINEAR)
        elif self.resize == "crop":
            iw, ih = img.size
            k = self.resize_shorter / min(iw, ih)
            nw, nh = max(w, round(iw * k)), max(h, round(ih * k))
            img = img.resize((nw, nh), Image.BILINEAR)
            left, top = (nw - w) // 2, (nh - h) // 2
            img = img.crop((left, top, left + w, top + h))
        elif self.resize == "pad":
            iw, ih = img.size
            nw = min(w, int(math.ceil(h * iw / ih)))
            img = img.resize((max(nw, 1), h), Image.BILINEAR)
            pad_to = w
        elif img.size != (w, h):
            raise CalibrationError(f"{where}: image is {img.size[0]}x{img.size[1]} (WxH), "
                                   f"expected {w}x{h}; set resize= to crop, stretch or pad")
        x = np.asarray(img, dtype=np.float64)
        if x.ndim == 2:
            x = x[:, :, None]
        if self.color == "BGR":
            x = x[:, :, ::-1]
        x = (x * self.scale - self.mean) / self.std
        if pad_to is not None and x.shape[1] < pad_to:
            # PaddleOCR pads the normalised image with zeros (padding_im = np.zeros(...))
            x = np.concatenate([x, np.zeros((x.shape[0], pad_to - x.shape[1], x.shape[2]))], axis=1)
        if self.layout == "NCHW":
            x = x.transpose(2, 0, 1)
        if self.batch:
            x = x[None]
        if self.dtype.kind in "iu":
            info = np.iinfo(self.dtype)
            x = np.clip(np.round(x), info.min, info.max)
        return np.ascontiguousarray(x.astype(self.dtype))


def images(path: str | Path, size: int | Sequence[int] = 224, **options) -> ImageDataset:
    """An :class:`ImageDataset` over the image files in ``path`` (see module docstring)."""
    return ImageDataset(path, size, **options)
