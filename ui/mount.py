"""The chat at "/" of the web app, loaded after the server has started, so the API never waits for it.

Importing Gradio and building the page takes longer than everything else a start does together (3-4 s
of a 6-7 s start on a slow 2-core machine: README, performance). The app's API answers as soon as
the engine is loaded; the chat loads on a thread once the server is up, and a page asked for meanwhile
is held until the chat is ready, then served. So a parent who opens the page early waits a moment
longer, and an app calling `/api/ask` does not wait for the chat at all. If the chat cannot be built,
the API keeps serving and the page answers 503 saying so, with the cause in the server log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from qa.api.errors import error_response
from qa.config import Settings

if TYPE_CHECKING:
    from ui.chat import AskService

__all__ = ["CHAT_WAIT_SECONDS", "UNUSED_GRADIO_ROUTES", "LateChat", "mount_chat", "with_late_chat"]

CHAT_WAIT_SECONDS = 60.0
"""How long a page request waits for a chat still loading before a 503 with `Retry-After`."""
UNUSED_GRADIO_ROUTES = (
    "/gradio_api/upload",
    "/gradio_api/process_recording",
    "/gradio_api/component_server",
    "/gradio_api/component_server/",
    "/gradio_api/stream/{rest:path}",
    "/gradio_api/run-history/{rest:path}",
    "/gradio_api/runs",
)
"""Gradio routes this chat never calls (it takes no files, recordings or streams): closed, so no stranger can
fill the disk through Gradio's upload folder."""
_log = logging.getLogger("qa.chat")


class LateChat:
    """The ASGI app at "/": the chat once it is built and started, until then a wait for it.

    `build` makes the chat's ASGI app (on a thread: it is slow and holds no event loop state); `start`
    runs its start-up and, on leaving, its shutdown (on the event loop).
    """

    def __init__(
        self,
        build: Callable[[], Any],
        start: Callable[[Any], AbstractAsyncContextManager[object]],
        wait: float = CHAT_WAIT_SECONDS,
    ) -> None:
        self.app: Any = None
        """The chat's ASGI app, once started."""
        self.failed = False
        self._build, self._start, self._wait = build, start, wait
        self._settled = asyncio.Event()  # bound to the server's loop when first awaited, not here

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None and not self.failed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), self._wait)
        if self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._unavailable(scope, receive, send)
        # any other scope (a websocket) is closed unanswered: the server refuses it

    async def _unavailable(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.failed:
            detail = "the chat could not be started (the server log says why); the JSON API at /api still answers"
            await error_response(503, detail)(scope, receive, send)
        else:
            detail = "the chat is still starting; try again in a few seconds"
            await error_response(503, detail, {"Retry-After": "5"})(scope, receive, send)

    async def run(self, stop: asyncio.Event) -> None:
        """Builds and starts the chat, serves it until `stop`, then shuts it down. Never raises: a chat that
        cannot start is logged and answered with a 503, and the rest of the app goes on serving."""
        try:
            chat = await asyncio.to_thread(self._build)
            async with self._start(chat):
                self.app = chat
                self._settled.set()
                await stop.wait()
        except Exception as exc:
            if self.app is not None:  # failed in its shutdown, after serving: nothing to tell a page
                _log.warning("the chat did not stop cleanly: %s", type(exc).__name__)
            else:
                _log.error(
                    "the chat could not be started: %s\n%s",
                    type(exc).__name__,
                    "".join(traceback.format_exception(exc)).rstrip(),
                )
                self.failed = True
                self._settled.set()


def _gradio_started(parent: FastAPI) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def started(chat: Any) -> AsyncIterator[None]:
        """What `gr.mount_gradio_app`'s lifespan does for a chat mounted before start-up (Gradio 6)."""
        # Gradio mounted the chat on `parent` too, behind the `LateChat` at "/": that route goes (here, on the
        # event loop, so no request is being routed while the list changes).
        parent.router.routes[:] = [r for r in parent.router.routes if getattr(r, "app", None) is not chat]
        async with chat.router.lifespan_context(chat):
            chat.get_blocks().run_startup_events()
            await chat.get_blocks().run_extra_startup_events()
            yield

    return started


def mount_chat(app: FastAPI, service: AskService, settings: Settings) -> FastAPI:
    """The chat at "/" of `app`, mounted last so the app's own routes (/api, /docs) keep winning; it loads
    once the server has started (in the app's lifespan), and stops with it."""
    for path in UNUSED_GRADIO_ROUTES:  # routes before the mount win over it
        app.add_api_route(path, _not_offered, methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)

    def build() -> Any:
        from ui.chat import chat_app  # Gradio: imported here, on a thread, while the API already serves

        return chat_app(app, service, settings)

    late = LateChat(build, _gradio_started(app))
    app.mount("/", late)
    app.router.lifespan_context = with_late_chat(app.router.lifespan_context, late)
    return app


def with_late_chat(before: Callable[[Any], AbstractAsyncContextManager[Any]], late: LateChat) -> Any:
    """The app's lifespan `before`, which also starts `late` once the server is up and stops it at shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with before(application) as state:
            stop = asyncio.Event()
            loading = asyncio.create_task(late.run(stop))  # while the server answers
            try:
                yield state
            finally:
                stop.set()
                if late.app is None:
                    loading.cancel()  # stopped while still loading: the build thread ends on its own
                with contextlib.suppress(asyncio.CancelledError):
                    await loading

    return lifespan


def _not_offered(request: Request) -> JSONResponse:
    return error_response(404, f"{request.url.path} is not offered: the chat takes no files or streams")
