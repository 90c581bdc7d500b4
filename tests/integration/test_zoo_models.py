"""The real zoo models, built from their registry wheels, run in onnxruntime with the
behaviour each one must have; the data sets exist in disjoint splits; the cache serves
later calls offline and repairs corruption.

Golden numbers come from the reference implementations, run once with torch 2.13.0 and
transformers 5.24.0 outside the project (see docs/zoo.md); the tests never need torch.
"""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import onnxruntime as ort
import pytest

import edgeq
import edgeq.data as ed
from edgeq import zoo
from edgeq.zoo import cache

pytestmark = pytest.mark.slow

ESPEAK_MARKS = [pytest.mark.needs_espeak,
                pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                   reason="needs Debian's espeak-ng (apt-get install espeak-ng)")]


def needs_espeak(test):
    for mark in ESPEAK_MARKS:
        test = mark(test)
    return test

#: torchvision MobileNetV2 (torch 2.13.0) on chelsea, Resize(256)+CenterCrop(224)
CHELSEA_TOP5 = [285, 282, 281, 287, 728]
CHELSEA_LOGITS = [19.021, 17.433, 17.3348, 14.3472, 12.1618]

PAIRS = ["A man is playing a guitar.", "A person plays a musical instrument.",
         "The stock market fell sharply today.", "Shares dropped steeply on the exchange this morning.",
         "A cat sleeps on the sofa.", "The kitten is napping on the couch."]
#: cosine similarities of PAIRS by transformers' BertModel + mean pooling + normalize
PAIRS_COSINE = [
    [1.0, 0.67625, -0.05403, -0.11425, 0.00825, -0.04902],
    [0.67625, 1.0, -0.03669, -0.10986, 0.06169, -0.0336],
    [-0.05403, -0.03669, 1.0, 0.60698, 0.01675, 0.00599],
    [-0.11425, -0.10986, 0.60698, 1.0, -0.0392, -0.0188],
    [0.00825, 0.06169, 0.01675, -0.0392, 1.0, 0.74169],
    [-0.04902, -0.0336, 0.00599, -0.0188, 0.74169, 1.0],
]
FIRST_EMBEDDING_HEAD = [0.021664, -0.004864, -0.009649, -0.063401, -0.167494, 0.004676]


def _session(name: str) -> ort.InferenceSession:
    return ort.InferenceSession(str(zoo.get(name)), providers=["CPUExecutionProvider"])


def test_mobilenet_v2_sees_the_cat(tmp_path):
    import skimage.data
    from PIL import Image

    Image.fromarray(skimage.data.chelsea()).save(tmp_path / "chelsea.png")
    options = dict(zoo.info("mobilenet-v2").preprocessing)
    ds = ed.create(options.pop("kind"), path=tmp_path, **options)
    logits = _session("mobilenet-v2").run(None, ds[0])[0][0]
    top5 = [int(i) for i in np.argsort(-logits)[:5]]
    assert 281 <= top5[0] <= 285
    assert zoo.info("mobilenet-v2").labels[top5[0]] == "Egyptian cat"
    assert top5 == CHELSEA_TOP5
    np.testing.assert_allclose(logits[top5], CHELSEA_LOGITS, atol=2e-3)


def test_minilm_l6_ranks_close_pairs_first(tmp_path):
    (tmp_path / "pairs.txt").write_text("\n".join(PAIRS) + "\n")
    tokenizer = zoo.get("minilm-l6").parent / "tokenizer.json"
    ds = ed.text(tmp_path / "pairs.txt", tokenizer, max_len=64)
    sess = _session("minilm-l6")
    emb = np.concatenate([sess.run(None, feed)[0] for feed in ds])
    assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    cos = emb @ emb.T
    for a in (0, 2, 4):  # each sentence is closest to its paraphrase
        partner = a + 1
        others = [j for j in range(6) if j not in (a, partner)]
        assert cos[a, partner] > 0.5 > max(cos[a, j] for j in others) + 0.3
    np.testing.assert_allclose(cos, PAIRS_COSINE, atol=1e-4)
    np.testing.assert_allclose(emb[0, :6], FIRST_EMBEDDING_HEAD, atol=1e-4)


def test_ppocr_cls_tells_upright_from_rotated_text():
    feeds = zoo.feeds("ppocr-cls", "eval", n=64, seed=0)
    truth = zoo.labels("ppocr-cls", "eval", n=64, seed=0)
    sess = _session("ppocr-cls")
    probs = np.concatenate([sess.run(None, f)[0] for f in feeds])
    assert probs.shape == (64, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert np.mean(probs.argmax(1) == truth) >= 0.9
    assert 0.3 < truth.mean() < 0.7  # both classes present


def test_silero_vad_is_quiet_on_silence():
    sess = _session("silero-vad")
    zeros = {"input": np.zeros((32, 576), np.float32), "h": np.zeros((1, 1, 128), np.float32),
             "c": np.zeros((1, 1, 128), np.float32)}
    probs, hn, cn = sess.run(None, zeros)
    assert probs.shape == (32,) and hn.shape == cn.shape == (1, 1, 128)
    assert probs.max() < 0.1


@needs_espeak
def test_silero_vad_finds_the_spoken_chunks():
    feeds = zoo.feeds("silero-vad", "eval", n=96, seed=0)
    truth = zoo.labels("silero-vad", "eval", n=96, seed=0)
    sess = _session("silero-vad")
    probs = np.stack([sess.run(None, f)[0] for f in feeds])
    assert probs.shape == truth.shape == (96, 32)
    assert np.mean((probs > 0.5) == truth) >= 0.85
    assert probs[truth == 1].mean() > 0.6 > 0.3 > probs[truth == 0].mean()


@pytest.mark.parametrize("name", ["mobilenet-v2", "minilm-l6", "ppocr-cls",
                                  pytest.param("silero-vad", marks=ESPEAK_MARKS)])
def test_feeds_fit_the_imported_model(name):
    model = edgeq.load(zoo.get(name))
    ds = zoo.dataset(name, "eval", n=4, seed=0)
    ds.validate(model.graph, full=True)
    ref = _session(name).run(None, ds[0])
    got = model.run(ds[0])
    np.testing.assert_allclose(np.asarray(got[model.graph.outputs[0]]), ref[0], atol=1e-4)


def test_second_get_is_offline_instant_and_reproducible(monkeypatch):
    for name in zoo.names():
        zoo.get(name)
    monkeypatch.setenv("PIP_NO_INDEX", "1")       # any pip call would now fail
    monkeypatch.setenv("PIP_FIND_LINKS", "/nonexistent")
    for name in zoo.names():
        start = time.perf_counter()
        path = zoo.get(name)
        assert time.perf_counter() - start < 2.0
        assert cache.sha256_file(path) == zoo.info(name).sha256, f"{name} build not reproducible"


def test_corrupt_model_is_rebuilt(tmp_path, caplog):
    path = zoo.get("ppocr-cls", cache_dir=tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    again = zoo.get("ppocr-cls", cache_dir=tmp_path)
    assert again == path and cache.sha256_file(path) == zoo.info("ppocr-cls").sha256
    assert "corrupt" in caplog.text
    (path.parent / "manifest.json").unlink()
    zoo.get("ppocr-cls", cache_dir=tmp_path)
    assert json.loads((path.parent / "manifest.json").read_text())["matches_reference"]


def test_cli_get_prints_the_path():
    from edgeq.cli import main

    assert main(["zoo", "get", "ppocr-cls"]) == 0


def test_data_set_splits_are_disjoint():
    photos = {s: {p.name.rsplit("_", 1)[0] for p in zoo.dataset_dir("images", s).glob("*.jpg")}
              for s in ("calib", "eval")}
    assert photos["calib"] and photos["eval"] and not photos["calib"] & photos["eval"]
    assert len(list(zoo.dataset_dir("images", "calib").glob("*.jpg"))) >= 512
    text = {s: set((zoo.dataset_dir("text", s) / "sentences.txt").read_text().splitlines())
            for s in ("calib", "eval")}
    assert len(text["calib"]) >= 200 and len(text["eval"]) >= 150 and not text["calib"] & text["eval"]
    lines = {s: json.loads((zoo.dataset_dir("text_lines", s) / "labels.json").read_text())
             for s in ("calib", "eval")}
    assert not {v["text"] for v in lines["calib"].values()} & {v["text"] for v in lines["eval"].values()}


@needs_espeak
def test_speech_data_set_has_every_condition():
    for split in ("calib", "eval"):
        labels = json.loads((zoo.dataset_dir("speech", split) / "labels.json").read_text())
        assert {v["condition"] for v in labels.values()} == {"clean", "silence", "noise"}
        assert all(v["speech"] for v in labels.values())
    voices = {s: {v["voice"].split("+")[0] for v in json.loads(
        (zoo.dataset_dir("speech", s) / "labels.json").read_text()).values()} for s in ("calib", "eval")}
    assert not voices["calib"] & voices["eval"]
