"""A second opinion for wording no rule anticipated: a classifier trained on reviewed example messages.

Rules reach only as far as their patterns, and parents' words go further ("he feels like a bag
of flour", "the length of two songs on the radio"). A message the rules pass over goes to a
classifier trained, at start-up, on a bank of labelled example messages
(`qa/data/redflag_examples.jsonl`): emergency, urgent and benign ones. Benign examples (negations,
other senses of the words, resolved events) teach it what not to fire on. It fires when the
probability of "alarming" is above `threshold`; the nearest alarming examples (by the retriever's
sentence-embedding model) then give the tier and the rule concepts, so a finding still names its
concepts and their sources.

Why word n-grams and logistic regression, not nearest neighbours alone: when it replaced the
nearest-neighbour vote (a one-off comparison, sets 5-8 each held out), it caught 365 of 400 alarming
messages with 9 false alarms in 240 benign ones, where the vote caught 348 with 12. `bench/safety.py
--sweep` measures the threshold on every set (README: Safety).
Training takes well under a second and is deterministic, so the bank stays the only artefact to review.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from qa.embedder import Embedder

EXAMPLES_FILE = Path(__file__).resolve().parent.parent / "data" / "redflag_examples.jsonl"


@dataclass(frozen=True)
class Example:
    text: str
    tier: str | None
    """"emergency", "urgent", or None for a benign message."""
    concepts: tuple[str, ...]


@dataclass(frozen=True)
class Opinion:
    tier: str
    concepts: tuple[str, ...]
    probability: float


def load_examples(path: Path = EXAMPLES_FILE) -> list[Example]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(row["text"], row["tier"], tuple(row.get("concepts", ()))) for row in rows]


def _vectors(embedder: Embedder, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """Embedding the bank takes seconds at every start; a cache keyed by model and texts makes it instant."""
    if cache_dir is None:
        return embedder.encode(texts)
    key = hashlib.sha256("\0".join([embedder.model_id, *texts]).encode()).hexdigest()[:16]
    path = cache_dir / f"redflag-examples-{key}.npy"
    try:
        cached: np.ndarray = np.load(path)
        return cached
    except (OSError, ValueError):
        vectors = embedder.encode(texts)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp.npy")
        np.save(partial, vectors)
        os.replace(partial, path)
    except OSError:
        pass  # a read-only index folder only costs the start-up time
    return vectors


class SecondOpinion:
    def __init__(
        self,
        embedder: Embedder,
        examples: Sequence[Example],
        prepare: Callable[[str], str],
        threshold: float = 0.7,
        k: int = 3,
        cache_dir: Path | None = None,
    ) -> None:
        self._embedder = embedder
        self._prepare = prepare
        texts = [prepare(example.text) for example in examples]
        alarming = np.array([example.tier is not None for example in examples])
        self._words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit(texts)
        self._classifier = LogisticRegression(C=16, class_weight="balanced", max_iter=5000)
        self._classifier.fit(self._words.transform(texts), alarming)
        # Named by the nearest alarming examples that carry rule concepts (hence sources).
        named = [(text, example) for text, example in zip(texts, examples, strict=True) if example.concepts]
        self._named = [example for _, example in named]
        self._vectors = _vectors(embedder, [text for text, _ in named], cache_dir)
        self.threshold, self.k = threshold, k

    def probability(self, message: str) -> float:
        """How alarming the classifier finds the message, in [0, 1]."""
        return float(self._classifier.predict_proba(self._words.transform([self._prepare(message)]))[0, 1])

    def opinion(self, message: str) -> Opinion | None:
        """The tier and concepts of the nearest alarming examples, or None when the message is not alarming."""
        probability = self.probability(message)
        if probability <= self.threshold:
            return None
        similarities = self._vectors @ self._embedder.encode([self._prepare(message)])[0]
        neighbours = [self._named[i] for i in np.argsort(-similarities)[: self.k]]
        tier = "emergency" if any(n.tier == "emergency" for n in neighbours) else "urgent"
        concepts = tuple(dict.fromkeys(c for n in neighbours if n.tier == tier for c in n.concepts))
        return Opinion(tier=tier, concepts=concepts, probability=probability)
