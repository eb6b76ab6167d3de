"""The whole web product on one port: the JSON API at /api (OpenAPI at /docs) and the chat at /.

One process and one port, so `qa serve` is all a deployment needs.
"""

from __future__ import annotations

from fastapi import FastAPI

from qa.api import create_app
from qa.config import Settings
from qa.embedder import Embedder
from qa.engine import Engine
from qa.service import QAService


def create_web_app(service: QAService, settings: Settings, engine: Engine | None = None) -> FastAPI:
    # Imported here, so the API alone never pays for Gradio (ui sets Gradio's offline switches first).
    from ui import mount_chat

    return mount_chat(create_app(service, settings, engine), service, settings)


def served_app(settings: Settings, embedder: Embedder | None = None) -> FastAPI:
    """What `qa serve` runs: an engine that follows `CURRENT` (so a build made current by any process
    or `qa index` is served within seconds), the API with its admin routes, and the chat."""
    from qa import logs

    logs.configure()
    engine = Engine(settings, embedder)
    engine.watch()
    return create_web_app(engine.service, settings, engine)


def engine_app() -> FastAPI:
    """Factory for `uvicorn --factory` workers (`qa serve --workers N`): each loads its own engine."""
    from qa.config import get_settings

    return served_app(get_settings())
