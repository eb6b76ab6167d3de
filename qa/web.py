"""The whole web product on one port: the JSON API at /api (OpenAPI at /docs) and the chat at /.

One process and one port, so `qa serve` is all a deployment needs.
"""

from __future__ import annotations

from fastapi import FastAPI

from qa.api import create_app
from qa.config import Settings
from qa.engine import Engine
from qa.service import QAService


def create_web_app(service: QAService, settings: Settings, engine: Engine | None = None) -> FastAPI:
    # Imported here, so the API alone never pays for Gradio (ui sets Gradio's offline switches first).
    from ui import mount_chat

    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    return mount_chat(create_app(service, engine, token), service, settings)


def engine_app() -> FastAPI:
    """Factory for `uvicorn --factory` workers (`qa serve --workers N`): each loads the engine and watches
    `CURRENT`, so a build made current by any worker or by `qa index` is served by all within seconds."""
    from qa.config import get_settings

    settings = get_settings()
    engine = Engine(settings)
    engine.watch()
    return create_web_app(engine.service, settings, engine)
