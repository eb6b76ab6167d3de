"""The plain-text FAQ format of the seed corpus.

Blocks are separated by blank lines. A block that is a single line ending in
`?` is a question; questions that follow one another before any answer text
are alternate phrasings of one entry; everything up to the next question is
its answer, kept verbatim (numbering, bullets, curly quotes and all).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.errors import CorpusError
from qa.loaders.common import entry_id, unique_questions
from qa.records import Entry


@dataclass
class _Pending:
    questions: list[str]
    question_line: int
    answer: list[tuple[int, str]] = field(default_factory=list)


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
    )


def parse(text: str, source: str) -> list[Entry]:
    lines_of_text = text.splitlines()
    entries: list[Entry] = []
    pending: _Pending | None = None
    for block in _blocks(text):
        if _is_question(block):
            number, line = block[0]
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
