"""Browser-facing headers: security headers on every response, and CORS closed unless configured.

The Content-Security-Policy is the tightest the chat still works under (checked by the browser
tests, which fail on any console error). Gradio's page carries its config in an inline script and
runs the `js_on_load` / `js=` snippets through `new Function`, so scripts need 'unsafe-inline' and
'unsafe-eval'; everything else is this origin only, and no other site may frame the page.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from qa.api.asgi import HTTPMiddleware

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeaders", "add_cors"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
_EVERY_RESPONSE = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_HTML = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders(HTTPMiddleware):
    """Adds the headers above; API answers also get `Cache-Control: no-store` (they hold health questions)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = scope.get("path", "").startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _EVERY_RESPONSE.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in _HTML.items():
                        headers[name] = value
                if api:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def add_cors(app: FastAPI, origins: list[str]) -> None:
    """Let pages on `origins` call the API; with none, no cross-origin page may.

    The middleware is added even with no origins: Gradio's own CORS layer steps aside only when
    the parent app has one, and on a non-localhost host it would otherwise allow every origin.
    """
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        expose_headers=["Retry-After", "X-Disclaimer", "X-Request-ID"],
    )
