"""Limits every request meets before any route runs: a body size cap (413) and a per-client rate (429).

Both are plain ASGI middlewares over the whole app, the chat's Gradio endpoints included, so one
setting holds for every front end. Both answer in the API's one error shape.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.api.errors import error_response

__all__ = ["BodyLimit", "RateLimit", "TokenBuckets", "limited"]


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes; send a shorter one (a question is 1000 characters at most)"


class BodyLimit:
    """Refuse a body over `limit` bytes: at once from its Content-Length, else as soon as the count passes it.

    A 20 MB body is never read into memory: a declared length over the limit is answered before the
    app runs, and a chunked one is cut off at the first chunk past the limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await error_response(413, _too_large(self.limit), {"Connection": "close"})(scope, receive, send)
            return
        seen, started = 0, False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                # An HTTPException passes through FastAPI's body parsing to its handler (a JSON 413).
                raise HTTPException(413, _too_large(self.limit), {"Connection": "close"})
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except HTTPException as exc:  # raised where no handler caught it (e.g. inside the chat's app)
            if started or exc.status_code != 413:
                raise
            await error_response(413, _too_large(self.limit), {"Connection": "close"})(scope, receive, send)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBuckets:
    """One token bucket per client: `burst` requests at once, refilled at `per_minute`. Pure, given a clock.

    Full buckets are forgotten when the table grows past `max_clients`, so a scan from many
    addresses cannot grow memory without bound.
    """

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000
    ) -> None:
        self.rate, self.burst, self.clock, self.max_clients = per_minute / 60.0, float(burst), clock, max_clients
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client: str) -> float:
        """0 if `client` may go ahead (a token is spent), else the seconds until it may."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._forget_full(now)
            bucket = self._buckets[client] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [key for key, b in self._buckets.items() if b.tokens + (now - b.stamp) * self.rate >= self.burst]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]


def limited(scope: Scope) -> bool:
    """The requests that cost a model call: asking through the API, and the chat's event calls."""
    path: str = scope.get("path", "")
    return scope.get("method") == "POST" and (path == "/api/ask" or path.startswith("/gradio_api/"))


class RateLimit:
    """429 with `Retry-After` for a client over its budget; the client is the peer address (after any
    trusted proxy's X-Forwarded-For, which uvicorn applies for FORWARDED_ALLOW_IPS)."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets, per_minute: int, burst: int) -> None:
        self.app, self.buckets, self.per_minute, self.burst = app, buckets, per_minute, burst

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and limited(scope):
            client = scope.get("client")
            wait = self.buckets.take(client[0] if client else "unknown")
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                detail = (
                    f"too many requests from this client (at most {self.per_minute} a minute, {self.burst} at once);"
                    f" try again in {seconds} s"
                )
                await error_response(429, detail, {"Retry-After": str(seconds)})(scope, receive, send)
                return
        await self.app(scope, receive, send)
