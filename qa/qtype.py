"""What a question asks about: its type (cause, symptoms, treatment, outlook...).

Similar words are not an answer: "how is West syndrome diagnosed?" shares its
topic with the entry that describes what spasms look like, and a bi-encoder
scores them close. The MedQuAD authors answered this with question
entailment: an answer fits when the question's *type* and *focus* both agree.
The retriever uses the focus through its lexical and dense evidence; this
module supplies the type, as a probability over 14 question types (MedQuAD's
merged, plus "normal" and "duration"), for the user's message and for every
entry's questions. Their agreement is one feature of the ranker.

The model is a multinomial logistic regression on the sentence embedding,
fitted by `scripts/fit_ranker.py` on MedQuAD's 16k annotated questions and on
lay questions written for it (each weighing ten templated ones), and stored in
`data/question_types.npz`; the README gives its accuracy on lay questions it
never saw. It belongs to one embedding model: with another, `available` is
false and the agreement feature takes its neutral value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.embedder import base_model
from qa.errors import RankerFileError

TYPES_FILE = Path(__file__).parent / "data" / "question_types.npz"


@dataclass(frozen=True)
class QuestionTypes:
    model_id: str
    labels: tuple[str, ...]
    weights: np.ndarray
    """(dimension, types)."""
    bias: np.ndarray

    @classmethod
    def load(cls, path: Path = TYPES_FILE) -> QuestionTypes:
        try:
            with np.load(path) as data:
                types = cls(
                    model_id=str(data["model_id"]),
                    labels=tuple(str(label) for label in data["labels"]),
                    weights=data["weights"].astype(np.float32),
                    bias=data["bias"].astype(np.float32),
                )
        except Exception as exc:  # a truncated zip, a missing key...: all mean "damaged"
            raise RankerFileError(
                f"the question-type model {path} is missing or damaged ({exc}); reinstall, or refit with "
                "scripts/fit_ranker.py"
            ) from exc
        count = len(types.labels)
        if types.weights.ndim != 2 or types.weights.shape[1] != count or types.bias.shape != (count,):
            raise RankerFileError(f"the question-type model {path} is inconsistent; refit with scripts/fit_ranker.py")
        return types

    def save(self, path: Path) -> None:
        np.savez(
            path, model_id=np.array(self.model_id), labels=np.array(self.labels), weights=self.weights, bias=self.bias
        )

    def available(self, model_id: str, dimension: int) -> bool:
        return base_model(model_id) == self.model_id and dimension == self.weights.shape[0]

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(texts, types): each row sums to 1."""
        logits = vectors @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)
