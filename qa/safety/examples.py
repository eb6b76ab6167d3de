"""A second opinion for wording no rule anticipated: the nearest reviewed example messages.

Rules reach only as far as their patterns, and parents' words go further ("he feels like a bag
of flour", "the length of two songs on the radio"). A message the rules pass over is compared, by
the same sentence-embedding model the retriever uses, with a bank of labelled example messages
(`qa/data/redflag_examples.jsonl`): emergency, urgent and benign ones, each alarming example tagged
with the rule concepts it belongs to, so a finding still names its concepts and their sources.
Benign examples (negations, other senses of the words, resolved events) pull the other way: it
fires only when the `k` nearest examples are alarming by a clear majority (similarity-weighted,
`ratio` times the benign weight) and close enough (`floor`). The values were chosen by holding
out one phrasing set at a time (README: Safety).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    similarity: float


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


class ExampleMatcher:
    def __init__(
        self,
        embedder: Embedder,
        examples: Sequence[Example],
        prepare: Callable[[str], str],
        k: int = 3,
        ratio: float = 2.0,
        floor: float = 0.55,
        cache_dir: Path | None = None,
    ) -> None:
        self._embedder = embedder
        self._examples = list(examples)
        self._prepare = prepare
        self._alarming = np.array([example.tier is not None for example in self._examples])
        self._vectors = _vectors(embedder, [prepare(example.text) for example in self._examples], cache_dir)
        self.k, self.ratio, self.floor = k, ratio, floor

    def opinion(self, message: str) -> Opinion | None:
        """The alarming neighbours' tier and concepts, or None when the neighbours are not alarming enough."""
        similarities = self._vectors @ self._embedder.encode([self._prepare(message)])[0]
        nearest = np.argsort(-similarities)[: self.k]
        weights = similarities[nearest]
        alarming = self._alarming[nearest]
        if weights[0] < self.floor or weights[alarming].sum() <= self.ratio * weights[~alarming].sum():
            return None
        neighbours = [self._examples[i] for i in nearest[alarming]]
        tier = "emergency" if any(n.tier == "emergency" for n in neighbours) else "urgent"
        concepts = tuple(dict.fromkeys(c for n in neighbours if n.tier == tier for c in n.concepts))
        return Opinion(tier=tier, concepts=concepts, similarity=float(weights[0]))
