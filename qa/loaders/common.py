"""Helpers and records every format loader shares."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qa.records import Entry

_MAX_ID = 60

Severity = Literal["error", "warning"]
"""An error makes `load_corpus` fail; a warning is only reported."""


class Problem(BaseModel):
    """One thing wrong with the corpus, and where: a pydantic record so an API can return it as JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(description="File, relative to the corpus root (or the path as given); empty for none.")
    line: int | None = Field(default=None, description="1-based line, or None when it is about the whole file.")
    message: str = Field(description="What is wrong and how to fix it.")
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        text = f"warning: {self.message}" if self.severity == "warning" else self.message
        return f"{where}: {text}" if where else text


@dataclass
class Parsed:
    """What a loader makes of one file: the entries it could read and every problem it met.

    A loader reports and goes on rather than raising, so one run lists all
    that is wrong with a file instead of one mistake per fix-and-retry.
    """

    source: str
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def error(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(source=self.source, line=line, message=message))


def entry_id(question: str) -> str:
    """A readable id derived from the main question alone.

    It depends on nothing else, so adding, removing or editing *other* entries
    never changes it.
    """
    ascii_text = unicodedata.normalize("NFKD", question).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > _MAX_ID:
        slug = slug[:_MAX_ID].rsplit("-", 1)[0]
    # A question in another script has no ASCII slug: a short hash of it keeps ids distinct and stable.
    return slug or "entry-" + hashlib.sha1(question.strip().encode()).hexdigest()[:10]


def unique_questions(values: Iterable[str]) -> tuple[str, ...]:
    """Strip, drop empties and exact repeats, keep order."""
    out: list[str] = []
    for value in values:
        value = value.strip()
        if value and value not in out:
            out.append(value)
    return tuple(out)


def verbatim_entry(
    questions: Iterable[str], text_lines: list[str], span: tuple[int, int], source: str, tags: Iterable[str] = ()
) -> Entry:
    """An entry whose answer is lines `span` (1-based, inclusive) of its file, word for word: the one way
    the line-based formats (text, Markdown) make an entry, so ids, spans and tags mean the same in both."""
    unique = unique_questions(questions)
    first, last = span
    return Entry(
        id=entry_id(unique[0]),
        questions=unique,
        answer="\n".join(text_lines[first - 1 : last]),
        source=source,
        lines=span,
        reassuring="reassuring" in tags,
    )
