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

from qa.errors import CorpusError
from qa.loaders.common import entry_id, unique_questions
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


def _problem(exc: ValidationError) -> str:
    first: Any = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "line"
    return f"field {where!r}: {first['msg']}"


def parse(text: str, source: str) -> list[Entry]:
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _Line.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{source}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
        except ValidationError as exc:
            raise CorpusError(f"{source}:{number}: {_problem(exc)}") from exc
        questions = unique_questions([record.question, *record.alt_questions])
        entries.append(
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
    if not entries:
        raise CorpusError(f"{source}: no entries found (expected one JSON object per line)")
    return entries
