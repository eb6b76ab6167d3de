"""The second opinion's word classifier as plain numbers, fitted once per bank and then kept on disk.

Why: importing scikit-learn, preparing the 5,000-message bank and fitting cost about 1.5 s at every
start of `qa serve`, for a model that is a table of a few thousand weights. `fit` runs scikit-learn
(TF-IDF of word 1-2-grams, logistic regression) and keeps only those numbers; `WordModel` does the
same arithmetic in plain Python; `save` and `load` keep a fitted model, with the vectors that name its
concepts, in one file whose name is a key of everything the fit read. A changed bank, word list,
normalising code or library version is a different key, so a stale model is never read: it is refit.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

FIT = {"ngram_range": (1, 2), "sublinear_tf": True, "min_df": 2, "C": 16, "class_weight": "balanced"}
"""The fit's settings, part of every cache key (`bench/safety.py --compare` measured the choice)."""
MAX_ITER = 5000
FORMAT = 1
UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)
"""What reading a damaged, truncated or empty `.npz` raises: it is then refit, never a failed start."""
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


def analyse(text: str) -> list[str]:
    """The terms scikit-learn's default word analyser gives: lower-cased tokens, then 2-grams."""
    tokens = _TOKEN.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


@dataclass(frozen=True)
class WordModel:
    terms: dict[str, tuple[float, float]]
    """term -> (idf, weight in the classifier)."""
    intercept: float
    stop_words: frozenset[str]
    """Words that say nothing on their own ("not", "this"): never a terse message's evidence."""

    def probability(self, text: str) -> float:
        """The classifier's own arithmetic (sublinear tf x idf, l2 norm, logistic), without scikit-learn's
        per-call input checks, which cost several times the sum itself on every message."""
        counts: dict[str, int] = {}
        for term in analyse(text):
            if term in self.terms:
                counts[term] = counts.get(term, 0) + 1
        weighted = [((1.0 + math.log(n)) * self.terms[term][0], self.terms[term][1]) for term, n in counts.items()]
        norm = math.sqrt(sum(w * w for w, _ in weighted)) or 1.0
        logit = self.intercept + sum(w * c for w, c in weighted) / norm
        return 1.0 / (1.0 + math.exp(-logit))

    def evidence(self, text: str) -> float:
        """The weight of the most alarming known content word (0 when none is known)."""
        words = [word for word in text.split() if word not in self.stop_words]
        return max((self.terms[word][1] if word in self.terms else 0.0 for word in words), default=0.0)


def word_features() -> Any:
    """scikit-learn's TF-IDF of word 1-2-grams with the shipped settings (imported only when fitting)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=FIT["ngram_range"], sublinear_tf=FIT["sublinear_tf"], min_df=FIT["min_df"])


def classifier() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=FIT["C"], class_weight=FIT["class_weight"], max_iter=MAX_ITER)


def fit(texts: Sequence[str], alarming: Sequence[bool]) -> WordModel:
    """scikit-learn is imported here only: a start that finds its model on disk never loads it."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words, fitted = word_features(), classifier()
    fitted.fit(words.fit_transform(list(texts)), np.asarray(alarming))
    weights = fitted.coef_[0]
    terms = {term: (float(words.idf_[i]), float(weights[i])) for term, i in words.vocabulary_.items()}
    return WordModel(terms, float(fitted.intercept_[0]), frozenset(ENGLISH_STOP_WORDS))


def fitter() -> str:
    """A fingerprint of how `fit` fits: this module's code (its settings and stop words included) and the
    versions of the libraries whose arithmetic it runs. Part of every cache key."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(json.dumps([FORMAT, [version(name) for name in ("scikit-learn", "scipy", "numpy")]]).encode())
    return digest.hexdigest()


def save(path: Path, model: WordModel, vectors: np.ndarray) -> None:
    """Atomically, and quietly when the folder is read-only: that only costs the next start a fit.

    `path` is named "<family>-<key>.npz": the family's other files (older banks) are removed."""
    names = sorted(model.terms)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(
            partial,
            format=np.array(FORMAT),
            terms=np.array(names, dtype=str),
            numbers=np.array([model.terms[name] for name in names], dtype=np.float64).reshape(-1, 2),
            intercept=np.array(model.intercept),
            stop_words=np.array(sorted(model.stop_words), dtype=str),
            vectors=vectors,
        )
        os.replace(partial, path)
    except OSError:
        return
    # Only the current bank's model is worth keeping, per model: "<family>-<key>.npz" replaces its family's others.
    family = path.name.rsplit("-", 1)[0]
    for other in path.parent.glob(f"{family}-*.npz"):
        if other != path and not other.name.endswith(".tmp.npz"):
            other.unlink(missing_ok=True)


def load(path: Path) -> tuple[WordModel, np.ndarray] | None:
    """The model and vectors saved under `path`, or None when there are none (or they cannot be read)."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            if int(stored["format"]) != FORMAT:
                return None
            numbers = stored["numbers"].tolist()
            terms = {name: (idf, weight) for name, (idf, weight) in zip(stored["terms"].tolist(), numbers, strict=True)}
            stop_words = frozenset(stored["stop_words"].tolist())
            return WordModel(terms, float(stored["intercept"]), stop_words), stored["vectors"]
    except UNREADABLE:
        return None
