"""From a question to ranked entries: the retrieval step.

Three kinds of evidence are mixed into one similarity per entry:

* the best cosine between the question and any of the entry's questions,
* the cosine between the question and the entry's answer text,
* the lexical coverage of the question's distinctive words (`qa.lexical`).

Weights and the abstain threshold were chosen on the labelled questions in
`tests/data` (see `bench/calibrate.py` and the README). Candidates come from
both FAISS and the lexical index, so a later re-ranking stage plugs in after
`candidates` without touching the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.embedder import Embedder
from qa.index import IndexBuild, RowKind
from qa.lexical import LexicalIndex
from qa.query import Speller, Synonyms, corpus_words, normalise
from qa.records import Entry


@dataclass(frozen=True)
class Scoring:
    """How evidence becomes one entry similarity, and when to abstain."""

    question_weight: float = 0.4
    answer_weight: float = 0.3
    lexical_weight: float = 0.3
    abstain_threshold: float = 0.46
    confidence_slope: float = 0.08
    """Width of the logistic that maps similarity to a 0-1 confidence around the threshold."""

    def confidence(self, similarity: float) -> float:
        """0.5 at the abstain threshold, towards 1 for strong matches, towards 0 for weak ones."""
        exponent = max(-50.0, min(50.0, -(similarity - self.abstain_threshold) / self.confidence_slope))
        value = 1.0 / (1.0 + math.exp(exponent))
        return round(value, 4)

    def mix(self, question: float, answer: float, lexical: float) -> float:
        return self.question_weight * question + self.answer_weight * answer + self.lexical_weight * lexical


@dataclass(frozen=True)
class Hit:
    entry: Entry
    similarity: float
    matched_question: str
    """The entry's question that matched best: the one to cite."""


def entry_evidence(
    similarities: np.ndarray, row_entry: np.ndarray, row_kind: np.ndarray
) -> dict[int, tuple[float, float, int]]:
    """Entry number -> (best question cosine, answer cosine, best question row). Pure."""
    evidence: dict[int, tuple[float, float, int]] = {}
    for row, similarity in enumerate(similarities.tolist()):
        entry = int(row_entry[row])
        question, answer, best_row = evidence.get(entry, (-1.0, -1.0, -1))
        if row_kind[row] == RowKind.QUESTION and similarity > question:
            question, best_row = similarity, row
        elif row_kind[row] == RowKind.ANSWER:
            answer = max(answer, similarity)
        evidence[entry] = (question, answer, best_row)
    return evidence


class Retriever:
    """Holds one index build and everything needed to query it."""

    def __init__(
        self, build: IndexBuild, embedder: Embedder, scoring: Scoring, speller: Speller, synonyms: Synonyms
    ) -> None:
        self.build = build
        self.scoring = scoring
        self._embedder = embedder
        self._speller = speller
        self._synonyms = synonyms
        self._lexical = LexicalIndex([" ".join((*e.questions, e.answer)) for e in build.entries])
        # Rows of one entry are contiguous: entry n owns rows starts[n]:starts[n + 1].
        self._starts = np.searchsorted(build.row_entry, np.arange(len(build.entries) + 1))

    @classmethod
    def create(
        cls,
        build: IndexBuild,
        embedder: Embedder,
        scoring: Scoring,
        model_vocabulary: frozenset[str],
        synonyms: Synonyms,
    ) -> Retriever:
        words = corpus_words(text for entry in build.entries for text in (*entry.questions, entry.answer))
        return cls(build, embedder, scoring, Speller(words, model_vocabulary), synonyms)

    def prepare(self, question: str) -> str:
        """The text actually matched: tidied, spelling-corrected, lay words expanded."""
        return self._synonyms.expand(self._speller.correct(normalise(question)))

    def search(self, question: str, limit: int) -> list[Hit]:
        """The best `limit` distinct entries, best first, whatever their similarity."""
        return self.search_many([question], limit)[0]

    def search_many(self, questions: Sequence[str], limit: int) -> list[list[Hit]]:
        prepared = [self.prepare(q) for q in questions]
        queries = self._embedder.encode(prepared)
        return [self._rank(query, text, limit) for query, text in zip(queries, prepared, strict=True)]

    def candidates(self, query: np.ndarray, coverage: np.ndarray, limit: int) -> list[int]:
        depth = min(self.build.vectors.ntotal, max(64, limit * 16))
        _, rows = self.build.vectors.search(query.reshape(1, -1), depth)
        dense = {int(self.build.row_entry[r]) for r in rows[0] if r >= 0}
        lexical = np.argsort(-coverage)[: max(16, limit * 4)]
        return sorted(dense | {int(e) for e in lexical})

    def _rank(self, query: np.ndarray, text: str, limit: int) -> list[Hit]:
        build = self.build
        coverage = self._lexical.coverage(text)
        chosen = self.candidates(query, coverage, limit)
        # Score every row of each candidate exactly, so no entry is judged on a partial view.
        own_rows = np.concatenate([np.arange(self._starts[e], self._starts[e + 1]) for e in chosen])
        similarities = build.vectors.reconstruct_batch(own_rows) @ query
        evidence = entry_evidence(similarities, build.row_entry[own_rows], build.row_kind[own_rows])
        scored = [
            (self.scoring.mix(question, answer, float(coverage[entry])), entry, row)
            for entry, (question, answer, row) in evidence.items()
        ]
        scored.sort(key=lambda item: item[0], reverse=True)
        return [
            Hit(build.entries[entry], similarity, build.row_text[int(own_rows[row])])
            for similarity, entry, row in scored[:limit]
        ]
