"""A request id for every request, returned as X-Request-ID, and one access-log line when it ends.

The id goes into the request's headers too, so the chat's handlers (which run in Gradio's queue,
after the HTTP request that submitted them has ended) can tag their answer lines with it.
"""

from __future__ import annotations

import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa import logs

__all__ = ["HEADER", "AccessLog"]

HEADER = "X-Request-ID"


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = logs.request_id_from(Headers(scope=scope).get(HEADER)) or uuid.uuid4().hex
        key = HEADER.lower().encode()
        scope["headers"] = [(name, value) for name, value in scope["headers"] if name != key]
        scope["headers"].append((key, request_id.encode()))
        started, status = time.perf_counter(), 500
        token = logs.REQUEST_ID.set(request_id)

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            logs.REQUEST_ID.reset(token)
            logs.access(request_id, scope["method"], scope.get("path", ""), status, time.perf_counter() - started)
