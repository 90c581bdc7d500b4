"""Sentences -> token id tensors with a HuggingFace ``tokenizer.json`` (``tokenizers``).

``path`` is a UTF-8 text file with one sample per line (blank lines skipped) or a
directory of such ``.txt`` files. Each line is encoded with the tokenizer (its own
normaliser, pre-tokenizer and post-processor, e.g. BERT's ``[CLS] ... [SEP]``),
truncated to ``max_len`` tokens and right-padded with the tokenizer's pad token
(``[PAD]``, else id 0). Feeds: ``input_ids`` and ``attention_mask`` (1 for tokens, 0
for padding), plus ``token_type_ids`` (zeros) when ``token_type_ids`` names it, each
``[1, max_len]`` int64 (or ``dtype``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.data.base import Dataset, Feed, file_digest, list_files
from edgeq.errors import CalibrationError, require_module


class TextDataset(Dataset):
    kind = "text"

    def __init__(self, path: str | Path, tokenizer_json: str | Path, max_len: int = 64, *,
                 input_ids: str = "input_ids", attention_mask: str | None = "attention_mask",
                 token_type_ids: str | None = None, dtype: str = "int64",
                 num_samples: int | None = None, seed: int = 0):
        super().__init__(num_samples, seed)
        self.path = Path(path)
        self.tokenizer_json = Path(tokenizer_json)
        self.max_len = int(max_len)
        if self.max_len < 2:
            raise CalibrationError(f"text: max_len must be at least 2, got {max_len}")
        self.names = {"input_ids": input_ids, "attention_mask": attention_mask,
                      "token_type_ids": token_type_ids}
        self.dtype = np.dtype(dtype)
        self._tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            tokenizers = require_module("tokenizers", "tokenizers", "The text data set")
            try:
                tok = tokenizers.Tokenizer.from_file(str(self.tokenizer_json))
            except Exception as exc:  # tokenizers raises a bare Exception for bad files
                raise CalibrationError(f"{self.tokenizer_json}: not a readable tokenizer.json "
                                       f"({exc})") from exc
            pad_id, pad_token = 0, "[PAD]"
            if tok.padding:
                pad_id, pad_token = tok.padding["pad_id"], tok.padding["pad_token"]
            elif tok.token_to_id("[PAD]") is not None:
                pad_id = tok.token_to_id("[PAD]")
            tok.enable_truncation(max_length=self.max_len)
            tok.enable_padding(length=self.max_len, pad_id=pad_id, pad_token=pad_token)
            self._tokenizer = tok
        return self._tokenizer

    def _items(self) -> list[tuple[Path, int, str]]:
        items = []
        for f in list_files(self.path, (".txt",), self.kind):
            try:
                lines = f.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise CalibrationError(f"{f}: cannot read as UTF-8 text ({exc})") from exc
            items.extend((f, i + 1, line.strip()) for i, line in enumerate(lines) if line.strip())
        return items

    def _empty_hint(self) -> str:
        return "it needs .txt files with one sentence per line"

    def _describe(self, item) -> str:
        return f"{item[0]}:{item[1]}"

    def _item_digest(self, item) -> str:
        return hashlib.sha256(item[2].encode("utf-8")).hexdigest()

    def _params(self) -> dict[str, Any]:
        return {"tokenizer": file_digest(self.tokenizer_json) if self.tokenizer_json.exists()
                else str(self.tokenizer_json), "max_len": self.max_len,
                "names": self.names, "dtype": self.dtype.name}

    def encode(self, sentence: str) -> Feed:
        """The feed dict of one sentence."""
        enc = self.tokenizer.encode(sentence)
        feed = {self.names["input_ids"]: np.array([enc.ids], self.dtype)}
        if self.names["attention_mask"]:
            feed[self.names["attention_mask"]] = np.array([enc.attention_mask], self.dtype)
        if self.names["token_type_ids"]:
            feed[self.names["token_type_ids"]] = np.zeros((1, self.max_len), self.dtype)
        return feed

    def _load(self, item) -> Feed:
        return self.encode(item[2])

    @property
    def sentences(self) -> list[str]:
        """The selected sentences, in feed order."""
        return [item[2] for item in self.items]


def text(path: str | Path, tokenizer_json: str | Path, max_len: int = 64, **options) -> TextDataset:
    """A :class:`TextDataset` over the sentences in ``path`` (see module docstring)."""
    return TextDataset(path, tokenizer_json, max_len, **options)
