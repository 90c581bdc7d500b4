"""Outcome counts of the robustness suite, printed as one summary line at the end of the
run (conftest.py). Each corpus case and each fuzz test records what it saw."""

from __future__ import annotations

from collections import Counter

#: (category, outcome) -> count; outcome is one of OUTCOMES
COUNTS: Counter[tuple[str, str]] = Counter()

#: clear_error: an EdgeqError naming the culprit (the expected result of a bad input);
#: accepted: a mutated input that was still valid and was read without error;
#: traceback: any other exception, or a traceback printed; hang: over the time bound;
#: partial: a half-written or modified output was left behind; unclear: the wrong exit
#: status, or a message that does not name the culprit
OUTCOMES = ("clear_error", "accepted", "traceback", "hang", "partial", "unclear")


def record(category: str, outcome: str) -> None:
    """Count one example of ``category`` (e.g. "corpus", "fuzz-importer") as ``outcome``."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; one of {OUTCOMES}")
    COUNTS[(category, outcome)] += 1


def summary() -> list[str]:
    """The summary lines: the corpus first, then one line per fuzzed reader."""
    lines = []
    corpus = {o: COUNTS[("corpus", o)] for o in OUTCOMES}
    if sum(corpus.values()):
        lines.append(f"robustness: {sum(corpus.values())} cases, {corpus['clear_error']} clear errors, "
                     f"{corpus['traceback']} tracebacks, {corpus['partial']} partial artifacts, "
                     f"{corpus['hang']} hangs, {corpus['unclear']} unclear")
    for category in sorted({c for c, _ in COUNTS} - {"corpus"}):
        n = {o: COUNTS[(category, o)] for o in OUTCOMES}
        lines.append(f"robustness {category}: {sum(n.values())} examples, {n['clear_error']} clear errors, "
                     f"{n['accepted']} accepted, {n['traceback']} other exceptions, {n['hang']} hangs")
    return lines
