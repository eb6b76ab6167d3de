"""Corpus loading: files or folders in, typed `Entry` records out.

One module per format registers its file suffixes in `LOADERS`; a new format
is one more module and one more line here. A loader reports every problem it
meets in a file instead of stopping at the first, and `check_corpus` adds the
problems that only show across files, so one run lists everything to fix.
`load_corpus` fails if any of them is an error: nothing is half-indexed.

Nothing here imports the model stack (torch, sentence-transformers, faiss):
a malformed corpus is reported in well under a second, before any model loads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError
from qa.loaders import examples, faq_text, jsonl, markdown, sidecar, table
from qa.loaders.check import FUNCTION_WORDS, LONG_ANSWER_CHARS, check_entries, normalise
from qa.loaders.common import Parsed, Problem, Severity
from qa.records import Entry, Example

__all__ = [
    "FUNCTION_WORDS",
    "LOADERS",
    "LONG_ANSWER_CHARS",
    "MAX_LISTED",
    "CorpusCheck",
    "CorpusFile",
    "Parsed",
    "Problem",
    "Severity",
    "check_corpus",
    "corpus_files",
    "fingerprint",
    "load_corpus",
    "normalise",
    "raise_for_errors",
]

Loader = Callable[[str, str], Parsed]
"""(text of the file, its name relative to the corpus root) -> its entries and problems."""

LOADERS: dict[str, Loader] = {
    ".txt": faq_text.parse,
    ".jsonl": jsonl.parse,
    ".md": markdown.parse,
    ".markdown": markdown.parse,
    ".csv": table.parse_csv,
    ".tsv": table.parse_tsv,
}

MAX_LISTED = 20
"""Errors spelled out in a `CorpusError` message; the rest are counted (all are in its `problems`)."""


@dataclass(frozen=True)
class CorpusFile:
    """A corpus file and the name it is cited by (relative to the folder given)."""

    path: Path
    name: str


@dataclass(frozen=True)
class CorpusCheck:
    """Everything `check_corpus` found: the entries it could read and every problem, in file order."""

    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]
    files: tuple[CorpusFile, ...]
    """The files a loader read."""
    examples: tuple[Example, ...] = ()
    """Labelled example questions (`*.examples.jsonl`) whose entries all exist."""

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == "warning"]


def _problem(source: str, message: str, line: int | None = None) -> Problem:
    return Problem(source=source, line=line, message=message)


GONE = "listed in the corpus folder but gone (a broken link, or removed while indexing); restore it or remove it"


def _gone(path: Path) -> bool:
    """Listed by its folder, yet not there: a link to a removed file, or a file removed as the folder was read."""
    return not path.exists()


def _walk(paths: Sequence[Path]) -> tuple[list[CorpusFile], list[Problem]]:
    """Every file the paths name or hold (hidden ones aside), in a stable order, and the paths that do not exist."""
    if not paths:
        return [], [_problem("", "no corpus given: pass --corpus FILE_OR_FOLDER")]
    found: list[CorpusFile] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() or _gone(p)):
                rel = file.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if _gone(file):  # skipping it would quietly drop its entries from the build
                    problems.append(_problem(rel.as_posix(), GONE))
                else:
                    found.append(CorpusFile(file, rel.as_posix()))
        elif path.is_file():
            found.append(CorpusFile(path, path.name))
        else:
            problems.append(_problem(str(path), "no such file or folder"))
    return found, problems


def _sort(files: list[CorpusFile], problems: list[Problem]) -> list[Problem]:
    """Problems file by file, line by line; those about no file (or a path as given) first."""
    order = {file.name: position for position, file in enumerate(files)}
    return sorted(problems, key=lambda problem: (order.get(problem.source, -1), problem.line or 0))


def _supported(files: list[CorpusFile], paths: Sequence[Path], problems: list[Problem]) -> list[CorpusFile]:
    """The files a loader reads; every other one is an error, not skipped (a stray file is likely a mistake)."""
    supported: list[CorpusFile] = []
    for file in files:
        suffix = file.path.suffix.lower()
        if sidecar.is_sidecar(file.path) or examples.is_examples(file.path.name):
            continue  # read with the file it describes (`_sidecars`), or as examples (`_examples`)
        if suffix in LOADERS:
            supported.append(file)
        else:
            problems.append(
                _problem(
                    file.name if file.path not in paths else str(file.path),
                    f"unsupported corpus format {file.path.suffix or '(no suffix)'!r}; "
                    f"supported: {', '.join(sorted(LOADERS))}",
                )
            )
    if not files and not problems:
        problems.append(
            _problem("", f"no corpus files ({', '.join(sorted(LOADERS))}) found in: {', '.join(map(str, paths))}")
        )
    return supported


def corpus_files(paths: Sequence[Path]) -> list[CorpusFile]:
    """Expand files and folders into the corpus files they hold; `CorpusError` if a path or a file is unusable."""
    files, problems = _walk(paths)
    supported = _supported(files, paths, problems)
    raise_for_errors(_sort(files, problems))
    return supported


def _read(file: CorpusFile, problems: list[Problem]) -> str | None:
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        problems.append(_problem(file.name, f"cannot read ({exc.strerror})"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(_problem(file.name, f"not UTF-8 text ({exc.reason} at byte {exc.start}, line {line})"))
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it: line numbers as editors show


def _sidecars(
    files: list[CorpusFile], supported: list[CorpusFile], problems: list[Problem]
) -> dict[Path, dict[str, str]]:
    """Each corpus file's source metadata, by path; a sidecar that describes no corpus file is an error."""
    owners = {(file.path.parent, file.path.stem): file for file in supported}
    found: dict[Path, dict[str, str]] = {}
    for file in files:
        if not sidecar.is_sidecar(file.path):
            continue
        owner = owners.get((file.path.parent, sidecar.owner_stem(file.path)))
        if owner is None:
            problems.append(_problem(file.name, "source metadata for no corpus file: name it after one, e.g. "
                                     f"faq.txt -> faq{sidecar.SUFFIX}"))
            continue
        fields, found_problems = sidecar.read(file.path, file.name)
        problems.extend(found_problems)
        found[owner.path] = fields
    return found


def _examples(files: list[CorpusFile], problems: list[Problem]) -> list[Example]:
    found: list[Example] = []
    for file in files:
        if examples.is_examples(file.path.name):
            text = _read(file, problems)
            if text is not None:
                parsed, bad = examples.parse(text, file.name)
                found += parsed
                problems += bad
    return found


def check_corpus(paths: Sequence[Path]) -> CorpusCheck:
    """Parse every corpus file and check the whole; it never raises for a problem, it reports them all."""
    files, problems = _walk(paths)
    supported = _supported(files, paths, problems)
    metadata = _sidecars(files, supported, problems)
    entries: list[Entry] = []
    for file in supported:
        text = _read(file, problems)
        if text is not None:
            parsed = LOADERS[file.path.suffix.lower()](text, file.name)
            entries.extend(sidecar.apply(parsed.entries, metadata.get(file.path, {})))
            problems.extend(parsed.problems)
    problems.extend(check_entries(entries))
    if supported and not entries and not any(problem.severity == "error" for problem in problems):
        problems.append(_problem("", "the corpus holds no entries"))
    usable, unknown = examples.known(_examples(files, problems), entries)
    problems.extend(unknown)
    return CorpusCheck(tuple(entries), tuple(_sort(files, problems)), tuple(supported), tuple(usable))


def raise_for_errors(problems: Sequence[Problem]) -> None:
    errors = [problem for problem in problems if problem.severity == "error"]
    if not errors:
        return
    listed = [str(problem) for problem in errors[:MAX_LISTED]]
    if len(errors) > MAX_LISTED:
        listed.append(f"... and {len(errors) - MAX_LISTED} more")
    message = listed[0] if len(errors) == 1 else f"{len(errors)} errors in the corpus:\n" + "\n".join(listed)
    raise CorpusError(message, problems)


def load_corpus(paths: Sequence[Path]) -> list[Entry]:
    """Every entry of the corpus, or a `CorpusError` listing every error (warnings never fail it)."""
    check = check_corpus(paths)
    raise_for_errors(check.problems)
    return list(check.entries)


def fingerprint(paths: Sequence[Path]) -> str:
    """A hash of the corpus files' names and bytes: it changes when any content changes.

    Every file counts, a stray one a loader would refuse too, so adding one is
    seen as a change (and the rebuild it triggers reports it).
    """
    files, problems = _walk(paths)
    raise_for_errors(problems)
    if not files:
        raise CorpusError(f"no corpus files ({', '.join(sorted(LOADERS))}) found in: {', '.join(map(str, paths))}")
    digest = hashlib.sha256()
    for file in files:
        try:
            data = file.path.read_bytes()
        except OSError as exc:  # removed since the folder was listed: a CorpusError, as it is if read later
            problem = _problem(file.name, f"cannot read ({exc.strerror})")
            raise CorpusError(str(problem), [problem]) from exc
        digest.update(file.name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:16]
