"""Run small dense linear algebra single-threaded.

Calibration and GPTQ do thousands of small matrix products (per-tensor Gram matrices of
a few hundred rows). A multi-threaded OpenBLAS spends more time waking its threads
than computing them, and on a loaded machine each call can stall for tens of
milliseconds (measured: a 144×1568 Gram matrix takes 0.5 ms on one thread and 40-80 ms
with the default pool on a busy 2-core host). :func:`single_threaded` sets numpy's
OpenBLAS pool to one thread for the duration of a block and restores it, the way
threadpoolctl does, via the library's own ``*_set_num_threads`` entry point; it is a
no-op when numpy is linked against another BLAS.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import re

log = logging.getLogger(__name__)

_NAMES = [("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
          ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
          ("openblas_get_num_threads", "openblas_set_num_threads")]
_API: tuple | None = None
_SEARCHED = False


def _find():
    global _API, _SEARCHED
    if _SEARCHED:
        return _API
    _SEARCHED = True
    try:
        import numpy  # noqa: F401  (loads the BLAS)

        with open("/proc/self/maps") as fh:
            libs = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", fh.read())))
        for path in libs:
            lib = ctypes.CDLL(path)
            for get, set_ in _NAMES:
                if hasattr(lib, get) and hasattr(lib, set_):
                    _API = (getattr(lib, get), getattr(lib, set_))
                    return _API
    except OSError as exc:  # not Linux, or the library cannot be opened: leave BLAS alone
        log.debug("cannot control BLAS threads: %s", exc)
    return _API


@contextlib.contextmanager
def single_threaded():
    api = _find()
    if api is None:
        yield
        return
    get, set_ = api
    before = int(get())
    set_(1)
    try:
        yield
    finally:
        set_(before)
