"""The plain-text FAQ format of the seed corpus.

Blocks are separated by blank lines. A block that is a single line ending in
`?` is a question; questions that follow one another before any answer text
are alternate phrasings of one entry; everything up to the next question is
its answer, kept verbatim (numbering, bullets, curly quotes and all).

A single-line block `Tags: reassuring` directly after an entry's question
line(s), before its answer, marks the entry (comma-separated for several
tags). It is not part of the answer and not in its line span. Known tags are
in `TAGS`; an unknown one, or a Tags line anywhere else, is an error. The
Markdown loader reads Tags lines with the same helpers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.loaders.common import Parsed, verbatim_entry

TAGS = {"reassuring": "the answer tells a parent that something is normal (held back while a banner shows)"}
"""Tag -> what it means; each is an `Entry` field of the same name set to True."""

MISPLACED_TAGS = "a Tags line belongs directly after an entry's question line(s), before its answer, once per entry"
QUESTION_AFTER_TAGS = "question after a Tags line; put the Tags line after the entry's last question, before its answer"

_TAG_LINE = re.compile(r"\s*tags\s*:(?P<tags>.*)", re.IGNORECASE)


def tags_of(line: str) -> list[str] | None:
    """The lowercased tags of a `Tags: a, b` line, or None if the line is not one."""
    match = _TAG_LINE.fullmatch(line)
    return None if match is None else [tag.strip().lower() for tag in match["tags"].split(",")]


def known_tags(tags: list[str], out: Parsed, number: int) -> frozenset[str]:
    """The tags `TAGS` knows; each unknown one is reported at line `number`."""
    for tag in tags:
        if tag not in TAGS:
            out.error(number, f"unknown tag {tag!r} in the Tags line; known tags: {', '.join(TAGS)}")
    return frozenset(tag for tag in tags if tag in TAGS)


@dataclass
class _Pending:
    questions: list[str]
    question_line: int
    answer: list[tuple[int, str]] = field(default_factory=list)
    tags: frozenset[str] | None = None
    """None until the entry's Tags line, if it has one."""


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            current.append((number, line))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _is_question(block: list[tuple[int, str]]) -> bool:
    return len(block) == 1 and block[0][1].rstrip().endswith("?")


def _finish(pending: _Pending, out: Parsed, lines_of_text: list[str]) -> None:
    if not pending.answer:
        out.error(
            pending.question_line,
            f"question {pending.questions[0]!r} has no answer; add the answer text after it, separated by a blank line",
        )
        return
    span = (pending.answer[0][0], pending.answer[-1][0])
    out.entries.append(verbatim_entry(pending.questions, lines_of_text, span, out.source, pending.tags or ()))


def parse(text: str, source: str) -> Parsed:
    out = Parsed(source)
    lines_of_text = text.splitlines()
    pending: _Pending | None = None
    orphan_reported = False
    for block in _blocks(text):
        number, line = block[0]
        question = _is_question(block)
        tags = None if question or len(block) > 1 else tags_of(line)  # a line ending in "?" is a question
        if tags is not None:
            if pending is None or pending.answer or pending.tags is not None:
                out.error(number, MISPLACED_TAGS)
            else:
                pending.tags = known_tags(tags, out, number)
        elif question:
            if pending is not None and not pending.answer:
                if pending.tags is not None:
                    out.error(number, QUESTION_AFTER_TAGS)
                pending.questions.append(line)
                continue
            if pending is not None:
                _finish(pending, out, lines_of_text)
            pending = _Pending(questions=[line], question_line=number)
        elif pending is None:
            if not orphan_reported:  # once: a file of prose would otherwise give one error per paragraph
                out.error(
                    number,
                    "answer text before any question; an entry starts with a question on its own line ending in '?'",
                )
                orphan_reported = True
        else:
            pending.answer.extend(block)
    if pending is not None:
        _finish(pending, out, lines_of_text)
    if not out.entries and not out.problems:
        out.error(None, "no entries found (expected a question line ending in '?')")
    return out
