"""Thumbs up/down on chat replies, kept in one SQLite file for maintainers.

One row per rated reply: clicking the other thumb changes the row, clicking the same thumb again
(un-rating) deletes it, so counts are never inflated by a change of mind. Plain `sqlite3`, a new
connection per call: the chat handlers run in worker threads and writes are rare. No Gradio import,
so `qa feedback export` stays fast.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from qa.errors import QAError

Rating = Literal["up", "down"]
ExportFormat = Literal["csv", "jsonl"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    reply_id      TEXT PRIMARY KEY,
    timestamp     TEXT NOT NULL,
    question      TEXT NOT NULL,
    answer_ids    TEXT NOT NULL,
    abstained     INTEGER NOT NULL,
    rating        TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    index_version TEXT
)
"""
BUSY_SECONDS = 2.0
"""How long a rating waits for another program's lock on the file: a click must not hold up the chat."""
_COLUMNS = ("timestamp", "question", "answer_ids", "abstained", "rating", "index_version")


@dataclass(frozen=True)
class FeedbackRow:
    timestamp: str
    """UTC, ISO 8601, of the latest click on this reply."""
    question: str
    answer_ids: list[str]
    """Ids of the answers shown, best first; empty when the engine abstained."""
    abstained: bool
    rating: Rating
    index_version: str | None


def _explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    """What SQLite's one-word reasons mean for whoever looks after the file."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code, without SQLite's extended bits
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return (
            f"the feedback database {path} is locked by another program ({exc}); "
            "close what holds it (an sqlite3 shell, a backup) and try again"
        )
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return (
            f"{path} is not a usable feedback database ({exc}); move it aside (the next rating starts a new one) "
            "or set QA_FEEDBACK_DB to another file"
        )
    return f"cannot use the feedback database {path} ({exc})"


class FeedbackStore:
    """The feedback table in `path`; the file and its folder are created on the first rating."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """Every failure is a `QAError` saying what to do, so the chat can log it and go on answering."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # closing() closes the file; `connection` as a context manager is one transaction, committed on success.
            with closing(sqlite3.connect(self.path, timeout=BUSY_SECONDS)) as connection, connection:
                connection.execute(_SCHEMA)
                yield connection
        except sqlite3.DatabaseError as exc:
            raise QAError(_explain(self.path, exc)) from exc
        except OSError as exc:  # its folder cannot be made: a file in the way, a read-only disk
            raise QAError(f"cannot open the feedback database {self.path} ({exc.strerror or exc})") from exc

    def rate(
        self,
        reply_id: str,
        *,
        question: str,
        answer_ids: Sequence[str],
        abstained: bool,
        rating: Rating,
        index_version: str | None = None,
    ) -> None:
        """Record (or change) the rating of one reply."""
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            db.execute(
                "INSERT INTO feedback (reply_id, timestamp, question, answer_ids, abstained, rating, index_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(reply_id) DO UPDATE SET timestamp = excluded.timestamp, rating = excluded.rating",
                (reply_id, now, question, json.dumps(list(answer_ids)), int(abstained), rating, index_version),
            )

    def withdraw(self, reply_id: str) -> None:
        """The user took their rating back."""
        if not self.path.exists():
            return
        with self._connect() as db:
            db.execute("DELETE FROM feedback WHERE reply_id = ?", (reply_id,))

    def rows(self) -> list[FeedbackRow]:
        """Every rating, in the order replies were first rated. A missing file is an error: probably the wrong path."""
        if not self.path.is_file():
            raise QAError(f"no feedback database at {self.path} (nothing rated yet, or set QA_FEEDBACK_DB / --db)")
        with self._connect() as db:
            cursor = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM feedback ORDER BY rowid")
            return [
                FeedbackRow(
                    timestamp=stamp,
                    question=question,
                    answer_ids=json.loads(ids),
                    abstained=bool(abstained),
                    rating=rating,
                    index_version=version,
                )
                for stamp, question, ids, abstained, rating, version in cursor
            ]

    def export(self, out: TextIO, fmt: ExportFormat = "csv") -> int:
        """Write all rows as CSV (answer ids joined by ';') or JSON Lines; returns the row count."""
        rows = self.rows()
        if fmt == "jsonl":
            for row in rows:
                out.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
        elif fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(_COLUMNS)
            for row in rows:
                writer.writerow(
                    [
                        row.timestamp,
                        row.question,
                        ";".join(row.answer_ids),
                        "true" if row.abstained else "false",
                        row.rating,
                        row.index_version or "",
                    ]
                )
        else:
            raise ValueError(f"format must be csv or jsonl, not {fmt!r}")
        return len(rows)
