"""Spreadsheet exports: CSV (`.csv`) and tab-separated (`.tsv`), one entry per row.

The first row is a header naming the columns, in any order: `question` and
`answer` are required; `alt_questions` (alternate phrasings separated by
`|`), `url`, `id`, `source` (the publisher) and `reassuring` (`true` or
`false`, empty for false) are optional, and any other column is an error, so
a typo in a header is not silently dropped. Fields may be quoted, and a
quoted field may hold commas, tabs and line breaks. The answer is kept
verbatim; an entry's line span is the physical lines of its row in the file.
"""

from __future__ import annotations

import csv
import io

from qa.loaders.common import Parsed, entry_id, unique_questions
from qa.records import Entry

COLUMNS = {
    "question": "the main question (required)",
    "answer": "the answer, verbatim (required)",
    "alt_questions": "alternate phrasings, separated by '|'",
    "url": "link cited with the answer",
    "id": "stable id; derived from the question when empty",
    "source": "publisher named with the answer",
    "reassuring": "true or false: the answer tells a parent that something is normal",
}
"""Column -> what it holds."""
REQUIRED = ("question", "answer")
ALT_SEPARATOR = "|"

_BOOLEANS = {"": False, "false": False, "true": True}


def parse_csv(text: str, source: str) -> Parsed:
    return _parse(text, source, csv.excel, "CSV", "comma")


def parse_tsv(text: str, source: str) -> Parsed:
    return _parse(text, source, csv.excel_tab, "TSV", "tab")


def _header(row: list[str], out: Parsed, number: int) -> list[str] | None:
    """The column names, or None (reported) when the rows cannot be read with them."""
    names = [cell.strip().lower() for cell in row]
    allowed = ", ".join(COLUMNS)
    if not set(names) & set(COLUMNS):
        out.error(number, f"the first row must be a header naming the columns ({allowed}); found {row[0]!r}")
        return None
    for position, name in enumerate(names, start=1):
        if name not in COLUMNS:
            out.error(number, f"unknown column {name!r} (column {position}); allowed columns: {allowed}")
    repeated = sorted({name for name in names if names.count(name) > 1 and name in COLUMNS})
    missing = [name for name in REQUIRED if name not in names]
    if repeated:
        out.error(number, f"column {', '.join(map(repr, repeated))} appears more than once in the header")
    if missing:
        out.error(number, f"missing required column {', '.join(map(repr, missing))}; allowed columns: {allowed}")
    return None if repeated or missing else names


def _record(row: list[str], names: list[str], out: Parsed, span: tuple[int, int], delimiter: str) -> None:
    number = span[0]
    if len(row) != len(names):
        out.error(
            number,
            f"row has {len(row)} fields but the header has {len(names)} columns; "
            f"quote a field that contains a {delimiter}",
        )
        return
    cells = {name: value for name, value in zip(names, row, strict=True) if name in COLUMNS}
    question, answer = cells["question"], cells["answer"]
    flag = cells.get("reassuring", "").strip().lower()
    ok = True
    for name, value in (("question", question), ("answer", answer)):
        if not value.strip():
            out.error(number, f"field {name!r}: must not be empty")
            ok = False
    if flag not in _BOOLEANS:
        out.error(number, f"field 'reassuring': expected true or false (or empty), not {cells['reassuring']!r}")
        ok = False
    if not ok:
        return
    questions = unique_questions([question, *cells.get("alt_questions", "").split(ALT_SEPARATOR)])
    out.entries.append(
        Entry(
            id=cells.get("id", "").strip() or entry_id(questions[0]),
            questions=questions,
            answer=answer,
            source=out.source,
            lines=span,
            url=cells.get("url", "").strip() or None,
            publisher=cells.get("source", "").strip() or None,
            reassuring=_BOOLEANS[flag],
        )
    )


def _parse(text: str, source: str, dialect: type[csv.Dialect], kind: str, delimiter: str) -> Parsed:
    out = Parsed(source)
    # strict: a stray quote is reported, not silently dropped from a verbatim answer.
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    names: list[str] | None = None
    done = 0  # physical lines read so far: the next record starts on the line after
    while True:
        start = done + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.error(start, f"malformed {kind} row ({exc}); check its quotes")
            if names is None:
                return out
            done = reader.line_num
            continue
        done = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line, or a row of empty cells
        if names is None:
            names = _header(row, out, start)
            if names is None:
                return out
        else:
            _record(row, names, out, (start, done), delimiter)
    if not out.entries and not out.problems:
        out.error(None, f"no entries found (expected a header row with {' and '.join(REQUIRED)}, then a row per entry)")
    return out
