"""Markdown FAQ pages: one `## Question?` heading per entry.

A level-2 heading ending in `?` is a question; question headings with only
blank lines between them are alternate phrasings of one entry. Everything
after them up to the next question heading is the answer, verbatim: a `##`
heading that is not a question (`## Treatment`), lists, links and emphasis
stay part of it. A level-1 heading (`# Title`) is a page or section title:
it ends the answer before it, and the text from it to the next question is
not part of any entry, like the text before the first question. Headings
inside fenced code blocks are text.

Optional front matter between `---` lines at the very top sets `url:`, `title:`, `reviewed:` and
`source:` (the publisher) for every entry of the file; it is read by hand
(simple `key: value` lines), and an unknown key is an error. A `Tags:` line
directly after an entry's question heading(s) marks it, as in the seed text
format (`faq_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.loaders import sidecar
from qa.loaders.common import Parsed, verbatim_entry
from qa.loaders.faq_text import MISPLACED_TAGS, QUESTION_AFTER_TAGS, known_tags, tags_of

ENTRY_FIELD = {"url": "url", "source": "publisher", "title": "title", "reviewed": "reviewed"}
"""Front-matter key -> the `Entry` field it fills (`source` names the publisher, as in JSONL and CSV)."""
FRONT_MATTER = {
    "url": "link cited with every entry of the file",
    "source": "publisher named with every entry",
    "title": "title of the source document",
    "reviewed": "when the content was last reviewed",
}
"""Front-matter key -> what it sets."""

_QUESTION = re.compile(r" {0,3}##[ \t]+(?P<text>.*\?)[ \t]*")
_TITLE = re.compile(r" {0,3}#(?:[ \t].*)?")
_FENCE = re.compile(r" {0,3}(```|~~~)")
_FIELD = re.compile(r"\s*(?P<key>[A-Za-z_][\w-]*)\s*:(?P<value>.*)")


@dataclass
class _Pending:
    questions: list[str]
    question_line: int
    answer: list[int] = field(default_factory=list)
    """Line numbers of the answer so far, blank lines inside it included."""
    tags: frozenset[str] | None = None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def _front_matter(lines: list[str], out: Parsed) -> tuple[dict[str, str], int]:
    """The front-matter fields and the number of lines they take (0 without front matter)."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        out.error(1, "front matter opened with '---' is never closed; end it with a line '---'")
        return {}, 1
    fields: dict[str, str] = {}
    for number in range(2, end + 1):
        raw = lines[number - 1]
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        pair = _FIELD.fullmatch(raw)
        if pair is None:
            out.error(number, f"front matter line {raw.strip()!r} is not 'key: value'")
            continue
        key, value = pair["key"].lower(), _unquote(pair["value"].strip())
        if key not in FRONT_MATTER:
            out.error(number, f"unknown front-matter key {key!r}; allowed keys: {', '.join(FRONT_MATTER)}")
        elif key in fields:
            out.error(number, f"front-matter key {key!r} is given twice")
        elif not value:
            out.error(number, f"front-matter key {key!r} has no value")
        else:
            fields[key] = value
    return fields, end + 1


def _finish(pending: _Pending, out: Parsed, lines: list[str], meta: dict[str, str]) -> None:
    numbers = pending.answer
    while numbers and not lines[numbers[-1] - 1].strip():
        numbers.pop()
    if not numbers:
        out.error(
            pending.question_line,
            f"question {pending.questions[0]!r} has no answer; write the answer under its heading",
        )
        return
    entry = verbatim_entry(pending.questions, lines, (numbers[0], numbers[-1]), out.source, pending.tags or ())
    out.entries.extend(sidecar.apply([entry], {ENTRY_FIELD[key]: value for key, value in meta.items()}))


def parse(text: str, source: str) -> Parsed:
    out = Parsed(source)
    lines = text.splitlines()
    meta, skip = _front_matter(lines, out)
    pending: _Pending | None = None
    in_fence = False
    for number in range(skip + 1, len(lines) + 1):
        line = lines[number - 1]
        if _FENCE.match(line):
            in_fence = not in_fence
        question = None if in_fence else _QUESTION.fullmatch(line)
        if question is not None:
            if pending is not None and not pending.answer:
                if pending.tags is not None:
                    out.error(number, QUESTION_AFTER_TAGS)
                pending.questions.append(question["text"])
                continue
            if pending is not None:
                _finish(pending, out, lines, meta)
            pending = _Pending(questions=[question["text"]], question_line=number)
        elif not in_fence and _TITLE.fullmatch(line):
            if pending is not None:
                _finish(pending, out, lines, meta)
            pending = None
        elif pending is None or (not pending.answer and not line.strip()):
            continue  # text outside any entry, or blank lines before the answer starts
        elif not in_fence and (tags := tags_of(line)) is not None:
            if pending.answer or pending.tags is not None:
                out.error(number, MISPLACED_TAGS)
            else:
                pending.tags = known_tags(tags, out, number)
        else:
            pending.answer.append(number)
    if pending is not None:
        _finish(pending, out, lines, meta)
    if not out.entries and not out.problems:
        out.error(None, "no entries found (expected a '## ' heading ending in '?')")
    return out
