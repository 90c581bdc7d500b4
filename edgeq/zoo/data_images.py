"""Image data sets: natural-photo crops (vision classifiers) and text-line images (OCR).

``images``: the photographs bundled with scikit-image (``skimage.data``), each cut into
many deterministic random crops (30-100% of the shorter side, aspect 3:4-4:3, random
horizontal flip), saved as JPEG (quality 95) with the shorter side 256, the input of a
``Resize(256) + CenterCrop(224)`` pipeline. The calibration and evaluation splits use
*different photographs*, so no scene is shared between them.

``text_lines``: single lines of real English (the text data set's sentences of the same
split, 2-8 words each), rendered with the fonts at hand (matplotlib's DejaVu family when
installed, pillow's built-in font otherwise) in varied sizes, ink and paper tones, with
mild blur and noise; half of them are turned by 180 degrees. Labels (``labels.json``):
0 = upright, 1 = rotated, the two classes of the PP-OCR direction classifier.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

#: skimage.data photographs per split (grey ones are converted to RGB)
PHOTOS = {
    "calib": ("astronaut", "coffee", "motorcycle_left", "motorcycle_right", "camera", "coins",
              "grass", "hubble_deep_field", "immunohistochemistry", "page"),
    "eval": ("chelsea", "rocket", "retina", "moon", "gravel", "brick", "clock", "text", "cell"),
}
CROPS = {"calib": 640, "eval": 320}
TEXT_LINES = {"calib": 320, "eval": 320}
SHORTER_SIDE = 256


def _photo(name: str) -> np.ndarray:
    import skimage.data

    if name.startswith("motorcycle_"):
        left, right, _ = skimage.data.stereo_motorcycle()
        img = left if name.endswith("left") else right
    else:
        img = getattr(skimage.data, name)()
    img = np.asarray(img)
    if img.dtype != np.uint8:  # e.g. float or bool images
        img = (np.clip(img.astype(np.float64) / max(img.max(), 1e-12), 0, 1) * 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return img[..., :3]


def _rng(*keys: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(map(str, keys)).encode()))


def make_photo_crops(split: str, out: Path) -> None:
    """Write the ``images`` split into ``out`` (``<photo>_<k>.jpg``)."""
    from PIL import Image

    photos = PHOTOS[split]
    per_photo = -(-CROPS[split] // len(photos))
    for name in photos:
        img = Image.fromarray(_photo(name))
        w, h = img.size
        rng = _rng("images", split, name)
        for k in range(per_photo):
            side = rng.uniform(0.3, 1.0) * min(w, h)
            aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
            cw, ch = min(w, side * np.sqrt(aspect)), min(h, side / np.sqrt(aspect))
            x0, y0 = rng.uniform(0, w - cw), rng.uniform(0, h - ch)
            crop = img.crop((round(x0), round(y0), round(x0 + cw), round(y0 + ch)))
            if rng.random() < 0.5:
                crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
            scale = SHORTER_SIDE / min(crop.size)
            crop = crop.resize((max(SHORTER_SIDE, round(crop.size[0] * scale)),
                                max(SHORTER_SIDE, round(crop.size[1] * scale))), Image.BILINEAR)
            crop.save(out / f"{name}_{k:03d}.jpg", quality=95)


def _fonts() -> list:
    """Font factories: size -> ImageFont (DejaVu from matplotlib if present, pillow's own)."""
    from PIL import ImageFont

    factories = []
    try:
        import matplotlib

        ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        for fname in ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSans-Bold.ttf",
                      "DejaVuSansMono.ttf", "DejaVuSerif-Italic.ttf"):
            if (ttf / fname).exists():
                factories.append(lambda size, p=ttf / fname: ImageFont.truetype(str(p), size))
    except ImportError:
        pass
    try:
        ImageFont.load_default(size=20)
        factories.append(lambda size: ImageFont.load_default(size=size))
    except (TypeError, OSError, ImportError):  # pillow without FreeType: fixed bitmap font
        factories.append(lambda size: ImageFont.load_default())
    return factories


def make_text_lines(split: str, out: Path) -> None:
    """Write the ``text_lines`` split into ``out`` (``line_<k>.png`` + ``labels.json``)."""
    from PIL import Image, ImageDraw, ImageFilter

    from edgeq.zoo.data_text import sentences

    words = [s.rstrip(".").split() for s in sentences(split)]
    fonts = _fonts()
    labels = {}
    rng = _rng("text_lines", split)
    for k in range(TEXT_LINES[split]):
        ws = words[k % len(words)]
        n = int(rng.integers(2, 9))
        start = int(rng.integers(0, max(1, len(ws) - n + 1)))
        line = " ".join(ws[start:start + n])
        font = fonts[int(rng.integers(len(fonts)))](int(rng.integers(18, 40)))
        left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), line, font=font)
        pad_x, pad_y = int(rng.integers(2, 16)), int(rng.integers(2, 10))
        size = (right - left + 2 * pad_x, bottom - top + 2 * pad_y)
        paper = tuple(int(v) for v in rng.integers(170, 256, 3))
        ink = tuple(int(v) for v in rng.integers(0, 90, 3))
        if rng.random() < 0.25:  # light text on a dark field
            paper, ink = ink, paper
        img = Image.new("RGB", size, paper)
        ImageDraw.Draw(img).text((pad_x - left, pad_y - top), line, font=font, fill=ink)
        if rng.random() < 0.5:
            img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))
        arr = np.asarray(img, np.float64) + rng.normal(0, rng.uniform(0, 8), (size[1], size[0], 1))
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        rotated = bool(rng.random() < 0.5)
        if rotated:
            img = img.transpose(Image.ROTATE_180)
        fname = f"line_{k:03d}.png"
        img.save(out / fname)
        labels[fname] = {"label": int(rotated), "text": line}
    (out / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n")
