"""The `qa` command line through typer's runner, on a real index."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qa.cli import app
from qa.config import Settings
from qa.service import QAService

runner = CliRunner()


def test_index_prints_count_and_time(tmp_path: Path) -> None:
    result = runner.invoke(app, ["index", "--index-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Indexed 12 entries" in result.output
    assert " s " in result.output
    assert (tmp_path / "CURRENT").is_file()


def test_ask_human_output_has_verbatim_text_and_citation(service: QAService, settings: Settings) -> None:
    question = "my baby's face twitches, is that normal?"
    result = runner.invoke(app, ["ask", question, "--index-dir", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    assert "Thanks! A: It is completely normal for newborns" in result.output
    assert "Source: infant_seizures_faq.txt, lines 7-7" in result.output


def test_ask_json_matches_the_api_body(service: QAService, settings: Settings) -> None:
    result = runner.invoke(
        app, ["ask", "how long do spasms last", "--json", "--top-k", "1", "--index-dir", str(settings.index_dir)]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body == service.ask("how long do spasms last", 1).model_dump(mode="json")


def test_ask_abstains_in_words(service: QAService, settings: Settings) -> None:
    result = runner.invoke(app, ["ask", "best car insurance", "--index-dir", str(settings.index_dir)])
    assert result.exit_code == 0
    assert "I don't have an answer for that" in result.output


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["ask", "hello?", "--index-dir", str(tmp_path / "none")])
    assert missing.exit_code == 1
    assert "run `qa index`" in missing.output
    assert "Traceback" not in missing.output
    bad = tmp_path / "bad.txt"
    bad.write_text("no question here\n")
    failed = runner.invoke(app, ["index", "--corpus", str(bad), "--index-dir", str(tmp_path / "i")])
    assert failed.exit_code == 1
    assert "bad.txt:1: answer text before any question" in failed.output
    assert "Traceback" not in failed.output
    empty = runner.invoke(app, ["ask", "   ", "--index-dir", str(tmp_path)])
    assert empty.exit_code == 1
    assert "question is empty" in empty.output


def test_ask_shows_the_emergency_banner_first(service: QAService, settings: Settings) -> None:
    from qa.safety import DISCLAIMER, EMERGENCY_BANNER

    question = "my baby isnt breathing and her lips are blue"
    result = runner.invoke(app, ["ask", question, "--index-dir", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(EMERGENCY_BANNER)
    assert DISCLAIMER in result.output


def test_more_user_errors_are_one_line(tmp_path: Path, settings: Settings, service: QAService) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    cases = [
        (["index", "--index-dir", str(blocked / "idx")], {}, "cannot write the index"),
        (["ask", "bad \udcff bytes", "--index-dir", str(settings.index_dir)], {}, "not valid text"),
        (["ask", "hello?"], {"QA_ABSTAIN_THRESHOLD": "abc"}, "invalid setting QA_ABSTAIN_THRESHOLD"),
        (["ask", "hello?"], {"QA_CORPUS": "corpus"}, "lists such as QA_CORPUS are JSON"),
        (["feedback", "export", "--db", str(blocked)], {}, "not a usable feedback database"),
    ]
    from qa.config import get_settings

    for args, env, fragment in cases:
        get_settings.cache_clear()
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1, (args, result.output)
        assert fragment in result.output, (args, result.output)
        assert "Traceback" not in result.output
    get_settings.cache_clear()
