"""The plain-text FAQ format of the seed corpus.

Blocks are separated by blank lines. A block that is a single line ending in
`?` is a question; questions that follow one another before any answer text
are alternate phrasings of one entry; everything up to the next question is
its answer, kept verbatim (numbering, bullets, curly quotes and all).

A single-line block `Tags: reassuring` directly after an entry's question
line(s), before its answer, marks the entry (comma-separated for several
tags). It is not part of the answer and not in its line span. Known tags are
in `TAGS`; an unknown one, or a Tags line anywhere else, is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.errors import CorpusError
from qa.loaders.common import entry_id, unique_questions
from qa.records import Entry

TAGS = {"reassuring": "the answer tells a parent that something is normal (held back while a banner shows)"}
"""Tag -> what it means; each is an `Entry` field of the same name set to True."""

_TAG_LINE = re.compile(r"\s*tags\s*:(?P<tags>.*)", re.IGNORECASE)


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


def _tag_line(block: list[tuple[int, str]]) -> re.Match[str] | None:
    return _TAG_LINE.fullmatch(block[0][1]) if len(block) == 1 else None


def _tags(match: re.Match[str], source: str, number: int) -> frozenset[str]:
    tags = [tag.strip().lower() for tag in match["tags"].split(",")]
    for tag in tags:
        if tag not in TAGS:
            raise CorpusError(f"{source}:{number}: unknown tag {tag!r} in the Tags line; known tags: {', '.join(TAGS)}")
    return frozenset(tags)


def _finish(pending: _Pending, source: str, lines_of_text: list[str]) -> Entry:
    if not pending.answer:
        raise CorpusError(
            f"{source}:{pending.question_line}: question {pending.questions[0]!r} has no answer; "
            "add the answer text after it, separated by a blank line"
        )
    first, last = pending.answer[0][0], pending.answer[-1][0]
    verbatim = "\n".join(lines_of_text[first - 1 : last])
    questions = unique_questions(pending.questions)
    return Entry(
        id=entry_id(questions[0]),
        questions=questions,
        answer=verbatim,
        source=source,
        lines=(first, last),
        reassuring="reassuring" in (pending.tags or ()),
    )


def parse(text: str, source: str) -> list[Entry]:
    lines_of_text = text.splitlines()
    entries: list[Entry] = []
    pending: _Pending | None = None
    for block in _blocks(text):
        number, line = block[0]
        tag_line = None if _is_question(block) else _tag_line(block)  # a line ending in "?" is a question
        if tag_line is not None:
            if pending is None or pending.answer or pending.tags is not None:
                raise CorpusError(
                    f"{source}:{number}: a Tags line belongs directly after an entry's question line(s), "
                    "before its answer, once per entry"
                )
            pending.tags = _tags(tag_line, source, number)
        elif _is_question(block):
            if pending is not None and pending.tags is not None and not pending.answer:
                raise CorpusError(
                    f"{source}:{number}: question after a Tags line; put the Tags line after the entry's "
                    "last question, before its answer"
                )
            if pending is not None and not pending.answer:
                pending.questions.append(line)
                continue
            if pending is not None:
                entries.append(_finish(pending, source, lines_of_text))
            pending = _Pending(questions=[line], question_line=number)
        elif pending is None:
            raise CorpusError(
                f"{source}:{block[0][0]}: answer text before any question; "
                "an entry starts with a question on its own line ending in '?'"
            )
        else:
            pending.answer.extend(block)
    if pending is not None:
        entries.append(_finish(pending, source, lines_of_text))
    if not entries:
        raise CorpusError(f"{source}: no entries found (expected a question line ending in '?')")
    return entries
