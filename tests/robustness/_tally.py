"""A tally of what the robustness tests saw, for the suite's summary line.

Each case calls :func:`record` once per input it tried, with a category (what was fed:
``importer``, ``tflite``, ``ane`` …) and an outcome:

* ``clear_error``: an ``EdgeqError`` naming the file and saying what to do;
* ``accepted``: the input was read as valid (a mutation that left a valid file);
* ``traceback``: any other exception escaped;
* ``hang``: the input exceeded its time bound;
* ``partial``: a half-written output was left behind.
"""

from __future__ import annotations

from collections import Counter

OUTCOMES = frozenset({"clear_error", "accepted", "traceback", "hang", "partial"})

#: (category, outcome) -> how many inputs ended so
TALLY: Counter[tuple[str, str]] = Counter()


def record(category: str, outcome: str) -> None:
    """Count one input of ``category`` that ended in ``outcome`` (one of :data:`OUTCOMES`)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r} is not one of {sorted(OUTCOMES)}")
    TALLY[(category, outcome)] += 1
