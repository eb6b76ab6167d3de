"""Normalising a parent's message for the red-flag rules. Pure functions.

Rules are written against one canonical form, so the many ways of typing the
same thing (isn't / isn’t / isnt, "ten mins", "38 point 2", "siezure") meet
the same pattern.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60,
}  # fmt: skip
_PHRASES = [
    (re.compile(r"\bhalf an? hour\b"), "30 minutes"),
    (re.compile(r"\b(?:a )?quarter of an hour\b"), "15 minutes"),
    (re.compile(r"\ban hour\b"), "1 hour"),
    (re.compile(r"\ba (minute|min)\b"), "1 minute"),
    (re.compile(r"\b(\d+) point (\d+)\b"), r"\1.\2"),
    (re.compile(r"\bback ?2 ?back\b|\bb2b\b"), "back to back"),
    (re.compile(r"(\d)\s*(?:°|º|degrees?|deg)\s*([cf])?\b"), r"\1 degrees \2"),
    (re.compile(r"(\d)(c|f)\b"), r"\1 \2"),
    (re.compile(r"(\d)(mins?|minutes?|hrs?|hours?|wks?|weeks?|days?|months?|mos?)\b"), r"\1 \2"),
]
_UNIT = r"(?:mins?|minutes?|hours?|hrs?|secs?|seconds?|days?|weeks?|wks?|months?|mos?|years?|degrees?|times)"
# Only counts of something become digits: "ten minutes" -> "10 minutes", but "one after another" stays.
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBERS) + rf")\b(?=(?: or \w+| to \w+)? ?-? ?{_UNIT}\b)")
_SENTENCE = re.compile(r"(?<!\d)[.!?;\n]+|[.!?;\n]+(?!\d)")
_WORD = re.compile(r"[a-z]+")


_CLOCK = re.compile(r"\b(?:at|from|since|its|it is|now|till|until) ([01]?\d|2[0-3])[:.]([0-5]\d)\b")
_MAX_ELAPSED = 180


def _elapsed(text: str) -> str:
    """ "it started at 3:12 and it's now 3:20" -> "... now 3:20 that is 8 minutes": parents time by the clock."""
    times = list(_CLOCK.finditer(text))
    if len(times) < 2 or "now" not in text[times[0].end() :]:
        return text
    first, last = (int(m.group(1)) * 60 + int(m.group(2)) for m in (times[0], times[-1]))
    minutes = (last - first) % (12 * 60)
    if not 0 < minutes <= _MAX_ELAPSED:
        return text
    return f"{text[: times[-1].end()]} that is {minutes} minutes{text[times[-1].end() :]}"


def canonical(text: str) -> str:
    """Lower case, apostrophes dropped, punctuation to spaces (sentence ends kept), numbers as digits."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _elapsed(re.sub(r"['‘’`´]", "", text))
    text = text.replace("&", " and ")
    text = re.sub(r"[^a-z0-9.!?;°º\n ]+", " ", text)
    text = _NUMBER_WORD.sub(lambda m: str(_NUMBERS[m.group(1)]), text)
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return text


def sentences(text: str) -> list[str]:
    """Split on sentence ends, but not on a decimal point (38.5)."""
    parts = (" ".join(part.split()) for part in _SENTENCE.split(text))
    return [part for part in parts if part]


class WordFixer:
    """Known misspellings by table, other typos of long words by closeness to the rule lexicon."""

    def __init__(self, spelling: dict[str, str], lexicon: Iterable[str], known_words: frozenset[str]) -> None:
        self._spelling = spelling
        self._lexicon = sorted(set(lexicon))
        self._known = known_words | set(self._lexicon) | set(spelling.values())

    def fix(self, word: str) -> str:
        if word in self._spelling:
            return self._spelling[word]
        if len(word) < 6 or word in self._known:
            return word
        best = process.extractOne(
            word, self._lexicon, scorer=Levenshtein.distance, score_cutoff=1 if len(word) < 8 else 2
        )
        return best[0] if best is not None and best[0][0] == word[0] else word

    def __call__(self, text: str) -> str:
        return _WORD.sub(lambda m: self.fix(m.group(0)), text)


def preparer_fingerprint(word_lists: list[object]) -> str:
    """This module's code and the word lists a preparer reads (spelling, lexicon, known words), hashed:
    anything derived from prepared text (the kept word model) is read back only under the same one."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    # NFKC follows Python's Unicode tables; the fuzzy spelling fix follows rapidfuzz's tie-breaking.
    digest.update(json.dumps([unicodedata.unidata_version, version("rapidfuzz"), word_lists]).encode())
    return digest.hexdigest()
