"""A request id for every request, returned as X-Request-ID, and one access-log line when it ends.

The id goes into the request's headers too, so the chat's handlers (which run in Gradio's queue,
after the HTTP request that submitted them has ended) can tag their answer lines with it. A failure
no handler caught still gets a JSON 500 in the API's one shape, with the id, from here.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from qa import logs
from qa.api.asgi import HTTPMiddleware
from qa.api.errors import error_response

__all__ = ["HEADER", "AccessLog"]

HEADER = "X-Request-ID"
_log = logging.getLogger("qa.access")


class AccessLog(HTTPMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = logs.request_id_from(Headers(scope=scope).get(HEADER)) or uuid.uuid4().hex
        key = HEADER.lower().encode()
        scope["headers"] = [(name, value) for name, value in scope["headers"] if name != key]
        scope["headers"].append((key, request_id.encode()))
        started, status = time.perf_counter(), 0
        token = logs.REQUEST_ID.set(request_id)

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        except Exception as exc:
            # The type and where, never the message: it may quote what the user sent.
            _log.error(
                "request_id=%s unhandled %s\n%s",
                request_id,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
            )
            if status:  # the response had started: nothing more can be said to the client
                raise
            detail = f"internal error; quote request id {request_id} to the server's maintainer"
            await error_response(500, detail)(scope, receive, tagged)
        finally:
            logs.REQUEST_ID.reset(token)
            logs.access(
                request_id, scope["method"], logs.loggable_path(scope), status or 500, time.perf_counter() - started
            )
