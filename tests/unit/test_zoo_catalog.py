"""Zoo catalogue, builders and data-set helpers without any download: the catalogue's
preprocessing produces exactly each model's inputs, the MiniLM builder matches an
independent numpy BERT on random weights, BN folding is exact, and the CLI lists."""

from __future__ import annotations

import json
import math

import numpy as np
import onnxruntime as ort
import pytest
from click.testing import CliRunner
from PIL import Image

import edgeq.data as ed
from edgeq import zoo
from edgeq.errors import ModelLoadError, UsageError
from edgeq.zoo import minilm, mobilenet_v2
from edgeq.zoo.data_speech import chunk_labels, speech_intervals
from edgeq.zoo.data_text import is_prose, sentences
from edgeq.zoo.onnx_build import serialize


def test_names_and_info():
    assert zoo.names() == ["mobilenet-v2", "minilm-l6", "ppocr-cls", "silero-vad"]
    mb = zoo.info("mobilenet-v2")
    assert mb.labels[281:286] == ("tabby", "tiger cat", "Persian cat", "Siamese cat",
                                  "Egyptian cat")
    assert len(mb.labels) == 1000 and len(set(mb.labels)) >= 998
    assert all(len(m.sha256) == 64 for m in map(zoo.info, zoo.names()))
    with pytest.raises(UsageError, match="unknown zoo model 'resnet'.*mobilenet-v2"):
        zoo.info("resnet")


@pytest.mark.parametrize("name", ["mobilenet-v2", "ppocr-cls", "silero-vad"])
def test_preprocessing_yields_the_model_inputs(tmp_path, name):
    zm = zoo.info(name)
    options = dict(zm.preprocessing)
    kind = options.pop("kind")
    if kind == "images":
        Image.fromarray(np.zeros((300, 500, 3), np.uint8)).save(tmp_path / "x.png")
    else:
        ed.wav.write_wav(tmp_path / "x.wav", np.zeros(20000), 16000)
    feed = ed.create(kind, path=tmp_path, **options)[0]
    assert {k: (v.shape, v.dtype.name) for k, v in feed.items()} == \
        {t.name: (t.shape, t.dtype) for t in zm.inputs}


def test_fold_bn_is_exact_for_a_1x1_conv():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 1, 1)).astype(np.float32)
    sd = {"bn.weight": rng.uniform(0.5, 2, 4), "bn.bias": rng.standard_normal(4),
          "bn.running_mean": rng.standard_normal(4), "bn.running_var": rng.uniform(0.1, 3, 4)}
    x = rng.standard_normal(3)
    conv = w[:, :, 0, 0].astype(np.float64) @ x
    bn = sd["bn.weight"] * (conv - sd["bn.running_mean"]) / np.sqrt(sd["bn.running_var"] + 1e-5) \
        + sd["bn.bias"]
    wf, bf = mobilenet_v2.fold_bn(w, sd, "bn")
    np.testing.assert_allclose(wf[:, :, 0, 0] @ x + bf, bn, rtol=1e-5, atol=1e-5)


def test_mobilenet_builder_needs_torchvision_names():
    with pytest.raises(ModelLoadError, match="features.0.0.weight"):
        mobilenet_v2.build({})


def _tiny_bert(rng, layers=2, hidden=8, heads=2, inter=16, vocab=20, positions=16):
    w = {"embeddings.word_embeddings.weight": rng.standard_normal((vocab, hidden)),
         "embeddings.position_embeddings.weight": rng.standard_normal((positions, hidden)),
         "embeddings.token_type_embeddings.weight": rng.standard_normal((2, hidden)),
         "embeddings.LayerNorm.weight": rng.uniform(0.5, 1.5, hidden),
         "embeddings.LayerNorm.bias": rng.standard_normal(hidden) * 0.1}
    for i in range(layers):
        p = f"encoder.layer.{i}"
        for name, (o, k) in {"attention.self.query": (hidden, hidden), "attention.self.key": (hidden, hidden),
                             "attention.self.value": (hidden, hidden), "attention.output.dense": (hidden, hidden),
                             "intermediate.dense": (inter, hidden), "output.dense": (hidden, inter)}.items():
            w[f"{p}.{name}.weight"] = rng.standard_normal((o, k)) / math.sqrt(k)
            w[f"{p}.{name}.bias"] = rng.standard_normal(o) * 0.1
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[f"{p}.{ln}.weight"] = rng.uniform(0.5, 1.5, hidden)
            w[f"{p}.{ln}.bias"] = rng.standard_normal(hidden) * 0.1
    cfg = {"hidden_size": hidden, "num_attention_heads": heads, "num_hidden_layers": layers,
           "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
    return {k: v.astype(np.float32) for k, v in w.items()}, cfg


def _numpy_bert(w, cfg, ids, mask):
    """BERT + mean pooling + L2 normalisation written directly from the paper's equations."""
    from math import erf

    def ln(x, p):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[f"{p}.weight"] + w[f"{p}.bias"]

    def lin(x, p):
        return x @ w[f"{p}.weight"].T.astype(np.float64) + w[f"{p}.bias"]

    n, hd, heads = ids.shape[1], cfg["hidden_size"] // cfg["num_attention_heads"], cfg["num_attention_heads"]
    x = (w["embeddings.word_embeddings.weight"][ids[0]] + w["embeddings.position_embeddings.weight"][:n]
         + w["embeddings.token_type_embeddings.weight"][0]).astype(np.float64)
    x = ln(x, "embeddings.LayerNorm")
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}.attention"
        q, k, v = (lin(x, f"{p}.self.{t}").reshape(n, heads, hd).transpose(1, 0, 2)
                   for t in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd) + (1 - mask[0]) * -10000.0
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(1, 0, 2).reshape(n, -1)
        x = ln(lin(ctx, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        h = lin(x, f"encoder.layer.{i}.intermediate.dense")
        h = h * 0.5 * (1 + np.vectorize(erf)(h / math.sqrt(2)))
        x = ln(lin(h, f"encoder.layer.{i}.output.dense") + x, f"encoder.layer.{i}.output.LayerNorm")
    pooled = (x * mask[0][:, None]).sum(0) / max(mask.sum(), 1e-9)
    return pooled / np.linalg.norm(pooled)


def test_minilm_builder_matches_numpy_bert():
    rng = np.random.default_rng(1)
    w, cfg = _tiny_bert(rng)
    model = minilm.build(w, cfg, seq_len=10)
    sess = ort.InferenceSession(serialize(model))
    ids = np.array([[2, 7, 11, 5, 19, 3, 0, 0, 0, 0]], np.int64)
    mask = (ids != 0).astype(np.int64)
    got = sess.run(None, {"input_ids": ids, "attention_mask": mask})[0][0]
    np.testing.assert_allclose(got, _numpy_bert(w, cfg, ids, mask), atol=2e-5)
    assert abs(np.linalg.norm(got) - 1) < 1e-5
    # padded positions must not matter: change their ids, same embedding
    other = ids.copy()
    other[0, 6:] = 13
    again = sess.run(None, {"input_ids": other, "attention_mask": mask})[0][0]
    np.testing.assert_allclose(again, got, atol=1e-5)


def test_minilm_builder_refuses_other_activations():
    w, cfg = _tiny_bert(np.random.default_rng(0))
    with pytest.raises(ModelLoadError, match="relu"):
        minilm.build(w, {**cfg, "hidden_act": "relu"})


def test_speech_labels_from_a_synthetic_signal():
    rate = 16000
    x = np.zeros(rate * 2)
    x[4000:12000] = np.sin(np.arange(8000) * 0.3)
    x[14000:20000] = np.sin(np.arange(6000) * 0.2)   # 2000-sample gap < hangover: merged
    x[30000:31000] = 0.5                             # after a long gap: a separate interval
    iv = speech_intervals(x)
    # 20 ms (320-sample) frames: 4000 lies in frame 12 (3840..4160), 20000 in frame 62
    # (..20160), 30000 in frame 93 (29760..), 31000 in frame 96 (..31040)
    assert iv == [(3840, 20160), (29760, 31040)]
    labels = chunk_labels(iv, np.arange(0, 32000, 512), 512)
    assert labels[0] == 0 and labels[10] == 1 and labels[45] == 0


def test_text_sentences_are_prose_and_splits_disjoint():
    calib, evals = sentences("calib"), sentences("eval")
    assert len(calib) >= 200 and len(evals) >= 150
    assert not set(calib) & set(evals)
    assert all(is_prose(s) for s in calib + evals)


def test_cli_list_and_unknown_model():
    from edgeq.cli import build_cli

    cli = build_cli()
    result = CliRunner().invoke(cli, ["zoo", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [m["name"] for m in listed] == zoo.names()
    assert listed[3]["inputs"][0] == {"name": "input", "shape": [32, 576], "dtype": "float32"}
    from edgeq.cli import main

    assert main(["zoo", "get", "resnet"]) == 2


def test_speech_without_espeak_says_how_to_install(tmp_path, monkeypatch):
    from edgeq.errors import DownloadError
    from edgeq.zoo.data_speech import make_speech

    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on this PATH
    with pytest.raises(DownloadError, match="apt-get install espeak-ng"):
        make_speech("calib", tmp_path)
