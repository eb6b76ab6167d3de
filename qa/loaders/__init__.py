"""Corpus loading: files or folders in, typed `Entry` records out.

One module per format registers its file suffixes in `LOADERS`; a new format
(Markdown, CSV...) is one more module and one more line here. Everything is
parsed before anything is returned, so a malformed file fails the whole load
and nothing is half-indexed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError
from qa.loaders import faq_text, jsonl
from qa.records import Entry

__all__ = ["LOADERS", "CorpusFile", "corpus_files", "fingerprint", "load_corpus"]

Loader = Callable[[str, str], list[Entry]]
"""(text of the file, its name relative to the corpus root) -> entries."""

LOADERS: dict[str, Loader] = {
    ".txt": faq_text.parse,
    ".jsonl": jsonl.parse,
}


@dataclass(frozen=True)
class CorpusFile:
    """A corpus file and the name it is cited by (relative to the folder given)."""

    path: Path
    name: str


def corpus_files(paths: Sequence[Path]) -> list[CorpusFile]:
    """Expand files and folders into the corpus files they hold, in a stable order."""
    if not paths:
        raise CorpusError("no corpus given: pass --corpus FILE_OR_FOLDER")
    found: list[CorpusFile] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = file.relative_to(path)
                if file.suffix.lower() in LOADERS and not any(part.startswith(".") for part in rel.parts):
                    found.append(CorpusFile(file, rel.as_posix()))
        elif path.is_file():
            if path.suffix.lower() not in LOADERS:
                raise CorpusError(
                    f"{path}: unsupported corpus format {path.suffix or '(no suffix)'!r}; "
                    f"supported: {', '.join(sorted(LOADERS))}"
                )
            found.append(CorpusFile(path, path.name))
        else:
            raise CorpusError(f"{path}: no such file or folder")
    if not found:
        raise CorpusError(f"no corpus files ({', '.join(sorted(LOADERS))}) found in: {', '.join(map(str, paths))}")
    return found


def _read(file: CorpusFile) -> str:
    try:
        return file.path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{file.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise CorpusError(f"{file.name}: cannot read ({exc.strerror})") from exc


def load_corpus(paths: Sequence[Path]) -> list[Entry]:
    """Parse every corpus file; entry ids must be unique across the corpus."""
    entries: list[Entry] = []
    seen: dict[str, Entry] = {}
    for file in corpus_files(paths):
        for entry in LOADERS[file.path.suffix.lower()](_read(file), file.name):
            if entry.id in seen:
                first = seen[entry.id]
                raise CorpusError(
                    f"{entry.source}:{entry.lines[0]}: duplicate entry id {entry.id!r} "
                    f"(first at {first.source}:{first.lines[0]}); merge the two entries or give distinct ids"
                )
            seen[entry.id] = entry
            entries.append(entry)
    if not entries:
        raise CorpusError("the corpus holds no entries")
    return entries


def fingerprint(paths: Sequence[Path]) -> str:
    """A hash of the corpus files' names and bytes: it changes when any content changes."""
    digest = hashlib.sha256()
    for file in corpus_files(paths):
        digest.update(file.name.encode() + b"\0" + file.path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
