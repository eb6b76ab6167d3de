"""Lexical evidence: which entries share the question's words.

Dense vectors from a small model miss rare, decisive words ("hiccups",
"jackknife", "B6") and blur questions that share a topic but not a meaning.
Two word-level signals sit beside them, both on stemmed content words:

* `bm25`: Okapi BM25 (`bm25s`), the standard lexical ranker and our baseline;
* `coverage`: the IDF-weighted share of the question's distinct words found in
  the entry, 1.0 when every distinctive word is there. Unlike BM25 it is
  bounded, so it means the same thing on a 12-entry corpus and a 16k one.

Pure logic over the texts handed in.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

_WORD = re.compile(r"[a-z0-9]+")
_STEMMER = Stemmer.Stemmer("english")
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours out over own same she should so some
    such than that the their theirs them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours s t d ll m
    re ve y isn aren wasn weren don doesn didn won wouldn shouldn couldn hasn haven hadn get got im ive
    pls please thanks thank hi hello ok okay""".split()  # noqa: SIM905
)


def terms(text: str) -> list[str]:
    """Stemmed content words, in order, repeats kept."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
    return list(_STEMMER.stemWords(words))


class LexicalIndex:
    def __init__(self, documents: Sequence[str]) -> None:
        self.size = len(documents)
        tokenised = [terms(document) for document in documents]
        postings: dict[str, list[int]] = defaultdict(list)
        for number, words in enumerate(tokenised):
            for term in set(words):
                postings[term].append(number)
        self._postings = {term: np.asarray(docs, dtype=np.int32) for term, docs in postings.items()}
        # A word the corpus never uses is as telling as the rarest one it does.
        self._unseen_idf = math.log(1 + self.size / 0.5)
        self._bm25 = bm25s.BM25()
        self._bm25.index([words or [""] for words in tokenised], show_progress=False)

    def idf(self, term: str) -> float:
        docs = self._postings.get(term)
        return self._unseen_idf if docs is None else math.log(1 + self.size / len(docs))

    def coverage(self, question: str) -> np.ndarray:
        """Per document, the IDF-weighted fraction of the question's distinct terms it contains."""
        scores = np.zeros(self.size, dtype=np.float32)
        wanted = set(terms(question))
        total = sum(self.idf(term) for term in wanted)
        if total == 0.0:
            return scores
        for term in wanted:
            docs = self._postings.get(term)
            if docs is not None:
                scores[docs] += self.idf(term) / total
        return scores

    def bm25(self, question: str) -> np.ndarray:
        """Per document, the BM25 score of the question (0 where no word is shared)."""
        known = [term for term in terms(question) if term in self._postings]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
