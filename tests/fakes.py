"""A deterministic stand-in embedder, only for unit tests of pure logic."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class HashingEmbedder:
    """Bag of hashed words: texts sharing words get similar vectors."""

    def __init__(self, dimension: int = 64, model_id: str = "test/hashing") -> None:
        self.dimension = dimension
        self.model_id = model_id

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.md5(word.strip("?.,!").encode()).hexdigest(), 16) % self.dimension] += 1
        out += 1e-6
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def vocabulary(self) -> frozenset[str]:
        return frozenset()
