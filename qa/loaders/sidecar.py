"""Source metadata for a whole corpus file: title, publisher, link and review date.

A parent trusts "From: Infantile spasms, NHS" and cannot use "file.txt, lines 5-9". Formats that
have no place for it (the seed text format, JSONL, CSV) take it from a *sidecar*: a small TOML
file beside the corpus file, named after it with `.source.toml` in place of its suffix
(`infant_seizures_faq.txt` -> `infant_seizures_faq.source.toml`):

    title = "Infant twitching, spasms and seizures: questions and answers"
    publisher = ""          # unknown: left empty, never guessed
    url = ""
    reviewed = "2026-11"    # as the content team writes it

Empty values mean unknown. A field an entry sets itself (a JSONL line's `url` or `source`) wins
over the sidecar. Markdown files may carry the same keys in their front matter instead.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from qa.loaders.common import Problem
from qa.records import Entry

SUFFIX = ".source.toml"
FIELDS = {
    "title": "title of the source document, shown to parents",
    "publisher": "who published it (a JSONL/CSV `source` column is the same field, per entry)",
    "url": "link to the original",
    "reviewed": "when the content was last reviewed, as written (e.g. 2026-11)",
}
"""Sidecar key -> what it means; each is an `Entry` field of the same name."""


def is_sidecar(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIX)


def owner_stem(path: Path) -> str:
    """The corpus file name, without its suffix, that a sidecar describes."""
    return path.name[: -len(SUFFIX)]


def read(path: Path, name: str) -> tuple[dict[str, str], list[Problem]]:
    """The sidecar's known, non-empty fields, and its problems (bad TOML, unknown keys, non-text values)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(source=name, message=f"cannot read the source metadata ({exc})")]
    except tomllib.TOMLDecodeError as exc:
        return {}, [Problem(source=name, message=f"not valid TOML ({exc})")]
    fields: dict[str, str] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        if key not in FIELDS:
            problems.append(Problem(source=name, message=f"unknown key {key!r}; allowed keys: {', '.join(FIELDS)}"))
        elif not isinstance(value, str):
            problems.append(Problem(source=name, message=f"{key!r} must be text in quotes, not {value!r}"))
        elif value.strip():
            fields[key] = value.strip()
    return fields, problems


def apply(entries: list[Entry], fields: dict[str, str]) -> list[Entry]:
    """The entries with the file's metadata filled in where the entry itself says nothing."""
    if not fields:
        return entries
    return [
        entry.model_copy(update={k: v for k, v in fields.items() if getattr(entry, k) is None}) for entry in entries
    ]
