"""A second opinion for wording no rule anticipated: a classifier trained on reviewed example messages.

Rules reach only as far as their patterns, and parents' words go further ("he feels like a bag
of flour", "the length of two songs on the radio"). A message the rules pass over goes to a
classifier trained on a bank of labelled example messages
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
Training is deterministic, so the bank stays the only artefact to review; the fitted numbers are kept
beside the bank's vectors (`word_model`), so only the first start after a change fits.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.embedder import Embedder
from qa.safety import word_model
from qa.safety.word_model import WordModel

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


def _model_tag(model_id: str) -> str:
    """A model's part of a cache file's name (a model id may hold slashes)."""
    return hashlib.sha256(model_id.encode()).hexdigest()[:12]


def _vectors(embedder: Embedder, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """Embedding the bank takes seconds at every start; vectors are kept per (model, text), in memory and
    in `cache_dir`, so a restart or a bank with one set left out embeds only what is new."""
    path = None
    if cache_dir is not None:
        path = cache_dir / f"redflag-vectors-{_model_tag(embedder.model_id)}.npz"
        if not any((embedder.model_id, text) in _MEMO for text in texts[:1]):
            try:
                with np.load(path) as stored:
                    for key, vector in zip(stored["texts"], stored["vectors"], strict=True):
                        _MEMO[(embedder.model_id, str(key))] = vector
            except word_model.UNREADABLE:
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
        partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")  # two workers may start at once
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
        prepared_by: str | None = None,
    ) -> None:
        """`prepared_by` fingerprints `prepare` (its code and word lists): with it and `cache_dir`, the
        fitted word model is kept on disk (`word_model`), so a later start prepares and fits nothing."""
        if features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, not {features!r}")
        self._embedder = embedder
        self._prepare = prepare
        self._kinds = features.split("+")
        self._reads_vectors = "vectors" in self._kinds
        # Named by the nearest alarming examples that carry rule concepts (hence sources).
        self._named = [example for example in examples if example.concepts]
        self.threshold, self.k = threshold, k
        self.word_evidence = WORD_EVIDENCE
        self._mixed: _Mixed | None = None
        self._words: WordModel | None = None
        if self._kinds == ["words"]:
            self._words, self._named_vectors = self._fit_words(examples, cache_dir, prepared_by)
        else:
            self._mixed = _Mixed(self._kinds, embedder, examples, prepare, cache_dir)
            self._words, self._named_vectors = self._mixed.words, self._mixed.named_vectors

    def _fit_words(
        self, examples: Sequence[Example], cache_dir: Path | None, prepared_by: str | None
    ) -> tuple[WordModel, np.ndarray]:
        path = None
        if cache_dir is not None and prepared_by is not None:
            family = f"redflag-words-{_model_tag(self._embedder.model_id)}"  # each backend keeps its own
            path = cache_dir / f"{family}-{_key(examples, self._embedder.model_id, prepared_by)}.npz"
            kept = word_model.load(path)
            if kept is not None and len(kept[1]) == len(self._named):
                return kept
        texts = [self._prepare(example.text) for example in examples]
        model = word_model.fit(texts, [example.tier is not None for example in examples])
        vectors = _vectors(self._embedder, [t for t, e in zip(texts, examples, strict=True) if e.concepts], cache_dir)
        if path is not None:
            word_model.save(path, model, vectors)
        return model, vectors

    def _vector(self, text: str) -> np.ndarray:
        vector: np.ndarray = self._embedder.encode([text])[0]
        return vector

    def _probability(self, text: str, vector: np.ndarray | None) -> float:
        if self._mixed is None:
            assert self._words is not None
            return self._words.probability(text)
        return self._mixed.probability(text, vector)

    def probability(self, message: str) -> float:
        """How alarming the classifier finds the message, in [0, 1]."""
        text = self._prepare(message)
        return self._probability(text, self._vector(text) if self._reads_vectors else None)

    def opinion(
        self, message: str, terse: bool = False, threshold: float | None = None, vector: np.ndarray | None = None
    ) -> Opinion | None:
        """The tier and concepts of the nearest alarming examples, or None when the message is not alarming.

        A terse message ("who wrote this", "lips dusky") gives the classifier little to go on, and short
        examples in the bank are mostly emergencies, so it must also hold a word alarming on its own.
        `vector` is the message's embedding when the caller already has it (the retriever's): naming the
        concepts then costs no model call of its own."""
        text = self._prepare(message)
        if terse and self._words is not None and self._words.evidence(text) < self.word_evidence:
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


def _key(examples: Sequence[Example], model_id: str, prepared_by: str) -> str:
    """Everything a fitted word model depends on: the bank, how it was prepared, the fit, the library."""
    bank = [(example.text, example.tier, example.concepts) for example in examples]
    parts = [word_model.fitter(), model_id, prepared_by, bank]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


class _Mixed:
    """The other feature options (characters, vectors, mixes), for `bench/safety.py --compare`: fitted
    at every construction, through scikit-learn, never cached."""

    def __init__(
        self,
        kinds: list[str],
        embedder: Embedder,
        examples: Sequence[Example],
        prepare: Callable[[str], str],
        cache_dir: Path | None,
    ) -> None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

        texts = [prepare(example.text) for example in examples]
        alarming = np.array([example.tier is not None for example in examples])
        named = [i for i, example in enumerate(examples) if example.concepts]
        self._reads_vectors = "vectors" in kinds
        # Every example's vector when the classifier reads vectors; otherwise only the named ones', to name concepts.
        embedded = list(range(len(texts))) if self._reads_vectors else named
        found = _vectors(embedder, [texts[i] for i in embedded], cache_dir)
        vectors = found if self._reads_vectors else np.zeros((len(texts), 0), dtype=np.float32)
        self._text_features: list[Any] = []
        # The shipped fit's settings (`word_model`), so a comparison measures only what the classifier reads.
        if "words" in kinds:
            self._text_features.append(word_model.word_features().fit(texts))
        if "chars" in kinds:
            chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
            self._text_features.append(chars.fit(texts))
        self._classifier = word_model.classifier()
        self._classifier.fit(self._features(texts, vectors), alarming)
        self.named_vectors = found[named] if self._reads_vectors else found
        # How alarming each word is on its own (its weight in the classifier): a terse message needs one.
        self.words: WordModel | None = None
        if "words" in kinds:
            vocabulary = self._text_features[0].vocabulary_
            weights = self._classifier.coef_[0][: len(vocabulary)]
            idf = self._text_features[0].idf_
            terms = {term: (float(idf[i]), float(weights[i])) for term, i in vocabulary.items()}
            # The word block's weights alone, for the terse-message evidence: not this mix's probability.
            self.words = WordModel(terms, float("nan"), frozenset(ENGLISH_STOP_WORDS))

    def _features(self, texts: list[str], vectors: np.ndarray) -> Any:
        from scipy import sparse

        blocks = [features.transform(texts) for features in self._text_features]
        if self._reads_vectors:
            blocks.append(sparse.csr_matrix(vectors))
        return sparse.hstack(blocks, format="csr")

    def probability(self, text: str, vector: np.ndarray | None) -> float:
        vectors = vector[None, :] if vector is not None else np.zeros((1, 0), dtype=np.float32)
        return float(self._classifier.predict_proba(self._features([text], vectors))[0, 1])
