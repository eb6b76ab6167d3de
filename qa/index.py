"""The versioned index folder: FAISS vectors + entries + manifest.

Layout under the index folder:

    CURRENT                  name of the build being served (replaced atomically)
    builds/<version>/        one complete build
        manifest.json        format version, model id, dimension, corpus fingerprint, counts, time
        entries.jsonl        the entries, verbatim
        rows.npy             for each vector: entry number and row kind (question, answer, joint)
        vectors.faiss        inner-product FAISS index of unit vectors: exact, or HNSW for a large corpus
        examples.jsonl       labelled example questions (`qa.loaders.examples`), if the corpus has any
        examples.npy         their vectors, embedded from the text as the retriever prepares a message

A build is written to a temporary folder and renamed into place, then
`CURRENT` is swapped with `os.replace`, so a reader sees the old build or the
new one, never half of one, and a failed build leaves the old one serving.
Every file is written by Python (FAISS and NumPy serialise to bytes first), so
a full disk is an `OSError` with its errno, said in one line (`write_error`).
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qa import filelock, vectorindex
from qa.builds import REBUILD, current_build_dir, point_at, pointed_at, prune, write_synced
from qa.embedder import Embedder
from qa.errors import IndexMismatchError, IndexNotFoundError, IndexWriteError
from qa.records import Entry, Example

FORMAT_VERSION = 2
_REPAIR = "rebuild it with `qa index`, or serve the previous build again with `qa index --rollback`"
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""Write errors that mean "no room": a full disk, a quota, a file size limit."""


class RowKind(IntEnum):
    QUESTION = 0
    ANSWER = 1
    JOINT = 2
    """The entry's questions and answer as one text: the strongest single dense signal on unseen questions."""


def _flat() -> dict[str, str | int]:
    return {"kind": "flat"}


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True)

    format_version: int
    version: str
    model_id: str
    dimension: int
    corpus_fingerprint: str
    entries: int
    rows: int
    built_at: str
    build_seconds: float
    vector_index: dict[str, str | int] = Field(default_factory=_flat)
    """The FAISS index type and its parameters (`qa.vectorindex`); builds made before it was recorded are flat."""
    examples: int = 0
    """Labelled example questions kept with the build (none in builds made before they were)."""


@dataclass(frozen=True)
class IndexBuild:
    manifest: Manifest
    entries: tuple[Entry, ...]
    vectors: faiss.Index
    row_entry: np.ndarray
    """Entry number of each vector."""
    row_kind: np.ndarray
    """`RowKind` of each vector."""
    row_text: tuple[str, ...]
    """Text each vector was made from (the matched question, for citations)."""
    examples: tuple[Example, ...] = ()
    example_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    """(examples, dimension): one unit vector per example question."""


def row_texts(entry: Entry) -> list[tuple[RowKind, str]]:
    """What gets embedded: every question of the entry, its answer text, and both as one text."""
    rows = [(RowKind.QUESTION, q) for q in entry.questions]
    rows.append((RowKind.ANSWER, entry.answer))
    rows.append((RowKind.JOINT, joint_text(entry)))
    return rows


def joint_text(entry: Entry) -> str:
    return "\n".join((*entry.questions, entry.answer))


def build_index(
    entries: Sequence[Entry],
    embedder: Embedder,
    corpus_fingerprint: str,
    examples: Sequence[Example] = (),
    prepare: Callable[[str], str] = str,
) -> IndexBuild:
    """Embed the entries' rows, and the examples as `prepare` (the retriever's clean-up) leaves them."""
    started = time.perf_counter()
    kinds: list[int] = []
    owners: list[int] = []
    texts: list[str] = []
    for number, entry in enumerate(entries):
        for kind, text in row_texts(entry):
            owners.append(number)
            kinds.append(int(kind))
            texts.append(text)
    matrix = embedder.encode([*texts, *(prepare(example.question) for example in examples)])
    matrix, example_vectors = matrix[: len(texts)], matrix[len(texts) :]
    vectors = vectorindex.create(vectorindex.choose(len(texts)), matrix.reshape(-1, embedder.dimension))
    now = datetime.now(UTC)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        version=f"{now:%Y%m%dT%H%M%SZ}-{corpus_fingerprint[:8]}",
        model_id=embedder.model_id,
        dimension=embedder.dimension,
        corpus_fingerprint=corpus_fingerprint,
        entries=len(entries),
        rows=len(texts),
        built_at=now.isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 3),
        vector_index=vectorindex.describe(vectors),
        examples=len(examples),
    )
    return IndexBuild(
        manifest=manifest,
        entries=tuple(entries),
        vectors=vectors,
        row_entry=np.asarray(owners, dtype=np.int32),
        row_kind=np.asarray(kinds, dtype=np.int8),
        row_text=tuple(texts),
        examples=tuple(examples),
        example_vectors=np.asarray(example_vectors, dtype=np.float32).reshape(len(examples), embedder.dimension),
    )


def ensure_writable(index_dir: Path) -> None:
    """Fail before the model embeds anything (minutes, for a large corpus) if no build could be written."""
    try:
        for folder in (index_dir, index_dir / "builds"):
            folder.mkdir(parents=True, exist_ok=True)
            handle, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
            os.close(handle)
            os.unlink(probe)
    except OSError as exc:
        raise write_error(index_dir, exc) from exc


def write_error(index_dir: Path, exc: OSError) -> IndexWriteError:
    """One line saying what to do, and that nothing served was touched."""
    if exc.errno in DISK_FULL:
        return IndexWriteError(
            f"no space left to write the build in {index_dir} ({exc.strerror or exc}); "
            f"free disk space and run `qa index` again{_still_served(index_dir)}"
        )
    where = f": {exc.filename}" if exc.filename else ""
    return IndexWriteError(
        f"cannot write the index in {index_dir} ({exc.strerror or exc}{where}); make the folder writable "
        f"or choose another with --index-dir or QA_INDEX_DIR{_still_served(index_dir)}"
    )


def _still_served(index_dir: Path) -> str:
    try:
        return f"; the previous build {current_build_dir(index_dir).name} is still served"
    except (IndexNotFoundError, IndexMismatchError, OSError):
        return ""


def save_index(build: IndexBuild, index_dir: Path) -> Path:
    """Write the build next to the served one, then make it current in one rename."""
    builds = index_dir / "builds"
    try:
        builds.mkdir(parents=True, exist_ok=True)
        with filelock.exclusive(index_dir):  # one writer at a time; readers never wait
            return _save_locked(build, index_dir, builds)
    except OSError as exc:
        raise write_error(index_dir, exc) from exc


def _save_locked(build: IndexBuild, index_dir: Path, builds: Path) -> Path:
    for leftover in builds.glob(".staging-*"):  # from a writer that died: only a lock holder writes here
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=builds))
    try:
        write_synced(staging / "manifest.json", (build.manifest.model_dump_json(indent=2) + "\n").encode())
        write_synced(staging / "entries.jsonl", "".join(e.model_dump_json() + "\n" for e in build.entries).encode())
        rows = io.BytesIO()
        np.save(rows, np.stack([build.row_entry, build.row_kind.astype(np.int32)]))
        write_synced(staging / "rows.npy", rows.getbuffer())
        write_synced(staging / "vectors.faiss", faiss.serialize_index(build.vectors).data)
        if build.examples:
            examples = "".join(e.model_dump_json() + "\n" for e in build.examples)
            write_synced(staging / "examples.jsonl", examples.encode())
            vectors = io.BytesIO()
            np.save(vectors, build.example_vectors)
            write_synced(staging / "examples.npy", vectors.getbuffer())
        final = builds / build.manifest.version
        suffix = 1
        while final.exists():
            suffix += 1
            final = builds / f"{build.manifest.version}.{suffix}"
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        point_at(index_dir, final.name)
    except BaseException:
        if pointed_at(index_dir) != final.name:  # nothing points at it: it only takes space, on a disk maybe full
            shutil.rmtree(final, ignore_errors=True)
        raise
    prune(builds, keep=final.name)
    return final


@dataclass(frozen=True)
class KeptBuild:
    name: str
    """Folder under builds/ (the version, with a suffix if two builds shared a second)."""
    manifest: Manifest | None
    """None when the folder's manifest is unreadable or of another format."""
    current: bool


def list_builds(index_dir: Path) -> list[KeptBuild]:
    """The kept builds, newest first (by when each was written: two builds can share a second)."""
    builds = index_dir / "builds"
    if not builds.is_dir():
        return []
    try:
        current = current_build_dir(index_dir).name
    except (IndexNotFoundError, IndexMismatchError):
        current = ""
    kept = []
    folders = [p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")]
    for folder in sorted(folders, key=_written, reverse=True):
        try:
            manifest: Manifest | None = _manifest(folder, index_dir)
        except IndexMismatchError:
            manifest = None
        kept.append(KeptBuild(folder.name, manifest, folder.name == current))
    return kept


def _written(folder: Path) -> tuple[int, str]:
    try:
        return (folder / "manifest.json").stat().st_mtime_ns, folder.name
    except OSError:
        return 0, folder.name


def rollback(index_dir: Path) -> KeptBuild:
    """Serve the newest usable build older than the current one again; the current one is kept."""
    with filelock.exclusive(index_dir):
        kept = list_builds(index_dir)
        names = [build.name for build in kept]
        current = next((build for build in kept if build.current), None)
        if current is None:
            raise IndexNotFoundError(f"no current build in {index_dir} to roll back from; {REBUILD}")
        older = [b for b in kept[names.index(current.name) + 1 :] if b.manifest is not None]
        if not older:
            raise IndexNotFoundError(f"no build older than {current.name} is kept in {index_dir}")
        try:
            point_at(index_dir, older[0].name)
        except OSError as exc:
            raise write_error(index_dir, exc) from exc
        return KeptBuild(older[0].name, older[0].manifest, True)


def read_entries(folder: Path) -> tuple[Entry, ...]:
    with (folder / "entries.jsonl").open(encoding="utf-8") as lines:
        return tuple(Entry.model_validate_json(line) for line in lines if line.strip())


def read_manifest(index_dir: Path) -> Manifest:
    return _manifest(current_build_dir(index_dir), index_dir)


def _broken(folder: Path, index_dir: Path, problem: str) -> IndexMismatchError:
    """Which build, what is wrong with it, and the two ways out."""
    return IndexMismatchError(f"the index build {folder.name} in {index_dir} {problem}; {_REPAIR}")


def _manifest(folder: Path, index_dir: Path) -> Manifest:
    try:
        raw = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _broken(folder, index_dir, "is damaged: its manifest (manifest.json) is unreadable") from exc
    if not isinstance(raw, dict):
        raise _broken(folder, index_dir, "is damaged: its manifest (manifest.json) is invalid")
    if raw.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index in {index_dir} has format version {raw.get('format_version')!r}, "
            f"this version of qa reads {FORMAT_VERSION}; {REBUILD}"
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise _broken(folder, index_dir, "is damaged: its manifest (manifest.json) is invalid") from exc


def _read_build(folder: Path, index_dir: Path) -> tuple[tuple[Entry, ...], np.ndarray, faiss.Index]:
    """Each file on its own, so the message names the one that is damaged (a truncated copy, a full disk)."""
    damaged = "is damaged: {} is truncated or corrupt"
    try:
        entries = read_entries(folder)
    except (OSError, ValueError) as exc:  # a cut-off line is a pydantic ValidationError, a ValueError
        raise _broken(folder, index_dir, damaged.format("entries.jsonl")) from exc
    try:
        rows = np.load(folder / "rows.npy")
    except (OSError, ValueError, EOFError, MemoryError) as exc:  # a corrupt header can ask for any size
        raise _broken(folder, index_dir, damaged.format("rows.npy")) from exc
    try:
        vectors = faiss.read_index(str(folder / "vectors.faiss"))
    except (RuntimeError, MemoryError) as exc:  # FAISS's C++ errors (bad_alloc too) run to several lines
        raise _broken(folder, index_dir, damaged.format("vectors.faiss")) from exc
    return entries, rows, vectors


def load_index(index_dir: Path, embedder: Embedder) -> IndexBuild:
    """Load the current build, refusing one made with another model, or damaged.

    A build can be pruned while it is read, when writers make newer ones meanwhile: then the build now
    current is read instead (a build found damaged where it still lies is an error)."""
    for _ in range(2):
        folder = current_build_dir(index_dir)  # read once per attempt: a swap meanwhile cannot mix two builds
        try:
            return _load_build(folder, index_dir, embedder)
        except IndexMismatchError:
            if folder.exists() and current_build_dir(index_dir) == folder:
                raise
    return _load_build(current_build_dir(index_dir), index_dir, embedder)


def _load_build(folder: Path, index_dir: Path, embedder: Embedder) -> IndexBuild:
    manifest = _manifest(folder, index_dir)
    if manifest.model_id != embedder.model_id or manifest.dimension != embedder.dimension:
        raise IndexMismatchError(
            f"the index in {index_dir} was built with model {manifest.model_id!r} "
            f"({manifest.dimension} dimensions) but the current model is {embedder.model_id!r} "
            f"({embedder.dimension}); {REBUILD}"
        )
    entries, rows, vectors = _read_build(folder, index_dir)
    # Rows are laid out by `row_texts`, so their texts (and owners) are derived rather than stored twice.
    layout = [(number, int(kind), text) for number, entry in enumerate(entries) for kind, text in row_texts(entry)]
    owners = np.asarray([number for number, _, _ in layout], dtype=np.int32)
    kinds = np.asarray([kind for _, kind, _ in layout], dtype=np.int8)
    if len(entries) != manifest.entries or len(layout) != manifest.rows:
        found = f"entries.jsonl holds {len(entries)} of the {manifest.entries} entries its manifest lists"
        raise _broken(folder, index_dir, f"is damaged: {found}")
    if rows.shape != (2, len(layout)) or not (np.array_equal(rows[0], owners) and np.array_equal(rows[1], kinds)):
        raise _broken(folder, index_dir, "is inconsistent: rows.npy does not match entries.jsonl")
    if vectors.ntotal != len(layout) or vectors.d != manifest.dimension:
        found = f"vectors.faiss holds {vectors.ntotal} vectors of {vectors.d} dimensions, not {len(layout)} of"
        raise _broken(folder, index_dir, f"is inconsistent: {found} {manifest.dimension}")
    texts = tuple(text for _, _, text in layout)
    examples, example_vectors = _read_examples(folder, index_dir, manifest)
    return IndexBuild(manifest, entries, vectors, owners, kinds, texts, examples, example_vectors)


def _read_examples(folder: Path, index_dir: Path, manifest: Manifest) -> tuple[tuple[Example, ...], np.ndarray]:
    if not manifest.examples:
        return (), np.zeros((0, manifest.dimension), dtype=np.float32)
    damaged = "is damaged: {} is missing, truncated or corrupt"
    try:
        with (folder / "examples.jsonl").open(encoding="utf-8") as lines:
            examples = tuple(Example.model_validate_json(line) for line in lines if line.strip())
    except (OSError, ValueError) as exc:
        raise _broken(folder, index_dir, damaged.format("examples.jsonl")) from exc
    try:
        vectors = np.load(folder / "examples.npy")
    except (OSError, ValueError, EOFError, MemoryError) as exc:
        raise _broken(folder, index_dir, damaged.format("examples.npy")) from exc
    if len(examples) != manifest.examples or vectors.shape != (manifest.examples, manifest.dimension):
        raise _broken(folder, index_dir, "is inconsistent: examples.npy, examples.jsonl and the manifest disagree")
    return examples, np.asarray(vectors, dtype=np.float32)
