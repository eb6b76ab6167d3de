"""Evidence about one (message, candidate entry) pair, as a row of numbers.

The ranker (`qa.ranker`) weighs these rows with weights fitted on labelled
questions; nothing here is a hand-set weight. A message is read as several
*views*: the whole message and, for a long one, each question part
(`qa.query.question_parts`), so background told first cannot drown the
question asked last. Every similarity is taken at its best view.

The features are cosines, shares, margins and ranks among the candidates (the
retriever takes a fixed-size pool, so a rank means the same in the fit and in
service), plus two facts about the message (its length in words, its number of
question parts), so one set of weights serves a 12-entry corpus and a 16k-entry
one. The last five read the index's labelled example questions
(`qa.loaders.examples`): the nearest example of this entry, its lead over the
nearest example of any other entry or of none, the nearest example the corpus
does not answer and the share of such examples among the ten nearest, and
whether the entry has examples at all (a corpus without them, like MedQuAD in
the fit, shows the ranker what to do then). Pure logic:
the retriever hands in the scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NAMES = (
    "question_cosine",
    "question_cosine_whole",
    "answer_cosine",
    "joint_cosine",
    "joint_cosine_whole",
    "bm25_relative",
    "coverage",
    "string_match",
    "exact_question",
    "type_agreement",
    "answer_type_agreement",
    "question_rank",
    "joint_margin",
    "question_margin",
    "message_words",
    "question_parts",
    "example_cosine",
    "example_margin",
    "offtopic_example",
    "offtopic_share",
    "has_examples",
)
"""Feature order of every row; the fitted ranker file records it and is refused if it differs."""

EXACT = 0.97
"""String similarity (0-1) at which a message is the entry's own question, give or take typing."""


@dataclass(frozen=True)
class Evidence:
    """Scores for V views of one message against C candidate entries."""

    question_cosine: np.ndarray
    """(V, C) best cosine between the view and any of the entry's questions."""
    answer_cosine: np.ndarray
    """(V, C) cosine between the view and the answer."""
    joint_cosine: np.ndarray
    """(V, C) cosine between the view and the entry's questions and answer as one text."""
    coverage: np.ndarray
    """(V, C) share of the view's distinctive words found in the entry."""
    string_match: np.ndarray
    """(V, C) best normalised string similarity to one of the entry's questions, 0-1."""
    type_agreement: np.ndarray
    """(V, C) chance that the view and the entry's questions ask the same type of question."""
    answer_type_agreement: np.ndarray
    """(V, C) the same against the type the answer text reads as: an answer often covers more than its question."""
    bm25: np.ndarray
    """(C,) BM25 of the whole message."""
    bm25_best: float
    """The highest BM25 over the whole corpus (candidates are chosen to include it)."""
    message_words: int
    """Words in the message as typed (before synonyms are added)."""
    example_cosine: np.ndarray
    """(V, C) best cosine between the view and the entry's example questions (0 if it has none)."""
    offtopic_cosine: np.ndarray
    """(V,) best cosine between the view and an example question the corpus does not answer (0 if none)."""
    offtopic_share: float
    """Share of the message's nearest example questions (any view) that the corpus does not answer."""
    has_examples: np.ndarray
    """(C,) 1 if the entry has example questions."""


def without(evidence: Evidence, keep: np.ndarray) -> Evidence:
    """The same message's evidence as if the corpus lacked the candidates not kept.

    Fitting uses it to make the hardest negatives there are: a labelled question with its own
    entry taken away, against entries on the same topic that answer something else.
    """
    bm25 = evidence.bm25[keep]
    return Evidence(
        question_cosine=evidence.question_cosine[:, keep],
        answer_cosine=evidence.answer_cosine[:, keep],
        joint_cosine=evidence.joint_cosine[:, keep],
        coverage=evidence.coverage[:, keep],
        string_match=evidence.string_match[:, keep],
        type_agreement=evidence.type_agreement[:, keep],
        answer_type_agreement=evidence.answer_type_agreement[:, keep],
        bm25=bm25,
        bm25_best=float(bm25.max()) if len(bm25) else 0.0,
        message_words=evidence.message_words,
        example_cosine=evidence.example_cosine[:, keep],
        offtopic_cosine=evidence.offtopic_cosine,
        offtopic_share=evidence.offtopic_share,
        has_examples=evidence.has_examples[keep],
    )


def _rank_share(values: np.ndarray) -> np.ndarray:
    """1 for the best candidate, 1/2 for the second, and so on."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[order] = np.arange(len(values), dtype=np.float32)
    return np.asarray(1.0 / (1.0 + ranks), dtype=np.float32)


def _margin(values: np.ndarray) -> np.ndarray:
    """How far each candidate is above the best of the others (negative if below)."""
    if len(values) < 2:
        return np.zeros(len(values), dtype=np.float32)
    top_two = np.sort(values)[-2:]
    best_other = np.where(values >= top_two[1], top_two[0], top_two[1])
    return np.asarray(values - best_other, dtype=np.float32)


def _example_margin(examples: np.ndarray, offtopic: float) -> np.ndarray:
    """How far each entry's nearest example is above the nearest example of any other entry, or of none."""
    lead = np.asarray(examples - offtopic, dtype=np.float32)
    return lead if len(examples) < 2 else np.minimum(_margin(examples), lead)


def rows(evidence: Evidence) -> np.ndarray:
    """(C, len(NAMES)) feature rows, in `NAMES` order."""
    question = evidence.question_cosine.max(axis=0)
    examples = evidence.example_cosine.max(axis=0)
    offtopic = float(evidence.offtopic_cosine.max()) if len(evidence.offtopic_cosine) else 0.0
    joint = evidence.joint_cosine.max(axis=0)
    string_match = evidence.string_match.max(axis=0)
    candidates = len(question)
    relative = evidence.bm25 / evidence.bm25_best if evidence.bm25_best > 0 else np.zeros(candidates)
    columns = {
        "question_cosine": question,
        "question_cosine_whole": evidence.question_cosine[0],
        "answer_cosine": evidence.answer_cosine.max(axis=0),
        "joint_cosine": joint,
        "joint_cosine_whole": evidence.joint_cosine[0],
        "bm25_relative": relative,
        "coverage": evidence.coverage.max(axis=0),
        "string_match": string_match,
        "exact_question": (string_match >= EXACT).astype(np.float32),
        "type_agreement": evidence.type_agreement.max(axis=0),
        "answer_type_agreement": evidence.answer_type_agreement.max(axis=0),
        "question_rank": _rank_share(question),
        "joint_margin": _margin(joint),
        "question_margin": _margin(question),
        "message_words": np.full(candidates, np.log1p(evidence.message_words)),
        "question_parts": np.full(candidates, float(evidence.question_cosine.shape[0] - 1)),
        "example_cosine": examples,
        "example_margin": _example_margin(examples, offtopic),
        "offtopic_example": np.full(candidates, offtopic),
        "offtopic_share": np.full(candidates, evidence.offtopic_share),
        "has_examples": evidence.has_examples,
    }
    return np.stack([np.asarray(columns[name], dtype=np.float32) for name in NAMES], axis=1)
