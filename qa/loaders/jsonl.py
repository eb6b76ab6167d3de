"""JSON Lines: one entry per line.

`{"id"?, "question", "alt_questions"?: [...], "answer", "url"?, "source"?, "reassuring"?}`.
A given `id` is kept; otherwise it is derived from the question. `source`
names the publisher (the citation always names the file). `reassuring`
(true or false, default false) marks an answer that tells a parent something
is normal: it is held back while a safety banner shows.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError, field_validator

from qa.loaders.common import Parsed, entry_id, unique_questions
from qa.records import Entry


class _Line(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    question: str
    alt_questions: list[str] = []
    answer: str
    url: str | None = None
    source: str | None = None
    reassuring: StrictBool = False  # strict: "yes" or 1 is a mistake to report, not a guess to make

    @field_validator("question", "answer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


def _problems(exc: ValidationError) -> list[str]:
    out: list[str] = []
    for error in exc.errors():
        details: Any = error
        where = ".".join(str(part) for part in details["loc"]) or "line"
        out.append(f"field {where!r}: {details['msg'].removeprefix('Value error, ')}")
    return out


def parse(text: str, source: str) -> Parsed:
    out = Parsed(source)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _Line.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            out.error(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except ValidationError as exc:
            for problem in _problems(exc):
                out.error(number, problem)
            continue
        questions = unique_questions([record.question, *record.alt_questions])
        out.entries.append(
            Entry(
                id=(record.id or "").strip() or entry_id(questions[0]),
                questions=questions,
                answer=record.answer,
                source=source,
                lines=(number, number),
                url=record.url,
                publisher=record.source,
                reassuring=record.reassuring,
            )
        )
    if not out.entries and not out.problems:
        out.error(None, "no entries found (expected one JSON object per line)")
    return out
