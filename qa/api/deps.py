"""Shared dependencies of the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qa.config import Settings
from qa.service import QAService


def _service(request: Request) -> QAService:
    service: QAService = request.app.state.service
    return service


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServiceDep = Annotated[QAService, Depends(_service)]
SettingsDep = Annotated[Settings, Depends(_settings)]
