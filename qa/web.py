"""The whole web product on one port: the JSON API at /api (OpenAPI at /docs) and the chat at /.

One process and one port, so `qa serve` is all a deployment needs.
"""

from __future__ import annotations

from fastapi import FastAPI

from qa.api import create_app
from qa.config import Settings
from qa.service import QAService


def create_web_app(service: QAService, settings: Settings) -> FastAPI:
    # Imported here, so the API alone never pays for Gradio (ui sets Gradio's offline switches first).
    from ui import mount_chat

    return mount_chat(create_app(service), service, settings)
