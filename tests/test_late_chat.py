"""The chat loads after the server starts (`ui.mount`): the API never waits for Gradio, a page asked for early
is held and then served, and a chat that cannot start leaves the API serving and the page saying so."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from qa.config import PROJECT_ROOT
from tests.harness import LiveServer
from ui.mount import LateChat, with_late_chat

SCOPE = {"type": "http", "method": "GET", "path": "/", "headers": []}


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """A stand-in for the chat's ASGI app: the mechanism is what is under test, not Gradio."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"the chat"})


@contextlib.asynccontextmanager
async def no_start_up(chat: Any) -> AsyncIterator[None]:
    yield


async def call(app: Any) -> tuple[int, dict[str, str], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(dict(SCOPE), receive, send)
    headers = {k.decode().lower(): v.decode() for k, v in sent[0].get("headers", [])}
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


async def running(late: LateChat, body: Any) -> Any:
    """`body()` while `late` loads in the app's lifespan, as a server runs it."""
    async with with_late_chat(FastAPI().router.lifespan_context, late)(None):
        return await body()


def test_a_page_asked_for_while_the_chat_loads_is_held_then_served() -> None:
    built = threading.Event()

    def build() -> Any:
        built.wait(5)  # the slow import, finishing only once the request is already waiting
        return hello

    late = LateChat(build, no_start_up)

    async def body() -> tuple[int, dict[str, str], bytes]:
        asked = asyncio.create_task(call(late))
        await asyncio.sleep(0.1)
        assert not asked.done(), "the page was answered before the chat existed"
        built.set()
        return await asked

    status, _, text = asyncio.run(running(late, body))
    assert (status, text) == (200, b"the chat")


def test_a_chat_that_cannot_start_is_a_503_that_says_so_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def build() -> Any:
        raise RuntimeError("no such theme")

    late = LateChat(build, no_start_up)

    async def body() -> tuple[int, dict[str, str], bytes]:
        return await call(late)

    with caplog.at_level(logging.ERROR, logger="qa.chat"):
        status, _, text = asyncio.run(running(late, body))
    assert status == 503
    detail = json.loads(text)["detail"]
    assert "could not be started" in detail and "/api" in detail
    assert any("RuntimeError" in record.getMessage() for record in caplog.records)


def test_a_start_up_that_fails_counts_as_a_chat_that_cannot_start() -> None:
    @contextlib.asynccontextmanager
    async def failing(chat: Any) -> AsyncIterator[None]:
        raise OSError("queue could not start")
        yield  # pragma: no cover

    late = LateChat(lambda: hello, failing)
    status, _, _ = asyncio.run(running(late, lambda: call(late)))
    assert status == 503 and late.failed and late.app is None


def test_a_page_that_waits_too_long_gets_a_503_with_retry_after() -> None:
    release = threading.Event()
    late = LateChat(lambda: release.wait(5) and hello, no_start_up, wait=0.05)

    async def body() -> tuple[int, dict[str, str], bytes]:
        try:
            return await call(late)
        finally:
            release.set()

    status, headers, text = asyncio.run(running(late, body))
    assert status == 503 and headers["retry-after"] == "5"
    assert "still starting" in json.loads(text)["detail"]


def test_shutdown_while_the_chat_is_still_loading_does_not_wait_for_it() -> None:
    release = threading.Event()
    late = LateChat(lambda: release.wait(5) and hello, no_start_up)

    async def shut_down_at_once() -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with with_late_chat(FastAPI().router.lifespan_context, late)(None):
            await asyncio.sleep(0.05)
        assert loop.time() - started < 2, "the lifespan waited for the chat's build"

    try:
        asyncio.run(shut_down_at_once())
    finally:
        release.set()
    assert late.app is None


def test_building_the_web_app_imports_no_gradio(service: Any, settings: Any) -> None:
    """The API answers without Gradio: it is imported on the chat's own thread after start-up."""
    script = (
        "import sys\n"
        "from qa.config import Settings\n"
        "from qa.service import open_service\n"
        "from qa.web import create_web_app\n"
        f"settings = Settings(index_dir={str(settings.index_dir)!r})\n"
        "app = create_web_app(open_service(settings), settings)\n"
        "print('gradio' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_the_served_app_answers_the_api_and_serves_gradio_at_root_once(service: Any, settings: Any) -> None:
    from qa.web import create_web_app

    app = create_web_app(service, settings)
    server = LiveServer(app)
    try:
        answer = httpx.post(f"{server.url}/api/ask", json={"question": "is twitching in sleep normal"}, timeout=30)
        assert answer.status_code == 200
        page = httpx.get(f"{server.url}/", timeout=90)
        assert page.status_code == 200 and "gradio" in page.text.lower()
        assert page.headers["content-security-policy"]  # the app's own middleware still wraps the chat
        roots = [route for route in app.router.routes if isinstance(route, Mount) and route.path == ""]
        assert [type(route.app).__name__ for route in roots] == ["LateChat"], "Gradio's own mount was left behind"
    finally:
        server.stop()
