"""Wires the routers into one FastAPI app; nothing else lives here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from qa.api import errors
from qa.api.routes import ask, health
from qa.service import QAService

if TYPE_CHECKING:
    from qa.engine import Engine


def create_app(service: QAService, engine: Engine | None = None, admin_token: str | None = None) -> FastAPI:
    """The API over `service`; with an `engine` and an `admin_token`, the admin routes too (else they are 404)."""
    app = FastAPI(
        title="Infant seizures Q&A",
        summary="Verbatim, cited answers from curated consumer-health content.",
        version="0.1.0",
    )
    app.state.service = service
    app.include_router(ask.router, prefix="/api")
    app.include_router(health.router, prefix="/api")
    if engine is not None and admin_token:
        from qa.api.routes import admin

        app.state.engine, app.state.admin_token = engine, admin_token
        app.include_router(admin.router, prefix="/api")
    errors.install(app)
    return app
