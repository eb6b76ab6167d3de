"""The feedback store and `qa feedback export`, on temporary SQLite files."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.errors import QAError
from ui.feedback import FeedbackStore

runner = CliRunner()


@pytest.fixture()
def store(tmp_path: Path) -> FeedbackStore:
    store = FeedbackStore(tmp_path / "nested" / "feedback.sqlite3")
    store.rate(
        "r1", question="is twitching normal?", answer_ids=["a", "b"], abstained=False, rating="up", index_version="v1"
    )
    store.rate("r2", question='sourdough, "quoted"\nand a new line', answer_ids=[], abstained=True, rating="down")
    return store


def test_one_row_per_reply_changed_and_withdrawn(store: FeedbackStore) -> None:
    first = store.rows()[0]
    assert (first.question, first.rating) == ("is twitching normal?", "up")
    store.rate("r1", question="is twitching normal?", answer_ids=["a", "b"], abstained=False, rating="down")
    rows = store.rows()
    assert len(rows) == 2
    assert rows[0].rating == "down" and rows[0].answer_ids == ["a", "b"] and rows[0].index_version == "v1"
    assert rows[0].timestamp.endswith("+00:00")
    store.withdraw("r1")
    assert [row.question for row in store.rows()] == ['sourdough, "quoted"\nand a new line']
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("SELECT count(*) FROM feedback").fetchone() == (1,)


def test_bad_rating_and_missing_file(tmp_path: Path) -> None:
    missing = FeedbackStore(tmp_path / "none.sqlite3")
    with pytest.raises(QAError, match="no feedback database"):
        missing.rows()
    missing.withdraw("r1")  # nothing to take back: no error, and no file created
    assert not missing.path.exists()
    with pytest.raises(ValueError, match="rating"):
        missing.rate("r1", question="q", answer_ids=[], abstained=True, rating="meh")  # type: ignore[arg-type]


def test_export_csv_and_jsonl(store: FeedbackStore) -> None:
    out = io.StringIO()
    assert store.export(out, "csv") == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == ["timestamp", "question", "answer_ids", "abstained", "rating", "index_version"]
    assert rows[0]["answer_ids"] == "a;b" and rows[0]["abstained"] == "false"
    assert rows[1]["question"] == 'sourdough, "quoted"\nand a new line' and rows[1]["abstained"] == "true"

    out = io.StringIO()
    assert store.export(out, "jsonl") == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[1] == {
        "timestamp": lines[1]["timestamp"],
        "question": 'sourdough, "quoted"\nand a new line',
        "answer_ids": [],
        "abstained": True,
        "rating": "down",
        "index_version": None,
    }


def test_cli_export(store: FeedbackStore, tmp_path: Path) -> None:
    result = runner.invoke(app, ["feedback", "export", "--db", str(store.path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["rating"] for line in result.stdout.splitlines()] == ["up", "down"]

    target = tmp_path / "out.csv"
    result = runner.invoke(app, ["feedback", "export", "--db", str(store.path), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "Exported 2 ratings" in result.stderr
    assert target.read_text(encoding="utf-8").startswith("timestamp,question,answer_ids,abstained,rating")


def test_cli_export_user_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["feedback", "export", "--db", str(tmp_path / "missing.sqlite3")])
    assert result.exit_code == 1
    assert "no feedback database" in result.stderr and "Traceback" not in result.output
    result = runner.invoke(app, ["feedback", "export", "--db", str(tmp_path / "x"), "--format", "xml"])
    assert result.exit_code == 1
    assert "csv or jsonl" in result.stderr
    assert not (tmp_path / "out.csv").exists()
