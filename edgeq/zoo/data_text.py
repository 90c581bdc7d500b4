"""The text data set: real English sentences from the Python Language Reference.

Source: ``pydoc_data.topics`` — the plain-text rendering of the Python documentation's
reference topics that CPython ships in its standard library (it backs ``help("for")``),
about 460 kB of edited technical prose. It is on every machine that runs edgeq, needs
no download, and, unlike docstrings or licence texts, consists of full explanatory
sentences ("The for statement is used to iterate over the elements of a sequence").

Extraction: prose paragraphs only (indented code/grammar blocks and headings dropped),
split into sentences, kept when they are plain ASCII prose of 6-32 words without code
punctuation. Splits are by *topic* (a topic goes to ``eval`` while that split holds
under 35% of the sentences so far), so no paragraph contributes to both splits.
Different Python versions ship slightly different texts; the data set's fingerprint
covers the sentences themselves.
"""

from __future__ import annotations

import re

#: characters that mark code or markup rather than prose
CODE_CHARS = set("_=[]{}<>|\\`*#@$%^~;")
ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.")
EVAL_FRACTION = 0.35
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")


def _paragraphs(text: str) -> list[str]:
    paras, current = [], []
    for line in text.splitlines():
        if not line.strip() or line.startswith((" ", "\t")) or set(line.strip()) <= set("*=-^~"):
            if current:
                paras.append(" ".join(current))
            current = []
        else:
            current.append(line.strip())
    if current:
        paras.append(" ".join(current))
    return paras


def _sentences(paragraph: str) -> list[str]:
    text = paragraph.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = re.sub(r"\s+", " ", text.replace("\u201d", '"')).strip()
    for i, abbr in enumerate(ABBREVIATIONS):
        text = text.replace(abbr, f"\0{i}\0")
    parts = _SENTENCE_END.split(text)
    out = []
    for s in parts:
        for i, abbr in enumerate(ABBREVIATIONS):
            s = s.replace(f"\0{i}\0", abbr)
        out.append(s.strip())
    return out


def is_prose(sentence: str, min_words: int = 6, max_words: int = 32) -> bool:
    """A plain English sentence: ASCII, capitalised, ends with '.', no code characters."""
    words = sentence.split()
    return (min_words <= len(words) <= max_words and sentence.isascii()
            and sentence[0].isupper() and sentence.endswith(".") and not sentence.endswith("..")
            and not (set(sentence) & CODE_CHARS) and sentence.count('"') % 2 == 0
            and sentence.count("(") == sentence.count(")") and "::" not in sentence)


def sentences(split: str) -> list[str]:
    """The deduplicated sentences of ``split`` ("calib" or "eval"), in source order."""
    from pydoc_data.topics import topics

    seen: set[str] = set()
    by_split: dict[str, list[str]] = {"calib": [], "eval": []}
    for key in sorted(topics):
        found = []
        for para in _paragraphs(topics[key]):
            for s in _sentences(para):
                if is_prose(s) and s.lower() not in seen:
                    seen.add(s.lower())
                    found.append(s)
        # whole topics go to one split; eval takes a topic while it holds under
        # EVAL_FRACTION of the sentences so far, which balances the sizes
        total = len(by_split["calib"]) + len(by_split["eval"]) + len(found)
        target = "eval" if len(by_split["eval"]) < EVAL_FRACTION * total else "calib"
        by_split[target].extend(found)
    return by_split[split]


def speakable(sentence: str) -> bool:
    """Short enough and free of brackets and symbols, so espeak-ng reads it naturally."""
    return is_prose(sentence, 5, 20) and not (set(sentence) & set("()/:"))


def spoken(sentence: str) -> str:
    """The words espeak-ng is given: quotes dropped (they mark code names in the source)."""
    return sentence.replace('"', "")
