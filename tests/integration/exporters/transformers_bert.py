"""Export a BERT sentence encoder with the current transformers and torch.onnx, as a
user of those libraries would (run by tests/integration/_transformers_exports.py in the
export environment of ``make setup-export``; it imports neither edgeq nor anything of
the project).

    python transformers_bert.py MODEL_DIR OUT.onnx {torchscript|dynamo} SEQ

MODEL_DIR holds ``config.json`` and ``model.safetensors`` (sentence-transformers
all-MiniLM-L6-v2 from its registry wheel). The exported graph is ``BertModel`` with its
default attention implementation (sdpa in transformers 5), then mean pooling over the
attention mask and ``F.normalize``: the sentence-transformers model. ``torchscript`` is
``torch.onnx.export(..., dynamo=False, opset_version=17)``, ``dynamo`` the exporter that
``torch.onnx.export`` uses by default since torch 2.9 (opset 18). The file is written to
a temporary name and renamed.
"""

import os
import sys

import onnx
import torch
import transformers
from transformers import BertModel


class SentenceEncoder(torch.nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


def main(model_dir: str, out: str, exporter: str, seq: int) -> None:
    torch.manual_seed(0)
    encoder = SentenceEncoder(BertModel.from_pretrained(model_dir)).eval()
    ids = torch.ones(1, seq, dtype=torch.long)
    mask = torch.ones(1, seq, dtype=torch.long)
    tmp = f"{out}.tmp-{os.getpid()}"
    names = dict(input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"])
    with torch.no_grad():
        if exporter == "torchscript":
            torch.onnx.export(encoder, (ids, mask), tmp, opset_version=17, dynamo=False,
                              dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                            "attention_mask": {0: "batch", 1: "sequence"}}, **names)
        elif exporter == "dynamo":
            torch.onnx.export(encoder, (ids, mask), tmp, dynamo=True, **names)
        else:
            raise SystemExit(f"unknown exporter {exporter!r}: torchscript or dynamo")
    model = onnx.load(tmp)
    onnx.helper.set_model_props(model, {"exported_with": f"torch {torch.__version__}, "
                                                         f"transformers {transformers.__version__}, "
                                                         f"exporter {exporter}"})
    onnx.save(model, tmp)
    for leftover in (tmp + ".data",):
        if os.path.exists(leftover):
            os.remove(leftover)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
