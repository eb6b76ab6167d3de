"""Re-indexing: corpus files -> checked entries -> embeddings (cached) -> a new current build.

A content team re-indexes every week, usually after a few edits, so a build
embeds only texts it has not embedded before: vectors are cached by (model id,
text hash) in the index folder's `cache/` (`qa.embedcache`), and a one-word
change re-embeds that entry's few texts, not the corpus. The report says what
changed against the build served before, so a maintainer sees that an edit
landed, and nothing else moved.

Parsing and checking come first and the build becomes current only once
complete, so any failure leaves the previous build serving. Whether the index
folder can be written is checked before the model embeds anything, and a full
disk, met by the cache or by the build, is the same one line (`write_error`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.builds import current_build_dir
from qa.embedcache import CachedEmbedder
from qa.embedder import Embedder
from qa.errors import IndexMismatchError, IndexNotFoundError
from qa.index import (
    DISK_FULL,
    Manifest,
    build_index,
    ensure_writable,
    read_entries,
    save_index,
    write_error,
)
from qa.loaders import CorpusCheck, Problem, check_corpus, fingerprint, raise_for_errors
from qa.query import Preparer, shipped_synonyms
from qa.records import Entry

__all__ = ["BuildReport", "Changes", "ReadCorpus", "build", "compare", "read_corpus"]


@dataclass(frozen=True)
class Changes:
    """Entry ids by what happened to them since the build served before (all "added" for a first build)."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged"
        )


@dataclass(frozen=True)
class BuildReport:
    manifest: Manifest
    folder: Path
    seconds: float
    changes: Changes
    embedded: int
    """Texts the model embedded for this build."""
    cached: int
    """Texts whose vectors came from the cache."""
    warnings: tuple[Problem, ...] = ()
    """What the check found that does not block a build (near-duplicate questions, very long answers)."""


def compare(before: Sequence[Entry], after: Sequence[Entry]) -> Changes:
    """What changed, by entry id: an entry changed when any of its fields did (questions, answer, source...)."""
    old = {entry.id: entry for entry in before}
    new = {entry.id: entry for entry in after}
    return Changes(
        added=tuple(i for i in new if i not in old),
        changed=tuple(i for i in new if i in old and old[i] != new[i]),
        removed=tuple(i for i in old if i not in new),
        unchanged=sum(1 for i in new if i in old and old[i] == new[i]),
    )


def _served_entries(index_dir: Path) -> tuple[Entry, ...]:
    try:
        return read_entries(current_build_dir(index_dir))
    except (IndexNotFoundError, IndexMismatchError, OSError, ValueError):
        return ()  # no build yet, or one this version cannot read: everything counts as added


@dataclass(frozen=True)
class ReadCorpus:
    """The corpus as read and checked, with the fingerprint taken just before."""

    fingerprint: str
    check: CorpusCheck


def read_corpus(corpus: Sequence[Path]) -> ReadCorpus:
    """Fingerprint first: if a file changes while we read, the recorded fingerprint is the stale one
    and the next `qa serve` rebuilds, rather than serving old content marked as current."""
    return ReadCorpus(fingerprint(corpus), check_corpus(corpus))


def build(
    corpus: Sequence[Path], index_dir: Path, embedder: Embedder, *, cache: bool = True, read: ReadCorpus | None = None
) -> BuildReport:
    """Check the whole corpus (or take `read`, already checked), embed what is new, make it the served build."""
    started = time.perf_counter()
    read = read or read_corpus(corpus)
    check = read.check
    raise_for_errors(check.problems)
    entries = list(check.entries)
    changes = compare(_served_entries(index_dir), entries)
    ensure_writable(index_dir)
    model = CachedEmbedder(embedder, index_dir / "cache" / "embeddings") if cache else embedder
    try:
        preparer = Preparer.for_corpus(entries, embedder.vocabulary(), shipped_synonyms())
        index = build_index(entries, model, read.fingerprint, check.examples, preparer)
    except OSError as exc:
        if exc.errno in DISK_FULL:  # the cache's write: the build, written beside it, would not fit either
            raise write_error(index_dir, exc) from exc
        raise
    folder = save_index(index, index_dir)
    texts = index.manifest.rows + index.manifest.examples
    embedded, cached = (model.misses, model.hits) if isinstance(model, CachedEmbedder) else (texts, 0)
    seconds = time.perf_counter() - started
    return BuildReport(index.manifest, folder, seconds, changes, embedded, cached, tuple(check.warnings))
