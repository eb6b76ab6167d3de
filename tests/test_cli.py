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


def _labelled(tmp_path: Path, *lines: dict[str, object]) -> Path:
    path = tmp_path / "labelled.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_eval_reports_figures_and_every_failure(service: QAService, settings: Settings, tmp_path: Path) -> None:
    path = _labelled(
        tmp_path,
        {"question": "How long do spasms last in a baby?", "expected": ["how-long-do-spasms-last-in-a-baby"]},
        {"question": "what causes infantile spasms", "expected": ["is-baby-face-twitching-normal"]},  # wrong on purpose
        {"question": "best car insurance quotes", "expected": "none"},
    )
    result = runner.invoke(app, ["eval", str(path), "--index-dir", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    assert "acceptable first      50.0%" in result.output
    assert "abstained             100.0%" in result.output
    assert "1 failures:" in result.output
    assert "'what causes infantile spasms'" in result.output
    assert "expected is-baby-face-twitching-normal; got what-causes-infantile-spasms-in-babies" in result.output


def test_eval_json_and_floor(service: QAService, settings: Settings, tmp_path: Path) -> None:
    path = _labelled(
        tmp_path,
        {"question": "What do febrile seizures look like?", "expected": ["what-do-febrile-seizures-look-like"]},
        {"question": "why do babies have spasms", "expected": ["is-baby-face-twitching-normal"]},
    )
    args = ["eval", str(path), "--json", "--index-dir", str(settings.index_dir)]
    body = json.loads(runner.invoke(app, args).stdout)
    assert body["acceptable_at_1"] == 0.5 and body["in_scope"] == 2 and len(body["failures"]) == 1
    assert body["failures"][0]["got"] == "why-do-babies-have-spasms"
    assert runner.invoke(app, [*args, "--min-acceptable", "0.5"]).exit_code == 0
    below = runner.invoke(app, [*args, "--min-acceptable", "0.95"])
    assert below.exit_code == 1
    assert "Error: acceptable@1 is 50.0%, below the floor of 95.0%" in below.output


def test_eval_file_errors_are_one_line(service: QAService, settings: Settings, tmp_path: Path) -> None:
    unknown = _labelled(tmp_path, {"question": "q?", "expected": ["no-such-entry"]})
    result = runner.invoke(app, ["eval", str(unknown), "--index-dir", str(settings.index_dir)])
    assert result.exit_code == 1
    assert "expected entry ids not in the index: no-such-entry" in result.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "q?", "expected": ["a"]}\n{"question": "q2"}\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", str(broken), "--index-dir", str(settings.index_dir)])
    assert result.exit_code == 1
    assert 'broken.jsonl:2: "expected" must be a list of entry ids or "none"' in result.output
    assert "Traceback" not in result.output


def test_eval_of_a_project_set_passes_its_floor(service: QAService, settings: Settings) -> None:
    """What a content change is checked with in CI: `qa eval FILE --min-acceptable`."""
    labelled = Path(__file__).parent.parent / "eval" / "retrieval" / "dev3.jsonl"
    args = ["eval", str(labelled), "--min-acceptable", "0.9", "--index-dir", str(settings.index_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    in_scope = sum('"expected": "none"' not in line for line in labelled.read_text().splitlines() if line.strip())
    assert f"in-scope questions      {in_scope}" in result.output
