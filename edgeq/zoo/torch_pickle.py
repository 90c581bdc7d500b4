"""Read PyTorch ``.pth`` state dicts into numpy arrays, without torch and without
running code from the file.

Both of torch's serialization formats are understood (torch/serialization.py):

* **zip** (torch >= 1.6): a zip archive ``<root>/data.pkl`` + ``<root>/data/<key>`` (raw
  storage bytes) + optional ``<root>/byteorder``.
* **legacy**: a run of pickles in one file: the magic number 0x1950a86a20f9469cfc6c,
  the protocol version 1001, a sys-info dict, the object itself, then the list of
  storage keys; then, for each key in that order, an int64 element count followed by
  the storage's raw bytes (``_legacy_save`` / ``_legacy_load``).

Tensors are pickled as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, backward_hooks)`` where ``storage`` is a persistent id
``('storage', <torch.XStorage class>, key, location, numel[, view_metadata])``.

Safety: :class:`RestrictedUnpickler` overrides ``find_class`` (the hook the pickle
machine calls for every GLOBAL / STACK_GLOBAL / INST / OBJ / EXT opcode, see the
"Restricting Globals" section of the :mod:`pickle` docs) and maps the few names a state
dict needs to *edgeq's own* harmless stand-ins: OrderedDict and tensor rebuilding
into numpy. Any other global (``os.system``, ``builtins.eval``, ``torch.load`` ...) is
refused with :class:`ModelLoadError` before it can be called, so nothing in the file
runs.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.errors import ModelLoadError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

#: torch storage class name -> numpy dtype of its elements (torch/storage.py)
STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": np.dtype("<u2"),  # widened to float32 on read, see _materialise
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


@dataclass
class _Storage:
    """A storage referenced by a persistent id; its bytes are attached later (legacy)."""

    key: str
    stype: _StorageType
    numel: int
    data: np.ndarray | None = None
    #: legacy views only: the root storage this one is a window of, and its offset
    root: "_Storage | None" = None
    root_offset: int = 0


@dataclass
class _TensorRef:
    """A tensor whose storage bytes may not have been read yet."""

    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise ModelLoadError(f"tensor rebuilt from {type(storage).__name__}, not a storage")
    return _TensorRef(storage, int(storage_offset), tuple(int(s) for s in size),
                      tuple(int(s) for s in stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    # nn.Parameter is a tensor with a flag; the flag is irrelevant for inference
    return data


#: the only globals a state dict may name: (module, name) -> edgeq's stand-in
SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}


class RestrictedUnpickler(pickle.Unpickler):
    """A pickle reader that resolves only :data:`SAFE_GLOBALS` and storage ids."""

    def __init__(self, file, source: str, storages: dict[str, _Storage]):
        super().__init__(file)
        self._source = source
        self._storages = storages

    def find_class(self, module: str, name: str):
        try:
            return SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise ModelLoadError(
                f"{self._source}: refused to load the global '{module}.{name}'. A weights "
                f"file may only contain tensors and OrderedDicts; anything else could run "
                f"code. Re-save the state dict (torch.save(model.state_dict(), ...)) or use "
                f"safetensors."
            ) from None

    def persistent_load(self, pid):
        if (not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] != "storage"
                or not isinstance(pid[1], _StorageType)):
            raise ModelLoadError(f"{self._source}: unexpected persistent id {pid!r:.120}; "
                                 f"only ('storage', <torch storage type>, key, location, numel) "
                                 f"is understood")
        _, stype, key, _location, numel = pid[:5]
        key = str(key)
        storage = self._storages.get(key)
        if storage is None:
            storage = self._storages[key] = _Storage(key, stype, int(numel))
        if len(pid) == 6 and pid[5] is not None:
            # legacy views: (view_key, offset, view_size) into the root storage
            view_key, offset, view_size = pid[5]
            return _Storage(str(view_key), stype, int(view_size), root=storage,
                            root_offset=int(offset))
        return storage


def load_state_dict(path: str | Path) -> "collections.OrderedDict[str, np.ndarray]":
    """Read a torch ``.pth`` file (zip or legacy) into ``{name: np.ndarray}``.

    Tensors become numpy arrays of their dtype (bfloat16 widened to float32); plain
    values a state dict may hold (ints, strings) are kept as they are. Raises
    :class:`ModelLoadError` naming the file for a format it does not understand or a
    global it refuses.
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            obj = _load_zip(path)
        else:
            obj = _load_legacy(path)
    except ModelLoadError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, struct.error,
            TypeError, AttributeError, IndexError) as exc:
        raise ModelLoadError(f"{path}: not a readable torch state dict ({type(exc).__name__}: "
                             f"{exc})") from exc
    if not isinstance(obj, dict):
        raise ModelLoadError(f"{path}: holds a {type(obj).__name__}, not a state dict")
    return collections.OrderedDict((str(k), _resolve(v)) for k, v in obj.items())


def _load_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise ModelLoadError(f"{path}: a zip .pth must hold exactly one data.pkl, "
                                 f"found {len(pkl)}")
        root = pkl[0][: -len("data.pkl")]
        order = "little"
        if f"{root}byteorder" in names:
            order = zf.read(f"{root}byteorder").decode().strip()
        storages: dict[str, _Storage] = {}
        obj = RestrictedUnpickler(io.BytesIO(zf.read(pkl[0])), str(path), storages).load()
        for key, st in storages.items():
            raw = zf.read(f"{root}data/{key}")
            st.data = _from_bytes(raw, st, order, path)
    return obj


def _load_legacy(path: Path) -> Any:
    storages: dict[str, _Storage] = {}
    with open(path, "rb") as f:
        header = [RestrictedUnpickler(f, str(path), storages).load() for _ in range(3)]
        magic, protocol, sys_info = header
        if magic != LEGACY_MAGIC:
            raise ModelLoadError(f"{path}: not a torch .pth file (magic {magic!r}, "
                                 f"expected {LEGACY_MAGIC:#x})")
        if protocol != LEGACY_PROTOCOL:
            raise ModelLoadError(f"{path}: legacy protocol {protocol}, only {LEGACY_PROTOCOL} "
                                 f"is understood")
        if not isinstance(sys_info, dict) or not sys_info.get("little_endian", True):
            raise ModelLoadError(f"{path}: written on a big-endian machine; re-save it")
        obj = RestrictedUnpickler(f, str(path), storages).load()
        keys = RestrictedUnpickler(f, str(path), storages).load()
        if not isinstance(keys, list):
            raise ModelLoadError(f"{path}: storage key list missing after the state dict")
        for key in keys:
            st = storages.get(str(key))
            if st is None:
                raise ModelLoadError(f"{path}: storage {key!r} listed but never referenced")
            (count,) = struct.unpack("<q", f.read(8))
            nbytes = count * st.stype.dtype.itemsize
            raw = f.read(nbytes)
            if count != st.numel or len(raw) != nbytes:
                raise ModelLoadError(f"{path}: storage {key} is truncated or inconsistent "
                                     f"({len(raw)} of {nbytes} bytes, {count} vs "
                                     f"{st.numel} elements)")
            st.data = _from_bytes(raw, st, "little", path)
    return obj


def _from_bytes(raw: bytes, st: _Storage, order: str, path: Path) -> np.ndarray:
    dtype = st.stype.dtype
    if order == "big":
        dtype = dtype.newbyteorder(">")
    if len(raw) < st.numel * dtype.itemsize:
        raise ModelLoadError(f"{path}: storage {st.key} has {len(raw)} bytes, needs "
                             f"{st.numel * dtype.itemsize}")
    arr = np.frombuffer(raw, dtype=dtype, count=st.numel).astype(dtype.newbyteorder("="))
    if st.stype.name == "BFloat16Storage":
        # bfloat16 is the upper half of an IEEE float32 (same exponent, 7-bit mantissa)
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr


def _resolve(value: Any) -> Any:
    if isinstance(value, _TensorRef):
        return _materialise(value)
    if isinstance(value, dict):
        return collections.OrderedDict((k, _resolve(v)) for k, v in value.items())
    return value


def _materialise(ref: _TensorRef) -> np.ndarray:
    st, offset = ref.storage, ref.offset
    if st.root is not None:  # legacy view into a root storage
        st, offset = st.root, offset + st.root_offset
    if st.data is None:
        raise ModelLoadError(f"storage {st.key} is referenced but its bytes were never read")
    flat = st.data
    if any(n == 0 for n in ref.size):
        return np.zeros(ref.size, flat.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
    if offset < 0 or any(s < 0 for s in ref.stride) or last >= flat.size:
        raise ModelLoadError(f"tensor of size {ref.size}, stride {ref.stride}, offset {offset} "
                             f"overruns storage {st.key} of {flat.size} elements")
    arr = np.lib.stride_tricks.as_strided(
        flat[offset:], shape=ref.size, strides=tuple(s * flat.itemsize for s in ref.stride))
    return np.array(arr, copy=True)
