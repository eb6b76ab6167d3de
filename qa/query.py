"""Query clean-up before embedding: typography and misspellings.

Parents type "siezure", "spazms", "twiching". A small model splits such words
into meaningless pieces, so a word that neither the model's vocabulary nor
the corpus knows is replaced by the closest corpus word, when one is close
enough. Words the model knows are never touched, so ordinary English passes
through unchanged. Then lay words gain the corpus's own terms
(`data/synonyms.toml`). Pure logic: vocabularies and synonyms are handed in.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

_WORD = re.compile(r"[A-Za-z]+")
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def normalise(text: str) -> str:
    """Unicode compatibility forms, straight quotes, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    return " ".join(text.split())


def corpus_words(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(word.lower() for text in texts for word in _WORD.findall(text) if len(word) > 2)


class Speller:
    """Corrects words unknown to both the model and the corpus, towards the corpus."""

    def __init__(self, corpus_vocabulary: frozenset[str], model_vocabulary: frozenset[str]) -> None:
        self._corpus = sorted(corpus_vocabulary)
        self._known = corpus_vocabulary | model_vocabulary

    @staticmethod
    def _max_edits(word: str) -> int:
        return 1 if len(word) <= 5 else 2

    def correct_word(self, word: str) -> str:
        lower = word.lower()
        if len(lower) < 4 or lower in self._known:
            return word
        best = process.extractOne(lower, self._corpus, scorer=Levenshtein.distance, score_cutoff=self._max_edits(lower))
        return best[0] if best is not None else word

    def correct(self, text: str) -> str:
        return _WORD.sub(lambda match: self.correct_word(match.group(0)), text)


class Synonyms:
    """Adds the corpus's words for lay terms ("fit" -> "seizure") after the question."""

    def __init__(self, mapping: dict[str, str]) -> None:
        # Longest phrases first, whole words only.
        self._patterns = [
            (re.compile(rf"\b{re.escape(lay)}\b", re.IGNORECASE), canonical)
            for lay, canonical in sorted(mapping.items(), key=lambda item: -len(item[0]))
        ]

    @classmethod
    def from_file(cls, path: Path) -> Synonyms:
        with path.open("rb") as handle:
            return cls(dict(tomllib.load(handle).get("expand", {})))

    def expand(self, text: str) -> str:
        added: list[str] = []
        for pattern, canonical in self._patterns:
            if pattern.search(text) and canonical.lower() not in text.lower() and canonical not in added:
                added.append(canonical)
        return f"{text} ({', '.join(added)})" if added else text
