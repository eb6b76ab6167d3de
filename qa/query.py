"""Query clean-up before embedding: typography, misspellings, question parts.

Parents type "siezure", "spazms", "twiching". A small model splits such words
into meaningless pieces, so a word that neither the model's vocabulary nor
the corpus knows is replaced by the closest corpus word, when one is close
enough. Words the model knows are never touched, so ordinary English passes
through unchanged. Then lay words gain the corpus's own terms
(`data/synonyms.toml`). A long message ("my son is 5 months, last week he
started ... what could this be?") is also split into its question parts, so the
question is matched on its own as well as inside its background. Pure logic:
vocabularies and synonyms are handed in.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from qa.records import Entry

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


SYNONYMS_FILE = Path(__file__).parent / "data" / "synonyms.toml"


@cache
def shipped_synonyms() -> Synonyms:
    """The project's table, read once per process (every build and every retriever uses it)."""
    return Synonyms.from_file(SYNONYMS_FILE)


class Preparer:
    """The clean-up every text to match goes through: tidied, spelling-corrected, lay words expanded.

    One object, used for the messages and for the example questions stored in the index, so the two
    are embedded from text prepared the same way.
    """

    def __init__(self, speller: Speller | None, synonyms: Synonyms | None) -> None:
        self.speller = speller
        self.synonyms = synonyms

    @classmethod
    def for_corpus(
        cls,
        entries: Iterable[Entry],
        model_vocabulary: frozenset[str],
        synonyms: Synonyms | None,
        spelling: bool = True,
    ) -> Preparer:
        """A preparer whose speller knows the corpus's words (`spelling=False`: none, for comparisons)."""
        if not spelling:
            return cls(None, synonyms)
        words = corpus_words(text for entry in entries for text in (*entry.questions, entry.answer))
        return cls(Speller(words, model_vocabulary), synonyms)

    def __call__(self, text: str) -> str:
        return self.corrected(normalise(text))

    def corrected(self, text: str) -> str:
        """Spelling and synonyms only, for text already normalised."""
        if self.speller is not None:
            text = self.speller.correct(text)
        return self.synonyms.expand(text) if self.synonyms is not None else text


_SENTENCE_END = re.compile(r"(?<=[.?!])\s+|\n+")
_QUESTION_WORDS = r"(?:what|whats|why|how)"
_AUXILIARIES = r"(?:is|are|was|were|do|does|did|can|could|should|would|will)"
"""Verbs that open a yes/no question ("can it be...", "should I worry")."""
_LEAD = r"^\W*(?:also\s+|and\s+|so\s+|but\s+)?"
_OPENS = re.compile(
    rf"^\W*(?:also\s+|and\s+|so\s+|but\s+|or\s+)?(?:{_QUESTION_WORDS}|{_AUXILIARIES}|when|where|which|who|has|have|"
    r"any|anything)\b",
    re.IGNORECASE,
)
_CLAUSE_OPENERS = rf"(?:{_QUESTION_WORDS}|{_AUXILIARIES})"
"""Openers that start a new clause after a comma; not who/which/where/when, which more often start a
relative clause ("my son, who is 5 months, ...") than a question."""
_CLAUSE = re.compile(
    rf"[,;:]\s*(?=(?:and\s+|or\s+)?{_CLAUSE_OPENERS}\b)|\s+(?:so|but|and)\s+(?={_CLAUSE_OPENERS}\b)", re.IGNORECASE
)
_ASKS_WITHOUT_MARK = re.compile(
    rf"{_LEAD}(?:{_QUESTION_WORDS}\b|{_AUXILIARIES}\s+(?:i|it|this|that|these|those|there|he|she|"
    r"they|we|you|my|our|your)\b)",
    re.IGNORECASE,
)
"""A question without its "?": a question word, or a verb before its subject ("is that normal", not "has a rash")."""
_REPORTED = re.compile(r"\b(?:asks?|asking|wonder(?:s|ing)?|wants? to know|want to understand)\b", re.IGNORECASE)
"""A question told rather than asked: "mother asks whether this is typical"."""
MAX_PARTS = 3
"""Most question parts matched besides the whole message: the last ones asked."""


def question_parts(text: str) -> list[str]:
    """The question parts of a message of several sentences or clauses; [] for a plain question.

    A part is a clause that ends with "?", or opens like a question inside a sentence that does
    ("what do they look like, and does this sound like one?"), or opens like a question without the
    mark ("... since yesterday, is that normal"), or tells one ("mother asks whether ..."). With none
    of those, the last sentence stands in: people usually end with what they want to know.
    """
    sentences = [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]
    parts: list[str] = []
    count = 0
    for sentence in sentences:
        clauses = [c.strip(" ,;:") for c in _CLAUSE.split(sentence) if c.strip(" ,;:")]
        count += len(clauses)
        for clause in clauses:
            marked = clause.endswith("?") or (sentence.endswith("?") and _OPENS.match(clause))
            if marked or _REPORTED.search(clause) or _ASKS_WITHOUT_MARK.match(clause):
                parts.append(clause)
    if count < 2:
        return []
    return [part for part in (parts or sentences[-1:])[-MAX_PARTS:] if part != text]
