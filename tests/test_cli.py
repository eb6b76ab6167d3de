"""The `qa` command line through typer's runner, on a real index."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from qa.cli import app
from qa.config import PROJECT_ROOT, Settings
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
    """What a content change is checked with in CI: `qa eval FILE --min-acceptable`; `--unseen` judges a set
    the index learned from (its questions are example questions) as if it were new."""
    labelled = Path(__file__).parent.parent / "eval" / "retrieval" / "dev3.jsonl"
    lines = [line for line in labelled.read_text().splitlines() if line.strip()]
    args = ["eval", str(labelled), "--min-acceptable", "0.9", "--index-dir", str(settings.index_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    in_scope = sum('"expected": "none"' not in line for line in lines)
    assert f"in-scope questions      {in_scope}" in result.output
    assert f"note: {len(lines)} of these questions are example questions of the index" in result.output
    unseen = runner.invoke(app, [*args, "--unseen"])
    assert unseen.exit_code == 0, unseen.output
    assert "note:" not in unseen.output
    judged = [json.loads(runner.invoke(app, [*args, *flag, "--json"]).stdout) for flag in ([], ["--unseen"])]
    assert [body["seen_as_examples"] for body in judged] == [len(lines), 0]


# --- usage errors, flags, start-up checks: what a person at a terminal sees first ------------------

SEED_CORPUS = PROJECT_ROOT / "corpus"
HEAVY = ("torch", "sentence_transformers", "sklearn", "gradio", "faiss")
_RUN_QA = """
import json, sys
from qa.cli import app
try:
    app(sys.argv[1:], prog_name="qa")
except SystemExit as exit:
    code = exit.code
print(json.dumps([name for name in {heavy!r} if name in sys.modules]))
sys.exit(code)
"""


def _qa(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`qa ARGS` in a fresh interpreter, and which heavy modules it had imported by the end (its last stdout line)."""
    code = _RUN_QA.format(heavy=HEAVY)
    run = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT
    )
    *_, loaded = run.stdout.strip().splitlines() or ["null"]
    return run, json.loads(loaded)


def _without_hub_switches() -> dict[str, str]:
    """The environment a user has: none of the HF_HUB_OFFLINE the test session sets, no QA_ALLOW_HUB."""
    return {key: value for key, value in os.environ.items() if key not in ("HF_HUB_OFFLINE", "QA_ALLOW_HUB")}


def test_help_shows_bool_options_as_flags() -> None:
    for command, flags in [("ask", ["--json"]), ("eval", ["--json"]), ("index", ["--check", "--list", "--rollback"])]:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.output and "BOOLEAN" not in result.output, result.output
        for flag in flags:  # the flag, then its help text: no value placeholder between them
            assert re.search(rf"^  {flag} {{2,}}[A-Z]", result.output, re.M), (flag, result.output)
    assert re.search(r"^  -q, --quiet {2,}No progress bar", runner.invoke(app, ["index", "--help"]).output, re.M)


def test_usage_errors_exit_2_in_a_few_plain_lines() -> None:
    cases = [
        (["ask", "hello?", "--bogus"], "Error: No such option: --bogus"),
        (["ask", "hello?", "--top-k", "three"], "Error: Invalid value for '--top-k'"),
        (["ask", "hello?", "--top-k", "11"], "Error: Invalid value for '--top-k'"),
        (["ask"], "Error: Missing argument"),
        (["nosuch"], "Error: No such command 'nosuch'"),
    ]
    for args, fragment in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert fragment in result.output, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) <= 3, (args, result.output)  # usage, where help is, the error; no box
        assert not set("╭│╰") & set(result.output), result.output


def test_a_user_error_is_exactly_one_line_and_status_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "hello?", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("Error: ")


def test_serve_on_a_taken_port_fails_at_once_before_the_model_loads() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run, loaded = _qa("serve", "--port", str(port), "--index-dir", "/nonexistent/index")
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines() == [
        f"Error: port {port} on 127.0.0.1 is already in use; stop the server using it or choose another --port"
    ]
    assert "Serving" not in run.stdout and "Building" not in run.stdout
    assert loaded == [], "the port is checked before the model, FAISS or Gradio is imported"


def test_an_unknown_model_fails_in_one_line_without_waiting_on_the_hub(tmp_path: Path) -> None:
    """No HF_HUB_OFFLINE in the environment: `qa` turns it on itself, so nothing retries a hub it cannot reach."""
    args = ["index", "--model", "nonexistent-model-xyz", "--index-dir", str(tmp_path), "--corpus", str(SEED_CORPUS)]
    run, _ = _qa(*args, env=_without_hub_switches())  # its 60 s timeout is far under the minute of hub retries
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines() == [
        "Error: cannot load embedding model 'nonexistent-model-xyz': it is not a folder, not packaged and not in "
        "the local Hugging Face cache, and the hub is off (give a model folder, or set QA_ALLOW_HUB=true to "
        "download it)"
    ]
    assert not (tmp_path / "CURRENT").exists()


def test_the_hub_is_offline_unless_allowed() -> None:
    show = "from qa.config import get_settings; get_settings(); import os; print(os.environ.get('HF_HUB_OFFLINE'))"
    for allow, expected in [(None, "1"), ("false", "1"), ("true", "None")]:
        env = _without_hub_switches() | ({"QA_ALLOW_HUB": allow} if allow else {})
        shown = subprocess.run([sys.executable, "-c", show], env=env, capture_output=True, text=True, timeout=60)
        assert shown.stdout.strip() == expected, (allow, shown.stderr)
    assert "HF_HUB_OFFLINE" in (Settings.model_fields["allow_hub"].description or "")


def test_importing_the_cli_and_quick_commands_load_nothing_heavy() -> None:
    """`qa --help` and `qa index --check` must answer in well under a second: no torch, FAISS or Gradio."""
    imported = subprocess.run(
        [sys.executable, "-c", f"import sys, qa.cli; print([m for m in {HEAVY!r} if m in sys.modules])"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.stdout.strip() == "[]", imported.stderr
    for args in (["--help"], ["index", "--check", "--corpus", str(SEED_CORPUS)]):
        run, loaded = _qa(*args)
        assert run.returncode == 0, run.stderr
        assert loaded == [], (args, loaded)
