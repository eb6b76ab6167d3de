"""A second opinion for wording no rule anticipated: a classifier trained on reviewed example messages.

Rules reach only as far as their patterns, and parents' words go further ("he feels like a bag
of flour", "the length of two songs on the radio"). A message the rules pass over goes to a
classifier trained, at start-up, on a bank of labelled example messages
(`qa/data/redflag_examples.jsonl`, rebuilt from `eval/safety/` by `scripts/redflag_examples.py`, each
row naming the set it came from): emergency, urgent and benign ones. Benign examples (negations,
other senses of the words, resolved events) teach it what not to fire on. It fires when the
probability of "alarming" is above `threshold`; the nearest alarming examples (by the retriever's
sentence-embedding model) then give the tier and the rule concepts, so a finding still names its
concepts and their sources.

Why word 1-2-grams and logistic regression: measured side by side with every held-out set left out of
training in turn (`bench/safety.py --compare`, 16 sets, 1,679 alarming and 1,084 benign messages),
character n-grams, the embedding model's sentence vectors and their mixes caught no more emergencies
with the rules and raised as many or more false alarms (vectors alone: 82.6% of alarming messages
alone and 42 false alarms, against 94.8% and 20 for words), while costing an embedding per message.
Training takes well under a second and is deterministic, so the bank stays the only artefact to review.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from qa.embedder import Embedder

EXAMPLES_FILE = Path(__file__).resolve().parent.parent / "data" / "redflag_examples.jsonl"


@dataclass(frozen=True)
class Example:
    text: str
    tier: str | None
    """"emergency", "urgent", or None for a benign message."""
    concepts: tuple[str, ...]
    origin: str = ""
    """The phrasing set it comes from (`eval/safety/sets.toml`), so a measurement can leave a set out."""


@dataclass(frozen=True)
class Opinion:
    tier: str
    concepts: tuple[str, ...]
    probability: float


def load_examples(path: Path = EXAMPLES_FILE) -> list[Example]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(row["text"], row["tier"], tuple(row.get("concepts", ())), row.get("origin", "")) for row in rows]


_MEMO: dict[tuple[str, str], np.ndarray] = {}


def _vectors(embedder: Embedder, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """Embedding the bank takes seconds at every start; vectors are kept per (model, text), in memory and
    in `cache_dir`, so a restart or a bank with one set left out embeds only what is new."""
    path = None
    if cache_dir is not None:
        path = cache_dir / f"redflag-vectors-{hashlib.sha256(embedder.model_id.encode()).hexdigest()[:12]}.npz"
        if not any((embedder.model_id, text) in _MEMO for text in texts[:1]):
            try:
                with np.load(path) as stored:
                    for key, vector in zip(stored["texts"], stored["vectors"], strict=True):
                        _MEMO[(embedder.model_id, str(key))] = vector
            except (OSError, ValueError, KeyError):
                pass
    missing = list(dict.fromkeys(text for text in texts if (embedder.model_id, text) not in _MEMO))
    if missing:
        for text, vector in zip(missing, embedder.encode(missing), strict=True):
            _MEMO[(embedder.model_id, text)] = vector
        if path is not None:
            _store(path, embedder.model_id)
    dimension = next(iter(_MEMO.values())).shape[0] if _MEMO else 0
    if not texts:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.stack([_MEMO[(embedder.model_id, text)] for text in texts])


def forget_vectors() -> None:
    """Empty the in-memory vector cache, as a new process starts (the files in `cache_dir` stay)."""
    _MEMO.clear()


def _store(path: Path, model_id: str) -> None:
    known = [(text, vector) for (model, text), vector in _MEMO.items() if model == model_id]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp.npz")
        np.savez(partial, texts=np.array([t for t, _ in known]), vectors=np.stack([v for _, v in known]))
        os.replace(partial, path)
    except OSError:
        pass  # a read-only index folder only costs the start-up time


FEATURES = ("words", "chars", "vectors", "words+vectors", "words+chars+vectors")
"""What the classifier reads: word 1-2-grams, character 3-5-grams (typos), the embedding model's
sentence vector, or a mix. `bench/safety.py --compare` measures each with every set left out."""
DEFAULT_FEATURES = "words"
WORD_EVIDENCE = 1.5
"""Weight a terse message's most alarming word must reach (`bench/safety.py --compare` sweeps it)."""


class SecondOpinion:
    def __init__(
        self,
        embedder: Embedder,
        examples: Sequence[Example],
        prepare: Callable[[str], str],
        threshold: float = 0.7,
        k: int = 3,
        cache_dir: Path | None = None,
        features: str = "words",
    ) -> None:
        if features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, not {features!r}")
        self._embedder = embedder
        self._prepare = prepare
        self._kinds = features.split("+")
        texts = [prepare(example.text) for example in examples]
        alarming = np.array([example.tier is not None for example in examples])
        named = [i for i, example in enumerate(examples) if example.concepts]
        # Every example's vector when the classifier reads vectors; otherwise only the named ones', to name concepts.
        self._reads_vectors = "vectors" in self._kinds
        embedded = list(range(len(texts))) if self._reads_vectors else named
        found = _vectors(embedder, [texts[i] for i in embedded], cache_dir)
        vectors = found if self._reads_vectors else np.zeros((len(texts), 0), dtype=np.float32)
        self._text_features: list[TfidfVectorizer] = []
        if "words" in self._kinds:
            self._text_features.append(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit(texts))
        if "chars" in self._kinds:
            chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
            self._text_features.append(chars.fit(texts))
        self._classifier = LogisticRegression(C=16, class_weight="balanced", max_iter=5000)
        self._classifier.fit(self._features(texts, vectors), alarming)
        # How alarming each word is on its own (its weight in the classifier): a terse message needs one.
        self._word_weight: dict[str, float] = {}
        if "words" in self._kinds:
            weights = self._classifier.coef_[0][: len(self._text_features[0].vocabulary_)]
            self._word_weight = {
                term: float(weights[i]) for term, i in self._text_features[0].vocabulary_.items() if " " not in term
            }
        # Named by the nearest alarming examples that carry rule concepts (hence sources).
        self._named = [examples[i] for i in named]
        self._named_vectors = found[named] if self._reads_vectors else found
        self.threshold, self.k = threshold, k
        self.word_evidence = WORD_EVIDENCE
        self._words_only: tuple[Callable[[str], list[str]], dict[str, tuple[float, float]], float] | None = None
        if self._kinds == ["words"]:
            words = self._text_features[0]
            weights = self._classifier.coef_[0]
            terms = {term: (float(words.idf_[i]), float(weights[i])) for term, i in words.vocabulary_.items()}
            self._words_only = (words.build_analyzer(), terms, float(self._classifier.intercept_[0]))

    def _features(self, texts: list[str], vectors: np.ndarray) -> sparse.csr_matrix:
        blocks = [features.transform(texts) for features in self._text_features]
        if self._reads_vectors:
            blocks.append(sparse.csr_matrix(vectors))
        return sparse.hstack(blocks, format="csr")

    def _vector(self, text: str) -> np.ndarray:
        vector: np.ndarray = self._embedder.encode([text])[0]
        return vector

    def _probability(self, text: str, vector: np.ndarray | None) -> float:
        if self._words_only is not None:
            return self._words_probability(text, *self._words_only)
        vectors = vector[None, :] if vector is not None else np.zeros((1, 0), dtype=np.float32)
        return float(self._classifier.predict_proba(self._features([text], vectors))[0, 1])

    @staticmethod
    def _words_probability(
        text: str, analyse: Callable[[str], list[str]], terms: dict[str, tuple[float, float]], intercept: float
    ) -> float:
        """The classifier's own arithmetic (sublinear tf x idf, l2 norm, logistic) for one text, without
        scikit-learn's per-call input checks, which cost several times the sum itself on every message."""
        counts: dict[str, int] = {}
        for term in analyse(text):
            if term in terms:
                counts[term] = counts.get(term, 0) + 1
        weighted = [((1.0 + math.log(n)) * terms[term][0], terms[term][1]) for term, n in counts.items()]
        norm = math.sqrt(sum(w * w for w, _ in weighted)) or 1.0
        logit = intercept + sum(w * c for w, c in weighted) / norm
        return 1.0 / (1.0 + math.exp(-logit))

    def probability(self, message: str) -> float:
        """How alarming the classifier finds the message, in [0, 1]."""
        text = self._prepare(message)
        return self._probability(text, self._vector(text) if self._reads_vectors else None)

    def _evidence(self, text: str) -> float:
        """The weight of the most alarming known content word (0 when none is known): "not" or "this" weigh
        a lot in long messages but say nothing on their own."""
        words = [word for word in text.split() if word not in ENGLISH_STOP_WORDS]
        return max((self._word_weight.get(word, 0.0) for word in words), default=0.0)

    def opinion(
        self, message: str, terse: bool = False, threshold: float | None = None, vector: np.ndarray | None = None
    ) -> Opinion | None:
        """The tier and concepts of the nearest alarming examples, or None when the message is not alarming.

        A terse message ("who wrote this", "lips dusky") gives the classifier little to go on, and short
        examples in the bank are mostly emergencies, so it must also hold a word alarming on its own.
        `vector` is the message's embedding when the caller already has it (the retriever's): naming the
        concepts then costs no model call of its own."""
        text = self._prepare(message)
        if terse and self._word_weight and self._evidence(text) < self.word_evidence:
            return None
        # Words alone need no embedding to say no; the vector is needed only to name the concepts.
        if self._reads_vectors:
            vector = self._vector(text)
        probability = self._probability(text, vector)
        if probability <= max(self.threshold, threshold or 0.0):
            return None
        similarities = self._named_vectors @ (vector if vector is not None else self._vector(text))
        neighbours = [self._named[i] for i in np.argsort(-similarities)[: self.k]]
        tier = "emergency" if any(n.tier == "emergency" for n in neighbours) else "urgent"
        concepts = tuple(dict.fromkeys(c for n in neighbours if n.tier == tier for c in n.concepts))
        return Opinion(tier=tier, concepts=concepts, probability=probability)
