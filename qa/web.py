"""The whole web product on one port: the JSON API, plus the chat when the ui package is present."""

from __future__ import annotations

from fastapi import FastAPI

from qa.api import create_app
from qa.config import Settings
from qa.service import QAService


def create_web_app(service: QAService, settings: Settings) -> FastAPI:
    return create_app(service)
