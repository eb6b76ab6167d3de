"""An embedder that remembers: vectors cached on disk by (model id, text hash).

Re-indexing after a one-word change, or benchmarking the same 16k-entry corpus
again, should embed only the texts that are new. `CachedEmbedder` wraps any
`Embedder` and satisfies the same protocol, so the index builder and the bench
use it without knowing. Each batch of new vectors is written as one more shard
file (written to a temporary name, then renamed), so a crash mid-write loses at
most that batch and never corrupts what was cached before; the half-written
temporary it leaves is removed by a later run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.embedder import Embedder
from qa.index import DISK_FULL

_KEY_BYTES = 16
ABANDONED_SECONDS = 3600
"""A temporary shard this old was left by a process that died writing it (a write takes seconds)."""


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=_KEY_BYTES).digest()


class CachedEmbedder:
    """`Embedder` with an on-disk cache; `hits` and `misses` count texts since creation."""

    def __init__(self, embedder: Embedder, folder: Path) -> None:
        self._inner = embedder
        self.model_id = embedder.model_id
        self.dimension = embedder.dimension
        self._folder = folder / re.sub(r"[^A-Za-z0-9._-]+", "_", embedder.model_id)
        self._rows: dict[bytes, int] = {}
        self._blocks: list[np.ndarray] = []
        self._size = 0
        self._matrix: np.ndarray | None = None
        self.hits = 0
        self.misses = 0
        self._load()

    def vocabulary(self) -> frozenset[str]:
        return self._inner.vocabulary()

    def _load(self) -> None:
        if not self._folder.is_dir():
            return
        for temporary in self._folder.glob(".shard-*.npz"):
            self._remove_if_abandoned(temporary)
        for shard in sorted(self._folder.glob("shard-*.npz")):
            try:
                with np.load(shard) as data:
                    keys = [row.tobytes() for row in data["keys"]]
                    vectors = data["vectors"]
            except Exception:  # a truncated zip, an empty file, wrong keys: all mean "damaged"
                continue  # a damaged shard only costs re-embedding its texts
            if vectors.ndim != 2 or vectors.shape[1] != self.dimension or len(keys) != len(vectors):
                continue
            self._add(keys, vectors.astype(np.float32))

    @staticmethod
    def _remove_if_abandoned(temporary: Path) -> None:
        """Half a shard from a writer killed mid-write; one still being written is younger than an hour."""
        with contextlib.suppress(OSError):
            if time.time() - temporary.stat().st_mtime > ABANDONED_SECONDS:
                temporary.unlink()

    def _add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        for offset, key in enumerate(keys):
            self._rows.setdefault(bytes(key), self._size + offset)
        self._blocks.append(vectors)
        self._size += len(vectors)
        self._matrix = None

    def _all(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = np.concatenate(self._blocks) if self._blocks else np.zeros((0, self.dimension), np.float32)
            self._blocks = [self._matrix]
        return self._matrix

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(text) for text in texts]
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._rows and key not in missing:
                missing[key] = text
        self.misses += sum(1 for key in keys if key in missing)
        self.hits += len(keys) - sum(1 for key in keys if key in missing)
        if missing:
            vectors = self._inner.encode(list(missing.values()))
            self._save(list(missing), vectors)
            self._add(list(missing), vectors)
        matrix = self._all()
        return np.ascontiguousarray(matrix[[self._rows[key] for key in keys]])

    def _save(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """A cache that cannot be written only makes the next run slower, unless the disk is full: that is
        raised (`qa.index.DISK_FULL`), as whatever is written next to the cache would not fit either."""
        temporary = None
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".shard-", suffix=".npz", dir=self._folder)
            with os.fdopen(handle, "wb") as out:
                np.savez(out, keys=np.frombuffer(b"".join(keys), np.uint8).reshape(-1, _KEY_BYTES), vectors=vectors)
            # Time first, so shards load oldest first; the pid keeps two writers apart.
            os.replace(temporary, self._folder / f"shard-{time.time_ns()}-{os.getpid()}.npz")
        except OSError as exc:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)  # half a shard, on a disk that may be full
            if exc.errno in DISK_FULL:
                raise
