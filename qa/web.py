"""The whole web product on one port: the JSON API at /api (OpenAPI at /docs) and the chat at /.

One process and one port, so `qa serve` is all a deployment needs. The chat is a Gradio app
mounted last: FastAPI matches routes in order, so /api/*, /docs and /openapi.json keep winning.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from qa.api import create_app
from qa.config import Settings
from qa.service import QAService


def create_web_app(service: QAService, settings: Settings) -> FastAPI:
    # Gradio is imported here, so the API alone never pays for it; telemetry off before it loads.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from ui import build_chat, mount_options

    app: FastAPI = gr.mount_gradio_app(create_app(service), build_chat(service, settings), path="/", **mount_options())
    return app
