"""App-prep script of the embedding sample: all-MiniLM-L6-v2 from ONNX to gated, profiled
artifacts for every target of edgeq.yaml, then a small semantic search over the
evaluation sentences: every sentence is a query, its nearest other sentence by cosine
similarity is looked up with FP32 and with the artifact's embeddings, and how often they
agree is printed with an example.

    python sample_apps/embedding/prepare.py [--out DIR] [--eval-samples N]

Exit status 3 when a gate of edgeq.yaml is missed (as ``edgeq build --config``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _prep import arguments, prepare  # noqa: E402

HERE = Path(__file__).resolve().parent


def nearest(embeddings: np.ndarray) -> np.ndarray:
    """For every row, the index of the most similar other row (cosine similarity)."""
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    sim = unit @ unit.T
    np.fill_diagonal(sim, -np.inf)
    return np.argmax(sim, axis=1)


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.split("\n\n")[0], argv)
    app = prepare(HERE, args)
    for target, evals in app.evals.items():
        texts = [text for _file, _line, text in evals.items]  # the sentences, in feed order
        ref = np.concatenate([app.model.run(f)["sentence_embedding"] for f in evals])
        got = np.concatenate([o["sentence_embedding"] for o in app.outputs(target)])
        ref_hit, hit = nearest(ref), nearest(got)
        print(f"\nsemantic search over {len(ref)} sentences, {target} artifact: the same nearest "
              f"sentence as FP32 for {np.mean(hit == ref_hit):.3f} of the queries")
        q = 0
        print(f"  query: {texts[q]!r}\n  FP32 : {texts[ref_hit[q]]!r}\n  {target}: {texts[hit[q]]!r}")
    return 0 if app.passed else 3


if __name__ == "__main__":
    sys.exit(main())
