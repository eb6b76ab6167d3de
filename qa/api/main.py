"""Wires the routers into one FastAPI app, with its docs page; nothing else lives here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from starlette.routing import Match, Mount
from swagger_ui_bundle import swagger_ui_path

from qa.api import errors
from qa.api.accesslog import AccessLog
from qa.api.headers import SecurityHeaders, add_cors
from qa.api.limits import BodyLimit, RateLimit, TokenBuckets
from qa.api.routes import ask, health
from qa.config import Settings
from qa.pipeline import AskPipeline
from qa.service import QAService

if TYPE_CHECKING:
    from qa.engine import Engine

DOCS_ASSETS = "/docs-assets"
"""Where the Swagger UI files (from the `swagger-ui-bundle-v2` package) are served."""
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""The server exports no OpenTelemetry: without this, FastAPI asks OpenTelemetry's global providers on every
request whether anyone listens (6.7% of the interpreter's time under load, measured with py-spy)."""
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY"]


def create_app(service: QAService, settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The API over `service`; with an `engine` and `settings.admin_token`, the admin routes too (else 404)."""
    app = FastAPI(
        title="Infant seizures Q&A",
        summary="Verbatim, cited answers from curated consumer-health content.",
        version="0.1.0",
        docs_url=None,  # FastAPI's own pages load their scripts from a CDN: replaced by `_add_docs`
        redoc_url=None,
        telemetry=NO_TELEMETRY,
    )
    app.state.service, app.state.settings = service, settings
    app.state.pipeline = AskPipeline(service)
    app.include_router(ask.router, prefix="/api")
    app.include_router(health.router, prefix="/api")
    if engine is not None and settings.admin_token:
        from qa.api.routes import admin

        app.state.engine, app.state.admin_token = engine, settings.admin_token.get_secret_value()
        app.include_router(admin.router, prefix="/api")
    _add_docs(app)
    _add_api_fallback(app)  # last: it answers only what no route above did
    errors.install(app)
    _add_middleware(app, settings)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """Around everything, the chat mounted later included; the last added runs first:
    access log, security headers, CORS, rate limit, body limit, then the routes."""
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.rate_limit:
        buckets = TokenBuckets(settings.rate_limit, settings.rate_burst)
        app.add_middleware(RateLimit, buckets=buckets, per_minute=settings.rate_limit, burst=settings.rate_burst)
    add_cors(app, settings.cors_origins)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)


def _add_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from files in a Python package, so the page works on a machine with no internet."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")  # behind a proxy that serves the app under a prefix
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # else Swagger UI may send the schema to its online validator
        )


def _add_api_fallback(app: FastAPI) -> None:
    """Any /api path no route took: a JSON 405 with `Allow` for a wrong method, a JSON 404 for an unknown path.

    Without it the chat, mounted at "/", would answer `GET /api/ask` with its own HTML 404.
    """
    app.add_api_route("/api/{rest:path}", _api_fallback, methods=_METHODS, include_in_schema=False)


def _api_fallback(request: Request) -> JSONResponse:
    path, allowed = request.url.path, _allowed_methods(request)
    if not allowed:
        return errors.error_response(404, f"no API endpoint at {path}; see /docs")
    detail = f"{request.method} is not allowed on {path}; use {' or '.join(allowed)} (see /docs)"
    return errors.error_response(405, detail, {"Allow": ", ".join(allowed)})


def _allowed_methods(request: Request) -> list[str]:
    """The methods some API route would take at the request's path: each is tried against every route.

    Mounts are left out: the chat at "/" and the docs files take any method at any path below them.
    """
    routes = [
        route
        for route in request.app.router.routes
        if not isinstance(route, Mount) and getattr(route, "endpoint", None) is not _api_fallback
    ]

    def taken(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] is Match.FULL for route in routes)

    return [method for method in _METHODS if taken(method)]
