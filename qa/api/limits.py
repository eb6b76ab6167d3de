"""Limits every request meets before any route runs: a body size cap (413) and a per-client rate (429).

Both are plain ASGI middlewares over the whole app, the chat's Gradio endpoints included, so one
setting holds for every front end. Both answer in the API's one error shape.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.api.asgi import HTTPMiddleware
from qa.api.errors import error_response

__all__ = ["BodyLimit", "RateLimit", "TokenBuckets", "client_key", "limited"]


_CLOSE = {"Connection": "close"}


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes; send a shorter one (a question is 1000 characters at most)"


class BodyLimit(HTTPMiddleware):
    """Refuse a body over `limit` bytes: at once from its Content-Length, else as soon as the count passes it.

    A 20 MB body is never read into memory: a declared length over the limit is answered before the
    app runs; a chunked one is cut off at the first chunk past the limit, the 413 sent from here and
    the app told the client left, so nothing is raised through the app (or through a stream it is
    already sending). Any response sent before the body was read whole closes the connection, so an
    unread body is never drained on a kept-alive one.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        super().__init__(app)
        self.limit = limit

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.limit:
            await error_response(413, _too_large(self.limit), _CLOSE)(scope, receive, send)
            return
        seen, started, replaced = 0, False, False
        read = declared in ("", "0") and "transfer-encoding" not in headers  # no body: nothing left unread

        async def counted() -> Message:
            nonlocal seen, read, replaced
            if replaced:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                read = read or not message.get("more_body", False)
                if seen > self.limit:
                    if not started:
                        replaced = True
                        await error_response(413, _too_large(self.limit), _CLOSE)(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if replaced:  # the app's own reply to a body it never got: the 413 went instead
                return
            if message["type"] == "http.response.start":
                started = True
                if not read:
                    MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not replaced:  # an app that fails on the "client left" it was told about: the 413 is sent
                raise


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBuckets:
    """One token bucket per client: `burst` requests at once, refilled at `per_minute`. Pure, given a clock.

    At most `max_clients` are kept, the least recently seen dropped first, so a scan from many
    addresses cannot grow memory, and no request ever walks the table.
    """

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000
    ) -> None:
        self.rate, self.burst, self.clock, self.max_clients = per_minute / 60.0, float(burst), clock, max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str) -> float:
        """0 if `client` may go ahead (a token is spent), else the seconds until it may."""
        now = self.clock()
        bucket = self._buckets.pop(client, None) or _Bucket(self.burst, now)
        self._buckets[client] = bucket  # now the most recently seen
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


def client_key(host: str) -> str:
    """Whom a budget belongs to: an IPv6 client holds a whole /64, so that is one client."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def limited(scope: Scope) -> bool:
    """The requests that cost a model call (asking through the API, the chat's event calls) and the admin ones."""
    path: str = scope.get("path", "")
    return scope.get("method") == "POST" and (
        path == "/api/ask" or path.startswith(("/gradio_api/", "/api/admin/"))  # admin too: no free token guessing
    )


class RateLimit(HTTPMiddleware):
    """429 with `Retry-After` for a client over its budget; the client is the peer address (after any
    trusted proxy's X-Forwarded-For, which uvicorn applies for FORWARDED_ALLOW_IPS)."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets, per_minute: int, burst: int) -> None:
        super().__init__(app)
        self.buckets, self.per_minute, self.burst = buckets, per_minute, burst

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if limited(scope):
            client = scope.get("client")
            wait = self.buckets.take(client_key(client[0]) if client else "unknown")
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                detail = (
                    f"too many requests from this client (at most {self.per_minute} a minute, {self.burst} at once);"
                    f" try again in {seconds} s"
                )
                await error_response(429, detail, {"Retry-After": str(seconds)})(scope, receive, send)
                return
        await self.app(scope, receive, send)
