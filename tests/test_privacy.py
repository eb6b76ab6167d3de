"""What the server's log holds, read from a real `qa serve`'s standard error: request ids, statuses,
timings, answer ids and banners, never the question text (unless turned on), the admin token or a
client's address. And what the chat logs, through a real browser."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from bench.serving import free_port
from qa.config import Settings
from tests.chat_page import ask
from tests.conftest import SEED_CORPUS

TOKEN = "privacy-admin-token-7731"
MARKER = "zebracorn"
RED_FLAG = f"my {MARKER} baby is not breathing and his lips are blue"


def _served_log(settings: Settings, tmp_path: Path, **env: str) -> tuple[str, str]:
    """Run `qa serve`, ask one red-flag question, reload as admin, stop; (its stderr, the ask's request id)."""
    port, log = free_port(), tmp_path / "serve.log"
    command = [
        str(Path(sys.executable).with_name("qa")),
        "serve",
        "--port",
        str(port),
        "--index-dir",
        str(settings.index_dir),
        "--corpus",
        str(SEED_CORPUS),
    ]
    environment = {**os.environ, "QA_ADMIN_TOKEN": TOKEN, "QA_FEEDBACK_DB": str(tmp_path / "f.sqlite3"), **env}
    with log.open("w") as stderr:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=environment)
        try:
            url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None, log.read_text()
                time.sleep(0.1)
            # The chat loads after the API answers (`ui.mount`); its page is held until it is ready.
            assert httpx.get(f"{url}/", timeout=120).status_code == 200, log.read_text()
            asked = httpx.post(
                f"{url}/api/ask", json={"question": RED_FLAG}, headers={"X-Forwarded-For": "198.51.100.23"}
            )
            assert asked.status_code == 200 and asked.json()["red_flag"]["tier"] == "emergency"
            reload = httpx.post(f"{url}/api/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
            assert reload.status_code == 200
            assert httpx.post(f"{url}/api/admin/reload", headers={"Authorization": "Bearer wrong"}).status_code == 401
            # A decoded newline in the path would start a forged line; a tab's session id would link its requests.
            httpx.get(f"{url}/api/x%0A2026-12-01 00:00:00,000 INFO qa.answers request_id=forged")
            httpx.post(f"{url}/gradio_api/heartbeat/tab-session-4242")  # GET is an endless stream
        finally:
            server.terminate()
            server.wait(timeout=30)
    return log.read_text(), asked.headers["x-request-id"]


def test_the_log_holds_outcomes_not_questions_tokens_or_addresses(
    service: object, settings: Settings, tmp_path: Path
) -> None:
    text, request_id = _served_log(settings, tmp_path)
    assert re.search(rf"qa\.access request_id={request_id} method=POST path=/api/ask status=200 ms=\d", text), text
    answered = re.search(
        rf"qa\.answers request_id={request_id} answers=\S+ abstained=\w+ banner=emergency$", text, re.M
    )
    assert answered, text
    assert "path=/api/admin/reload status=200" in text and "path=/api/admin/reload status=401" in text
    assert not re.search(r"^\S+ \S+ INFO qa\.answers request_id=forged", text, re.M), text
    assert "path=/gradio_api/heartbeat/* status=" in text
    for secret in (MARKER, TOKEN, "Bearer", "198.51.100.23", "127.0.0.1", "tab-session-4242"):
        assert secret not in text, f"{secret!r} is in the log:\n{text}"


def test_question_text_is_logged_only_when_turned_on(service: object, settings: Settings, tmp_path: Path) -> None:
    text, request_id = _served_log(settings, tmp_path, QA_LOG_QUESTIONS="true")
    assert re.search(rf"qa\.answers request_id={request_id} .* question=\"{re.escape(RED_FLAG)}\"", text), text
    assert TOKEN not in text


@pytest.mark.browser
def test_the_chat_logs_its_answers_with_the_request_id_and_no_question(
    page: Page, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="qa"):
        ask(page, f"does my {MARKER} baby twitch normally in sleep?")
    lines = [record.getMessage() for record in caplog.records if record.name == "qa.answers"]
    assert lines and re.fullmatch(r"request_id=[0-9a-f]{32} answers=\S+ abstained=(true|false) banner=\w+", lines[-1])
    assert not any(MARKER in record.getMessage() for record in caplog.records)
