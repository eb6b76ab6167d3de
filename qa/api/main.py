"""Wires the routers into one FastAPI app; nothing else lives here."""

from __future__ import annotations

from fastapi import FastAPI

from qa.api import errors
from qa.api.routes import ask, health
from qa.service import QAService


def create_app(service: QAService) -> FastAPI:
    app = FastAPI(
        title="Infant seizures Q&A",
        summary="Verbatim, cited answers from curated consumer-health content.",
        version="0.1.0",
    )
    app.state.service = service
    app.include_router(ask.router, prefix="/api")
    app.include_router(health.router, prefix="/api")
    errors.install(app)
    return app
