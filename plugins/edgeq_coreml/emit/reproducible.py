"""Same inputs, same bytes: what coremltools writes that varies from run to run, made
fixed after ``MLModel.save``.

* ``Manifest.json`` names each item of the package by a fresh ``uuid4``; Core ML needs
  the identifiers only to be unique within the package, so they become ``uuid5`` of the
  item's path.
* The spec records ``com.github.apple.coremltools.conversion_date`` (the day of the
  build) among its user metadata; it is dropped (the coremltools version stays).
* The spec's metadata map is serialized in hash-table order; it is written with
  protobuf's deterministic serialization (map keys sorted).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

#: the namespace of the package item identifiers (any fixed UUID would do)
_ITEM_NAMESPACE = uuid.UUID("5f3b7d0e-6a1c-4d2e-9b8f-0c4e2a1d7e93")
_VOLATILE_METADATA = ("com.github.apple.coremltools.conversion_date",)


def spec_bytes(spec) -> bytes:
    """``spec`` (a Core ML ``Model`` protobuf) serialized reproducibly, without the
    conversion date."""
    meta = spec.description.metadata.userDefined
    for key in _VOLATILE_METADATA:
        if key in meta:
            del meta[key]
    return spec.SerializeToString(deterministic=True)


def fix_manifest(package: Path) -> None:
    """Rewrite ``package/Manifest.json`` with identifiers derived from the item paths."""
    path = package / "Manifest.json"
    doc = json.loads(path.read_text())
    renamed = {old: str(uuid.uuid5(_ITEM_NAMESPACE, item["path"]))
               for old, item in doc.get("itemInfoEntries", {}).items()}
    doc["itemInfoEntries"] = {renamed[k]: v for k, v in doc["itemInfoEntries"].items()}
    if doc.get("rootModelIdentifier") in renamed:
        doc["rootModelIdentifier"] = renamed[doc["rootModelIdentifier"]]
    path.write_text(json.dumps(doc, indent=4, sort_keys=True) + "\n")
