"""From a message to ranked entries, each with the chance that it answers.

Steps, for each message:

1. *views*: the tidied message and, for a long one, its question parts
   (`qa.query`), all embedded in one batch;
2. *candidates*: the entries nearest to any view in FAISS (question, answer
   and joint rows), plus the best by BM25 and by word coverage;
3. *evidence*: every row of each candidate scored exactly, with lexical,
   string and question-type evidence, and how close the message is to the
   index's labelled example questions of each entry and of none (`qa.features`);
4. *ranking*: the fitted ranker (`qa.ranker`) turns each row into a chance of
   being an acceptable answer; the service abstains under its threshold.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz import fuzz

from qa import features, vectorindex
from qa.embedder import Embedder
from qa.index import IndexBuild, RowKind, joint_text
from qa.lexical import LexicalIndex
from qa.qtype import QuestionTypes
from qa.query import Preparer, Synonyms, normalise, question_parts
from qa.ranker import Ranker
from qa.records import Entry

_LOOSE = re.compile(r"[^a-z0-9]+")
_QUESTION, _ANSWER, _JOINT = int(RowKind.QUESTION), int(RowKind.ANSWER), int(RowKind.JOINT)
DENSE_CANDIDATE_ROWS = vectorindex.CANDIDATE_ROWS
"""Nearest FAISS rows per view whose entries become candidates (the index is built to search this deep)."""
LEXICAL_CANDIDATES = 40
"""Best entries by BM25 and by word coverage that become candidates too."""
NEIGHBOURS = 10
"""Nearest example questions whose share of off-topic ones is a feature (a vote, steadier than the nearest one)."""


def loose(text: str) -> str:
    """Lower case, words only: what is left of a question once typing differences are gone."""
    return " ".join(_LOOSE.split(text.lower())).strip()


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    """The fitted ranker's chance (0-1) that this entry is an acceptable answer; calibrated on first answers."""
    matched_question: str
    """The entry's question that matched best: the one to cite."""


@dataclass(frozen=True)
class Found:
    hits: list[Hit]
    vector: np.ndarray
    """The whole message's embedding: the safety check reuses it, so a message costs one model call."""


@dataclass(frozen=True)
class Candidates:
    """The evidence for one message: candidate entry numbers, their evidence, the rows to cite."""

    entries: np.ndarray
    matched_rows: np.ndarray
    evidence: features.Evidence
    vector: np.ndarray
    """The whole message's embedding (the first view's)."""

    @cached_property
    def rows(self) -> np.ndarray:
        """Feature rows, one per candidate (what the ranker reads)."""
        return features.rows(self.evidence)


class Retriever:
    """Holds one index build and everything needed to query it."""

    def __init__(
        self,
        build: IndexBuild,
        embedder: Embedder,
        ranker: Ranker,
        preparer: Preparer,
        types: QuestionTypes | None,
        threshold: float | None = None,
    ) -> None:
        self.build = build
        self.ranker = ranker
        self.threshold = ranker.threshold if threshold is None else threshold
        self.preparer = preparer
        self._embedder = embedder
        self._bank = ExampleBank(build)
        self._lexical = LexicalIndex([joint_text(entry) for entry in build.entries])
        # Rows of one entry are contiguous: entry n owns rows starts[n]:starts[n + 1].
        self._starts = np.searchsorted(build.row_entry, np.arange(len(build.entries) + 1))
        self._loose_questions = [[loose(q) for q in entry.questions] for entry in build.entries]
        self._types = types if types is not None and types.available(embedder.model_id, embedder.dimension) else None
        self._entry_types = self._types_of_rows(RowKind.QUESTION) if self._types is not None else None
        self._answer_types = self._types_of_rows(RowKind.ANSWER) if self._types is not None else None

    @classmethod
    def create(
        cls,
        build: IndexBuild,
        embedder: Embedder,
        ranker: Ranker,
        synonyms: Synonyms | None,
        types: QuestionTypes | None,
        threshold: float | None = None,
        spelling: bool = True,
    ) -> Retriever:
        """A retriever whose speller knows the corpus's words (`spelling=False`: none, for comparisons)."""
        preparer = Preparer.for_corpus(build.entries, embedder.vocabulary(), synonyms, spelling)
        return cls(build, embedder, ranker, preparer, types, threshold)

    def leaving_out(
        self, sets: Collection[str] = (), questions: Collection[str] = (), entries: Collection[str] = ()
    ) -> Retriever:
        """The same retriever, blind to the examples of these labelled sets, to examples asking these questions
        (give or take typing), and to examples of these entries (as if they were new content): to judge
        questions it never learned from."""
        other = copy.copy(self)
        other._bank = ExampleBank(
            self.build, frozenset(sets), frozenset(loose(q) for q in questions), frozenset(entries)
        )
        return other

    def known_examples(self, questions: Sequence[str]) -> int:
        """How many of these questions the index holds as examples (give or take typing)."""
        held = {loose(example.question) for example in self.build.examples}
        return sum(loose(question) in held for question in questions)

    def _types_of_rows(self, kind: RowKind) -> np.ndarray:
        """(entries, types): the mean type distribution of each entry's rows of one kind."""
        assert self._types is not None
        question_rows = np.flatnonzero(self.build.row_kind == kind)
        probabilities = self._types.probabilities(self.build.vectors.reconstruct_batch(question_rows))
        owners = self.build.row_entry[question_rows]
        totals = np.zeros((len(self.build.entries), probabilities.shape[1]), dtype=np.float32)
        np.add.at(totals, owners, probabilities)
        counts = np.bincount(owners, minlength=len(self.build.entries)).reshape(-1, 1)
        return np.asarray(totals / np.maximum(counts, 1), dtype=np.float32)

    def prepare(self, text: str) -> str:
        """The text actually matched: tidied, spelling-corrected, lay words expanded."""
        return self.preparer(text)

    def views(self, message: str) -> list[str]:
        """The prepared message and its question parts."""
        whole = normalise(message)
        return [self.preparer.corrected(view) for view in (whole, *question_parts(whole))]

    def search(self, question: str, limit: int) -> list[Hit]:
        """The best `limit` distinct entries, best first, whatever their score."""
        return self.find(question, limit).hits

    def find(self, question: str, limit: int) -> Found:
        """`search`, with the message's embedding for whoever reads the message next."""
        return self.find_many([question], limit)[0]

    def find_many(self, questions: Sequence[str], limit: int) -> list[Found]:
        return [Found(self._hits(found, limit), found.vector) for found in self.evidence_many(questions)]

    def search_many(self, questions: Sequence[str], limit: int) -> list[list[Hit]]:
        return [found.hits for found in self.find_many(questions, limit)]

    def evidence_many(self, questions: Sequence[str]) -> list[Candidates]:
        """Candidates and their feature rows for each message (also what the ranker is fitted on)."""
        views = [self.views(question) for question in questions]
        vectors = self._embedder.encode([view for group in views for view in group])
        found, start = [], 0
        for question, group in zip(questions, views, strict=True):
            words = len(normalise(question).split())
            found.append(self._evidence(vectors[start : start + len(group)], group, words))
            start += len(group)
        return found

    def _candidates(
        self, vectors: np.ndarray, coverage: np.ndarray, bm25: np.ndarray, examples: np.ndarray
    ) -> np.ndarray:
        """The same pool whatever the number of answers asked for, so ranks mean what they meant in the fit."""
        if len(self.build.entries) <= LEXICAL_CANDIDATES:  # a small corpus: every entry is a candidate anyway
            return np.arange(len(self.build.entries))
        _, rows = self.build.vectors.search(vectors, min(self.build.vectors.ntotal, DENSE_CANDIDATE_ROWS))
        dense = {int(self.build.row_entry[r]) for r in rows.ravel() if r >= 0}
        wide = LEXICAL_CANDIDATES
        lexical = {int(e) for e in np.argsort(-bm25)[:wide]} | {int(e) for e in np.argsort(-coverage.max(0))[:wide]}
        learned = {int(e) for e in np.argsort(-examples.max(0))[:wide] if examples[:, e].max() > 0}
        return np.asarray(sorted(dense | lexical | learned), dtype=np.int64)

    def _evidence(self, vectors: np.ndarray, views: list[str], words: int) -> Candidates:
        build = self.build
        coverage = np.stack([self._lexical.coverage(view) for view in views])
        bm25 = self._lexical.bm25(views[0])
        examples, offtopic, offtopic_share = self._bank.closeness(vectors)
        chosen = self._candidates(vectors, coverage, bm25, examples)
        # Score every row of each candidate exactly, so no entry is judged on a partial view.
        count = len(chosen)
        own_rows = np.concatenate([np.arange(self._starts[e], self._starts[e + 1]) for e in chosen])
        owner = np.repeat(np.arange(count), self._starts[chosen + 1] - self._starts[chosen])  # position in `chosen`
        similarities = build.vectors.reconstruct_batch(own_rows) @ vectors.T  # (rows, views)
        question, answer, joint, matched = _best_by_kind(similarities, owner, build.row_kind[own_rows])
        matched = own_rows[matched]
        loose_views = [loose(view) for view in views]
        string_match = np.array(
            [[max(fuzz.ratio(v, q) for q in self._loose_questions[e]) / 100 for e in chosen] for v in loose_views],
            dtype=np.float32,
        )
        if self._types is not None and self._entry_types is not None and self._answer_types is not None:
            asked_types = self._types.probabilities(vectors)
            agreement = asked_types @ self._entry_types[chosen].T
            answer_agreement = asked_types @ self._answer_types[chosen].T
        else:
            # No type model for this embedder: the values the ranker saw on average, so they shift nothing.
            def neutral(name: str) -> np.ndarray:
                return np.full((len(views), count), self.ranker.rank.mean[features.NAMES.index(name)], dtype=np.float32)

            agreement, answer_agreement = neutral("type_agreement"), neutral("answer_type_agreement")
        evidence = features.Evidence(
            question_cosine=question,
            answer_cosine=answer,
            joint_cosine=joint,
            coverage=coverage[:, chosen],
            string_match=string_match,
            type_agreement=agreement,
            answer_type_agreement=answer_agreement,
            bm25=bm25[chosen],
            bm25_best=float(bm25.max()) if len(bm25) else 0.0,
            message_words=words,
            example_cosine=examples[:, chosen],
            offtopic_cosine=offtopic,
            offtopic_share=offtopic_share,
            has_examples=self._bank.has_examples[chosen],
        )
        return Candidates(chosen, matched, evidence, vectors[0])

    def _hits(self, found: Candidates, limit: int) -> list[Hit]:
        order, scores = self.ranker.order(found.rows)
        order = order[:limit]
        entries, texts = self.build.entries, self.build.row_text
        return [Hit(entries[int(found.entries[i])], float(scores[i]), texts[int(found.matched_rows[i])]) for i in order]


def _best_by_kind(
    similarities: np.ndarray, owner: np.ndarray, kinds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For (rows, views) similarities of rows owned by candidates 0..C-1: (views, C) best question, answer and
    joint cosine of each candidate, and (C,) the position of its question row best at any view (the first, on
    a tie). Every candidate has rows of each kind. Pure: one grouped maximum per kind instead of a loop."""
    count = int(owner.max()) + 1
    key = owner * 3 + kinds
    order = np.argsort(key, kind="stable")  # rows grouped by (candidate, kind), in row order within a group
    starts = np.flatnonzero(np.r_[True, np.diff(key[order]) != 0])
    best = np.maximum.reduceat(similarities[order], starts, axis=0).T  # (views, groups)
    groups = key[order][starts]
    by_kind = []
    for kind in (_QUESTION, _ANSWER, _JOINT):
        out = np.full((similarities.shape[1], count), -1.0, dtype=np.float32)
        chosen = groups % 3 == kind
        out[:, groups[chosen] // 3] = best[:, chosen]
        by_kind.append(out)
    asked = np.flatnonzero(kinds[order] == _QUESTION)
    question_rows = order[asked]  # question rows grouped by candidate, in row order
    at_best = similarities[question_rows].max(axis=1)
    first = np.flatnonzero(np.r_[True, np.diff(owner[question_rows]) != 0])
    top = np.repeat(np.maximum.reduceat(at_best, first), np.diff(np.r_[first, len(question_rows)]))
    positions = np.where(at_best == top, np.arange(len(question_rows)), len(question_rows))
    matched = question_rows[np.minimum.reduceat(positions, first)]
    return by_kind[0], by_kind[1], by_kind[2], matched


class ExampleBank:
    """The build's labelled example questions, as vectors to compare a message with.

    For each view of a message: its best cosine to the examples of each entry (0 for an entry with none,
    or a negative cosine), and to the examples the corpus does not answer. Examples of the `left_out`
    sets, asking the `questions` (in `loose` form) or naming the `entries` are ignored, so a set is judged by
    what was learned from the others, and an entry as if it had no examples yet.
    """

    def __init__(
        self,
        build: IndexBuild,
        left_out: frozenset[str] = frozenset(),
        questions: frozenset[str] = frozenset(),
        entries: frozenset[str] = frozenset(),
    ) -> None:
        ids = {entry.id: number for number, entry in enumerate(build.entries)}
        kept = [
            n
            for n, example in enumerate(build.examples)
            if example.set not in left_out
            and not (questions and loose(example.question) in questions)
            and not entries.intersection(example.entries)
        ]
        vectors = build.example_vectors[kept] if kept else np.zeros((0, build.manifest.dimension), np.float32)
        self._columns = np.ascontiguousarray(vectors.T)  # (dimension, examples): a product with it is 8x faster
        pairs = sorted((ids[i], k) for k, n in enumerate(kept) for i in build.examples[n].entries if i in ids)
        # Pairs grouped by entry, so each entry's best is one `maximum.reduceat` over its run of columns.
        self._pair_example = np.asarray([k for _, k in pairs], dtype=np.int64)
        pair_entry = np.asarray([e for e, _ in pairs], dtype=np.int64)
        self._with_examples, self._runs = np.unique(pair_entry, return_index=True)
        self._offtopic = np.asarray([k for k, n in enumerate(kept) if not build.examples[n].entries], dtype=np.int64)
        self._is_offtopic = np.zeros(len(kept), dtype=np.float64)
        self._is_offtopic[self._offtopic] = 1.0
        self._entries = len(build.entries)
        self.has_examples = np.zeros(self._entries, dtype=np.float32)
        self.has_examples[self._with_examples] = 1.0

    def closeness(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """(views, entries) best cosine to each entry's examples; (views,) best cosine to an off-topic one; the
        share of the message's `NEIGHBOURS` nearest examples (at any view) that are off-topic."""
        views = len(vectors)
        per_entry = np.zeros((views, self._entries), dtype=np.float32)
        offtopic = np.zeros(views, dtype=np.float32)
        if not self._columns.shape[1]:
            return per_entry, offtopic, 0.0
        similarities = vectors @ self._columns
        if len(self._pair_example):
            best = np.maximum.reduceat(similarities[:, self._pair_example], self._runs, axis=1)
            per_entry[:, self._with_examples] = np.maximum(best, 0.0)
        if not len(self._offtopic):
            return per_entry, offtopic, 0.0
        offtopic = np.maximum(similarities[:, self._offtopic].max(axis=1), 0.0).astype(np.float32)
        nearest = np.argsort(-similarities.max(axis=0), kind="stable")[:NEIGHBOURS]
        return per_entry, offtopic, float(self._is_offtopic[nearest].mean())
